// HttpServer: libevent's evhttp on one LibeventLoop, serving one listening socket, with the
// protections evhttp lacks by itself:
//
// - Read deadline (slowloris): from the first byte of a request, its headers and body must
//   arrive within `read_timeout`, or the connection is closed. evhttp's own timeouts count
//   inactivity, which a client sending one byte a second never triggers.
// - Idle deadline: a kept-alive connection on which no byte of a next request arrives within
//   `idle_timeout` is closed.
// - Body size: a body over `max_body` is refused with 413 by evhttp itself as soon as its
//   Content-Length is read (or a chunked body grows past it), without reading the rest. The
//   answers evhttp gives by itself (413, and 400 for a request it cannot parse) carry the same
//   JSON error body as every other answer ({"error": {"kind": "body_too_large", ...}}).
// - Out of descriptors: when accept() fails, the server stops accepting until the next sweep
//   (one warning, and one info line once it accepts again) instead of retrying at once.
//
// Deadlines are checked by a sweep every 100 ms, so they hold to about that. Connections are
// tracked through the bufferevents evhttp creates for them (evhttp_set_bevcb): a callback on the
// input buffer sees the first byte of each request, and a reference of ours keeps each
// bufferevent valid until the sweep sees that evhttp has let go of it.
//
// Each request read in full becomes an HttpExchange handed to `handler`. `observer` sees every
// exchange when it is answered (logs, metrics). Loop thread only; `loop` and `clock` must outlive
// the server. The destructor closes every connection; exchanges still held are detached.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>

#include "core/common/clock.h"
#include "core/common/event_loop.h"
#include "core/metrics/series.h"
#include "core/server/http_exchange.h"

namespace llmeval::server {

struct HttpServerOptions {
  std::size_t max_body = 8u << 20;     // --max-body
  std::size_t max_headers = 64u << 10;  // request line + headers; evhttp answers 400 beyond it
  std::chrono::milliseconds read_timeout{30000};
  std::chrono::milliseconds idle_timeout{60000};
  metrics::Gauge* open_connections = nullptr;  // optional; client connections open, +1/-1
};

using HttpHandler = std::function<void(std::shared_ptr<HttpExchange>)>;

class HttpServer {
 public:
  // Takes ownership of listen_fd (non-blocking, listening).
  HttpServer(LibeventLoop& loop, Clock& clock, int listen_fd, HttpServerOptions options, HttpHandler handler,
             HttpExchange::AnsweredFn observer);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  std::size_t open_connections() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace llmeval::server
