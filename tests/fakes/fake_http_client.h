// FakeHttpClient: an HttpClient for provider unit tests. It records every HttpRequest and
// answers each from a queue of scripted Result<HttpResponse>, in order. By default it answers
// synchronously inside send(); given an EventLoop it posts the answer instead, which is how
// CurlHttpClient behaves. With the queue empty it answers Error{kIo, "no scripted response"}.
// Not thread-safe. `loop`, when given, must outlive the client.
#pragma once

#include <cstddef>
#include <deque>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "core/common/error.h"
#include "core/common/event_loop.h"
#include "core/provider/http_client.h"

namespace llmeval::testing {

class FakeHttpClient final : public provider::HttpClient {
 public:
  explicit FakeHttpClient(EventLoop* loop = nullptr) : loop_(loop) {}

  void send(provider::HttpRequest request, provider::HttpCallback callback) override {
    requests_.push_back(std::move(request));
    Result<provider::HttpResponse> result =
        Error{ErrorKind::kIo, "FakeHttpClient: no scripted response"};
    if (!script_.empty()) {
      result = std::move(script_.front());
      script_.pop_front();
    }
    if (loop_ == nullptr) {
      callback(std::move(result));
      return;
    }
    loop_->post([callback = std::move(callback), result = std::move(result)]() mutable {
      callback(std::move(result));
    });
  }

  void push(Result<provider::HttpResponse> result) { script_.push_back(std::move(result)); }

  void push_response(long status, std::string body, provider::Headers headers = {}) {
    provider::HttpResponse response;
    response.status = status;
    response.body = std::move(body);
    response.headers = std::move(headers);  // names lower-case, as CurlHttpClient gives them
    script_.push_back(std::move(response));
  }

  void push_error(ErrorKind kind, std::string message = "scripted transport error") {
    script_.push_back(Error{kind, std::move(message)});
  }

  const std::vector<provider::HttpRequest>& requests() const { return requests_; }
  const provider::HttpRequest& last_request() const {
    if (requests_.empty()) throw std::logic_error("FakeHttpClient: no request was sent");
    return requests_.back();
  }
  std::size_t remaining() const { return script_.size(); }

 private:
  EventLoop* loop_;
  std::deque<Result<provider::HttpResponse>> script_;
  std::vector<provider::HttpRequest> requests_;
};

}  // namespace llmeval::testing
