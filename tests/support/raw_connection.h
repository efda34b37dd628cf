// RawConnection: a blocking TCP client to a server on 127.0.0.1, for tests that need to send
// what an HTTP library will not: a request one byte at a time (slowloris), a Content-Length
// that the body never reaches, a connection that just sits there. It reads whatever the server
// sends back and tells whether (and when) the server closed the connection.
//
// Writes use MSG_NOSIGNAL: a server that hung up gives EPIPE/ECONNRESET, never a SIGPIPE that
// would kill the test binary. Bytes that arrive while send_slowly() is still sending are kept
// and returned by the next read. Owns its socket; one object per thread. The constructor
// throws std::runtime_error when the connection cannot be made; nothing else throws.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

namespace llmeval::testing {

class RawConnection {
 public:
  explicit RawConnection(int port);
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  struct Read {
    std::string data;          // what arrived (including bytes read earlier by send_slowly)
    bool peer_closed = false;  // the server closed the connection (EOF) or reset it
  };

  struct SlowSend {
    std::size_t sent = 0;      // bytes the kernel accepted
    bool peer_closed = false;  // the server closed or reset the connection meanwhile
  };

  // Sends every byte; false when the connection is closed or reset.
  bool send(std::string_view bytes);
  // Sends one byte, then waits per_byte_delay, and so on; while it waits it watches for the
  // server closing the connection (and keeps anything the server sends). With stop_when_closed
  // it returns as soon as the server has closed; otherwise it goes on until a write fails.
  SlowSend send_slowly(std::string_view bytes, std::chrono::milliseconds per_byte_delay, bool stop_when_closed = true);
  // Returns once something arrived, the peer closed, or the deadline passed.
  Read read_some(std::chrono::milliseconds deadline);
  // Reads until the peer closes or the deadline passes (peer_closed says which).
  Read read_until_closed(std::chrono::milliseconds deadline);
  // Reads one HTTP/1.1 response: headers, then a Content-Length body (or up to the close when
  // there is none). Bytes after it stay buffered for the next read. peer_closed as above.
  Read read_response(std::chrono::milliseconds deadline);
  // Half-closes: the server sees EOF on its side of the request stream.
  void shutdown_write();

  // The peer closed (a read saw EOF or a reset, or a write failed).
  bool peer_closed() const { return closed_; }

 private:
  // Waits up to `timeout` for readable data and appends it to pending_; false on timeout.
  bool fill(std::chrono::milliseconds timeout);
  Read take(std::size_t bytes);

  int fd_ = -1;
  std::string pending_;  // received, not yet returned
  bool closed_ = false;
};

}  // namespace llmeval::testing
