// HttpClient: asynchronous HTTP requests. Providers build HttpRequests and map HttpResponses;
// only CurlHttpClient (curl_http_client.h) touches libcurl.
//
// send() never blocks. The callback runs exactly once, on the loop thread, and may run before
// send() returns only if the request could not even be started. Transport failures come back
// as Error with kind kTimeout (the request's deadline passed), kConnect (could not connect,
// reset, a reply cut short), kServer (a reply body larger than the client's cap: an unusable
// reply) or kIo (anything else). Any HTTP
// status, including 4xx/5xx, is a successful HttpResponse: mapping statuses is the provider's job.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/common/error.h"

namespace llmeval::provider {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method = "POST";
  std::string url;
  Headers headers;  // "Content-Type: application/json" is the caller's to add
  std::string body;
  std::chrono::milliseconds timeout{5000};  // whole attempt, connect included
};

struct HttpResponse {
  long status = 0;
  Headers headers;  // names lower-cased
  std::string body;

  // First header with this lower-case name, or empty.
  std::string_view header(std::string_view lower_name) const {
    for (const auto& [name, value] : headers) {
      if (name == lower_name) return value;
    }
    return {};
  }
};

using HttpCallback = std::function<void(Result<HttpResponse>)>;

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  virtual void send(HttpRequest request, HttpCallback callback) = 0;
};

}  // namespace llmeval::provider
