#include "core/provider/curl_http_client.h"

#include <curl/curl.h>
#include <event2/event.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "core/common/ascii.h"

namespace llmeval::provider {
namespace {

// One request in flight. Owned by the client between send() and completion.
struct Transfer {
  CURL* easy = nullptr;
  curl_slist* header_list = nullptr;
  HttpRequest request;  // keeps the body alive: libcurl reads it in place (POSTFIELDS)
  HttpResponse response;
  HttpCallback callback;
  std::size_t max_body = 0;
  bool body_too_large = false;
  char error_text[CURL_ERROR_SIZE] = {};  // libcurl's detailed message for a failure
  // Streaming (HttpRequest::body_file, form, save_to); all unused by an ordinary request.
  std::FILE* upload = nullptr;    // body_file, read by on_read
  curl_mime* mime = nullptr;      // form
  std::FILE* download = nullptr;  // save_to, opened at the first byte of a 2xx body
  bool to_file = false;           // this reply's body goes to save_to (decided at its first byte)
  bool body_started = false;
  std::string io_error;  // a local file failure: the transfer fails with kIo and this message
};

// "could not write /tmp/x: No space left on device".
std::string file_error(const char* what, const std::string& path, int error_number) {
  return std::string("could not ") + what + " " + path + ": " + std::strerror(error_number);
}

// The first byte of the body decides where all of it goes: the status is known by then.
bool start_body(Transfer& t) {
  t.body_started = true;
  if (t.request.save_to.empty()) return true;
  long status = 0;
  curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &status);
  if (status < 200 || status > 299) return true;
  t.to_file = true;
  t.download = std::fopen(t.request.save_to.c_str(), "wb");
  if (t.download == nullptr) {
    t.io_error = file_error("create", t.request.save_to, errno);
    return false;
  }
  return true;
}

// One socket libcurl asked us to watch.
struct SocketWatch {
  event* ev = nullptr;
};

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  std::size_t n = size * count;
  if (!transfer->body_started && !start_body(*transfer)) return 0;
  if (transfer->to_file) {
    if (std::fwrite(data, 1, n, transfer->download) != n) {
      transfer->io_error = file_error("write", transfer->request.save_to, errno);
      return 0;  // CURLE_WRITE_ERROR
    }
    return n;
  }
  if (transfer->response.body.size() + n > transfer->max_body) {
    transfer->body_too_large = true;
    return 0;  // makes libcurl fail the transfer with CURLE_WRITE_ERROR
  }
  transfer->response.body.append(data, n);
  return n;
}

// Streams body_file. libcurl asks for at most size * count bytes at a time.
std::size_t on_read(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  std::size_t n = std::fread(buffer, 1, size * count, transfer->upload);
  if (n == 0 && std::ferror(transfer->upload) != 0) {
    transfer->io_error = file_error("read", transfer->request.body_file, errno);
    return CURL_READFUNC_ABORT;
  }
  return n;
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  std::size_t n = size * count;
  std::string_view line(data, n);
  if (line.rfind("HTTP/", 0) == 0) {
    transfer->response.headers.clear();  // a new response (after 100-continue or a redirect)
    return n;
  }
  auto colon = line.find(':');
  if (colon == std::string_view::npos) return n;
  std::string name = ascii_lower(line.substr(0, colon));
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
    value.remove_suffix(1);
  }
  transfer->response.headers.emplace_back(std::move(name), std::string(value));
  return n;
}

// "8 MiB (8388608 bytes)".
std::string size_text(std::size_t bytes) {
  std::string exact = std::to_string(bytes) + " bytes";
  if (bytes < 1024 * 1024 || bytes % (1024 * 1024) != 0) return exact;
  return std::to_string(bytes / (1024 * 1024)) + " MiB (" + exact + ")";
}

Error transport_error(CURLcode code, const Transfer& transfer, const char* detail) {
  std::string what = detail[0] != '\0' ? detail : curl_easy_strerror(code);
  std::string where = " (" + transfer.request.method + " " + transfer.request.url + ")";
  if (!transfer.io_error.empty()) return {ErrorKind::kIo, transfer.io_error + where, {}};
  // Over the cap, announced by Content-Length (FILESIZE_EXCEEDED) or found while reading. A
  // judge reply is a few KiB, so this is a broken server or a wrong URL: kServer, like any
  // other unusable reply (retried, counted by the breaker, then a provider_error row).
  if (transfer.body_too_large || code == CURLE_FILESIZE_EXCEEDED) {
    return {ErrorKind::kServer,
            "reply body over the " + size_text(transfer.max_body) +
                " limit, so it was dropped; a judge reply is a few KiB: check that base_url points at the API" + where,
            {}};
  }
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      return {ErrorKind::kTimeout,
              "no reply within " + std::to_string(transfer.request.timeout.count()) + "ms" + where,
              {}};
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_SSL_CONNECT_ERROR: return {ErrorKind::kConnect, what + where, {}};
    case CURLE_PARTIAL_FILE:  // the connection closed before the Content-Length was read
      return {ErrorKind::kConnect, "reply cut short: " + what + where, {}};
    default: break;
  }
  return {ErrorKind::kIo, what + where, {}};
}

class CurlHttpClient final : public HttpClient {
 public:
  CurlHttpClient(LibeventLoop& loop, CurlHttpClientOptions options) : base_(loop.base()), options_(options) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    multi_ = curl_multi_init();
    timer_ = evtimer_new(base_, &CurlHttpClient::on_timer_event, this);
    curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &CurlHttpClient::on_socket);
    curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &CurlHttpClient::on_timer);
    curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
    curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, options_.max_connections);
    curl_multi_setopt(multi_, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
  }

  ~CurlHttpClient() override {
    for (Transfer* transfer : in_flight_) {
      curl_multi_remove_handle(multi_, transfer->easy);
      release(transfer);
    }
    for (CURL* easy : idle_handles_) curl_easy_cleanup(easy);
    curl_multi_cleanup(multi_);
    // libcurl closes its sockets without always reporting CURL_POLL_REMOVE first.
    for (SocketWatch* watch : watches_) {
      event_free(watch->ev);
      delete watch;
    }
    event_free(timer_);
  }

  CurlHttpClient(const CurlHttpClient&) = delete;
  CurlHttpClient& operator=(const CurlHttpClient&) = delete;

  void send(HttpRequest request, HttpCallback callback) override {
    auto* transfer = new Transfer();
    transfer->request = std::move(request);
    transfer->callback = std::move(callback);
    transfer->max_body = options_.max_body_bytes;
    transfer->easy = take_handle();
    std::string problem = configure(*transfer);
    CURLMcode rc = problem.empty() ? curl_multi_add_handle(multi_, transfer->easy) : CURLM_OK;
    if (problem.empty() && rc != CURLM_OK) problem = std::string("could not start request: ") + curl_multi_strerror(rc);
    if (!problem.empty()) {
      auto done = std::move(transfer->callback);
      release(transfer);
      done(Error{ErrorKind::kIo, problem, {}});
      return;
    }
    in_flight_.insert(transfer);
  }

 private:
  // Easy handles are pooled: curl_easy_reset keeps nothing of the last request, and the
  // connection cache lives in the multi handle, so reuse only saves the allocations.
  CURL* take_handle() {
    if (idle_handles_.empty()) return curl_easy_init();
    CURL* easy = idle_handles_.back();
    idle_handles_.pop_back();
    curl_easy_reset(easy);
    return easy;
  }

  // Sets the handle up for t; the reason when it cannot be (a body file that does not open).
  std::string configure(Transfer& t) {
    CURL* easy = t.easy;
    const HttpRequest& req = t.request;
    curl_easy_setopt(easy, CURLOPT_URL, req.url.c_str());
    curl_easy_setopt(easy, CURLOPT_PRIVATE, &t);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(req.timeout.count()));
    curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_2TLS);
    curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &on_body);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &on_header);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, t.error_text);
    // Refuses a reply whose Content-Length is over the cap before reading any of it; on_body
    // catches the rest (chunked replies, lying lengths). A reply saved to a file has no cap, and
    // its status is not known yet: on_body holds an error reply to the cap instead.
    if (req.save_to.empty()) {
      curl_easy_setopt(easy, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(t.max_body));
    }
    if (!req.form.empty()) {
      if (std::string problem = configure_form(t); !problem.empty()) return problem;
      if (req.method != "POST") curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, req.method.c_str());
    } else if (!req.body_file.empty()) {
      if (std::string problem = configure_body_file(t); !problem.empty()) return problem;
      if (req.method != "POST") curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, req.method.c_str());
    } else if (req.method == "POST") {
      curl_easy_setopt(easy, CURLOPT_POSTFIELDS, req.body.data());
      curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
    } else if (req.method != "GET") {
      curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, req.method.c_str());
    }
    for (const auto& [name, value] : req.headers) {
      // A multipart body's Content-Type carries curl's boundary: the caller's would break it.
      if (!req.form.empty() && ascii_lower(name) == "content-type") continue;
      std::string line = name + ": " + value;
      t.header_list = curl_slist_append(t.header_list, line.c_str());
    }
    // Large JSON bodies must not wait a second for a "100 Continue" that never comes.
    t.header_list = curl_slist_append(t.header_list, "Expect:");
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, t.header_list);
    return {};
  }

  // POSTs body_file, read as it goes (POSTFIELDSIZE_LARGE: a Content-Length, not chunked).
  static std::string configure_body_file(Transfer& t) {
    const std::string& path = t.request.body_file;
    t.upload = std::fopen(path.c_str(), "rb");
    if (t.upload == nullptr) return file_error("open", path, errno);
    if (std::fseek(t.upload, 0, SEEK_END) != 0) return file_error("read", path, errno);
    long long size = std::ftell(t.upload);
    if (size < 0 || std::fseek(t.upload, 0, SEEK_SET) != 0) return file_error("read", path, errno);
    curl_easy_setopt(t.easy, CURLOPT_POST, 1L);
    curl_easy_setopt(t.easy, CURLOPT_READFUNCTION, &on_read);
    curl_easy_setopt(t.easy, CURLOPT_READDATA, &t);
    curl_easy_setopt(t.easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(size));
    return {};
  }

  // multipart/form-data; a file part is read from disk while it is sent (curl_mime_filedata).
  static std::string configure_form(Transfer& t) {
    t.mime = curl_mime_init(t.easy);
    for (const FormPart& field : t.request.form) {
      curl_mimepart* part = curl_mime_addpart(t.mime);
      curl_mime_name(part, field.name.c_str());
      if (!field.file_path.empty()) {
        // libcurl would only notice a missing file mid-transfer, as a vaguer read error.
        if (std::FILE* probe = std::fopen(field.file_path.c_str(), "rb")) {
          std::fclose(probe);
        } else {
          return file_error("open", field.file_path, errno);
        }
        curl_mime_filedata(part, field.file_path.c_str());
        if (!field.filename.empty()) curl_mime_filename(part, field.filename.c_str());
      } else {
        curl_mime_data(part, field.value.data(), field.value.size());
        if (!field.filename.empty()) curl_mime_filename(part, field.filename.c_str());
      }
      if (!field.content_type.empty()) curl_mime_type(part, field.content_type.c_str());
    }
    curl_easy_setopt(t.easy, CURLOPT_MIMEPOST, t.mime);
    return {};
  }

  void release(Transfer* transfer) {
    curl_slist_free_all(transfer->header_list);
    if (transfer->mime != nullptr) curl_mime_free(transfer->mime);
    if (transfer->upload != nullptr) std::fclose(transfer->upload);
    if (transfer->download != nullptr) std::fclose(transfer->download);
    idle_handles_.push_back(transfer->easy);
    delete transfer;
  }

  // A 2xx reply saved to a file: the file is complete (and exists even when the body was
  // empty) before the callback sees the reply. Empty when it is, else why not.
  static std::string finish_saved_body(Transfer& t) {
    long status = t.response.status;
    if (t.request.save_to.empty() || status < 200 || status > 299) return {};
    if (t.download == nullptr) t.download = std::fopen(t.request.save_to.c_str(), "wb");
    if (t.download == nullptr) return file_error("create", t.request.save_to, errno);
    int closed = std::fclose(t.download);
    t.download = nullptr;
    return closed == 0 ? std::string() : file_error("write", t.request.save_to, errno);
  }

  // Collects finished transfers. Callbacks run after the handle left the multi, so a callback
  // may send() again right away.
  void finish_done_transfers() {
    int pending = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi_, &pending)) {
      if (msg->msg != CURLMSG_DONE) continue;
      Transfer* t = nullptr;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &t);
      CURLcode code = msg->data.result;
      curl_multi_remove_handle(multi_, t->easy);
      in_flight_.erase(t);
      if (code == CURLE_OK) {
        curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &t->response.status);
        t->io_error = finish_saved_body(*t);
        if (!t->io_error.empty()) code = CURLE_WRITE_ERROR;
      }
      Result<HttpResponse> result = code == CURLE_OK ? Result<HttpResponse>(std::move(t->response))
                                                     : Result<HttpResponse>(transport_error(code, *t, t->error_text));
      auto callback = std::move(t->callback);
      release(t);
      callback(std::move(result));
    }
  }

  static int on_socket(CURL*, curl_socket_t fd, int what, void* client_ptr, void* watch_ptr) {
    auto* self = static_cast<CurlHttpClient*>(client_ptr);
    auto* watch = static_cast<SocketWatch*>(watch_ptr);
    if (what == CURL_POLL_REMOVE) {
      if (watch != nullptr) {
        event_free(watch->ev);
        self->watches_.erase(watch);
        delete watch;
      }
      return 0;
    }
    if (watch == nullptr) {
      watch = new SocketWatch();
      self->watches_.insert(watch);
      curl_multi_assign(self->multi_, fd, watch);
    } else {
      event_free(watch->ev);
    }
    short events = EV_PERSIST;
    if (what & CURL_POLL_IN) events |= EV_READ;
    if (what & CURL_POLL_OUT) events |= EV_WRITE;
    watch->ev = event_new(self->base_, fd, events, &CurlHttpClient::on_socket_event, self);
    event_add(watch->ev, nullptr);
    return 0;
  }

  static void on_socket_event(evutil_socket_t fd, short events, void* arg) {
    auto* self = static_cast<CurlHttpClient*>(arg);
    int flags = 0;
    if (events & EV_READ) flags |= CURL_CSELECT_IN;
    if (events & EV_WRITE) flags |= CURL_CSELECT_OUT;
    int running = 0;
    curl_multi_socket_action(self->multi_, fd, flags, &running);
    self->finish_done_transfers();
  }

  static int on_timer(CURLM*, long timeout_ms, void* arg) {
    auto* self = static_cast<CurlHttpClient*>(arg);
    if (timeout_ms < 0) {
      evtimer_del(self->timer_);
      return 0;
    }
    timeval tv{static_cast<time_t>(timeout_ms / 1000), static_cast<suseconds_t>((timeout_ms % 1000) * 1000)};
    evtimer_add(self->timer_, &tv);
    return 0;
  }

  static void on_timer_event(evutil_socket_t, short, void* arg) {
    auto* self = static_cast<CurlHttpClient*>(arg);
    int running = 0;
    curl_multi_socket_action(self->multi_, CURL_SOCKET_TIMEOUT, 0, &running);
    self->finish_done_transfers();
  }

  event_base* base_;
  CurlHttpClientOptions options_;
  CURLM* multi_ = nullptr;
  event* timer_ = nullptr;
  std::unordered_set<Transfer*> in_flight_;
  std::unordered_set<SocketWatch*> watches_;
  std::vector<CURL*> idle_handles_;
};

}  // namespace

std::unique_ptr<HttpClient> make_curl_http_client(LibeventLoop& loop, CurlHttpClientOptions options) {
  return std::make_unique<CurlHttpClient>(loop, options);
}

}  // namespace llmeval::provider
