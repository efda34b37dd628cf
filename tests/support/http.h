// Blocking HTTP for tests (libcurl easy): talk to the fake provider or `llmeval serve` from a
// test body. Only for 127.0.0.1 servers started by the test. Transport failures (refused,
// timed out) come back as status 0 with the curl message in `error`; they do not throw.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace llmeval::testing {

struct HttpReply {
  long status = 0;  // 0: the request did not complete (see error)
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string error;

  // First header with this lower-case name, or empty.
  std::string header(std::string_view lower_name) const;
};

// headers are full lines ("Authorization: Bearer k"). A non-empty body is sent as-is; POST
// with no Content-Type header gets "Content-Type: application/json".
HttpReply http_request(const std::string& method, const std::string& url, const std::string& body = "",
                       const std::vector<std::string>& headers = {},
                       std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace llmeval::testing
