// HttpExchange: one HTTP request read in full by the HttpServer, until it is answered. The
// handler gets it as a shared_ptr and may answer at once or later, from any loop callback (the
// answer to an evaluation comes when its judge calls are done).
//
// If the connection goes away first (the server shuts down), the exchange is detached and
// respond() does nothing. Every answer carries `X-Request-Id`: the client's own when it is a
// sane token (1..128 of [A-Za-z0-9._:-]), else a generated one. Loop thread only.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/common/clock.h"

struct evhttp_request;

namespace llmeval::server {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

class HttpExchange {
 public:
  // Called once, when the exchange is answered (status 0: the connection went away first).
  using AnsweredFn = std::function<void(const HttpExchange&, int status)>;

  HttpExchange(evhttp_request* request, std::string request_id, Clock::TimePoint read_at, AnsweredFn answered);
  ~HttpExchange();  // an exchange dropped unanswered gets a 500, so no client waits forever
  HttpExchange(const HttpExchange&) = delete;
  HttpExchange& operator=(const HttpExchange&) = delete;

  const std::string& method() const { return method_; }
  const std::string& path() const { return path_; }
  const std::string& request_id() const { return request_id_; }
  Clock::TimePoint read_at() const { return read_at_; }
  // The value of a request header (case-insensitive name), empty when absent.
  std::string_view header(const char* name) const;
  // The request body, contiguous (valid until the exchange is answered).
  std::string_view body() const;

  bool answered() const { return answered_; }
  void respond(int status, std::string_view content_type, std::string_view body, const HeaderList& headers = {});
  // {"error": {"kind", "message"}} with the status, plus the extra headers (Retry-After, ...).
  void respond_error(int status, std::string_view kind, std::string_view message, const HeaderList& headers = {});

  // The connection closed under the exchange: nothing can be answered any more (the answered
  // function still runs, with status 0, and then the gone function, if any).
  void detach();
  // Runs fn if the client goes away before the exchange is answered (it hung up, or the
  // connection closed): the work for the answer can stop. At most once.
  void on_gone(std::function<void()> fn) { gone_fn_ = std::move(fn); }
  // The client hung up (the server saw the end of its stream); the answer may still be written
  // (and fail). Runs the gone function.
  void client_gone() {
    if (gone_fn_) std::exchange(gone_fn_, nullptr)();
  }

 private:
  evhttp_request* request_;
  std::string method_;
  std::string path_;
  std::string request_id_;
  Clock::TimePoint read_at_;
  AnsweredFn answered_fn_;
  std::function<void()> gone_fn_;
  bool answered_ = false;
};

// A request id that a client sent and may be echoed (logs and headers stay clean).
bool acceptable_request_id(std::string_view id);

}  // namespace llmeval::server
