// HttpClient: asynchronous HTTP requests. Providers build HttpRequests and map HttpResponses;
// only CurlHttpClient (curl_http_client.h) touches libcurl.
//
// send() never blocks. The callback runs exactly once, on the loop thread, and may run before
// send() returns only if the request could not even be started. Transport failures come back
// as Error with kind kTimeout (the request's deadline passed), kConnect (could not connect,
// reset, a reply cut short), kServer (a reply body larger than the client's cap: an unusable
// reply) or kIo (anything else, including a body file that cannot be read or a save_to file that
// cannot be written). Any HTTP status, including 4xx/5xx, is a successful HttpResponse: mapping
// statuses is the provider's job.
//
// Large bodies (the batch APIs: files of up to a few hundred MB) never pass through memory:
// body_file and file parts of a multipart `form` are streamed from disk, and save_to streams a
// 2xx reply body to disk. All three are off by default and cost an ordinary request nothing.
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

// One part of a multipart/form-data body (RFC 7578).
struct FormPart {
  std::string name;
  std::string value;         // the part's content, unless file_path is set
  std::string file_path;     // when set, the content is streamed from this file
  std::string filename;      // Content-Disposition filename; a file part defaults to its base name
  std::string content_type;  // empty: none for a value, application/octet-stream for a file
};

struct HttpRequest {
  std::string method = "POST";
  std::string url;
  Headers headers;  // "Content-Type: application/json" is the caller's to add
  std::string body;
  std::chrono::milliseconds timeout{5000};  // whole attempt, connect included
  // When set, the body is streamed from this file instead of `body` (which is then ignored);
  // the file must stay unchanged until the callback.
  std::string body_file;
  // When non-empty, the body is multipart/form-data made of these parts (body and body_file are
  // ignored); the client sets Content-Type with its boundary, replacing any the caller gave.
  std::vector<FormPart> form;
  // When set, a 2xx reply body is streamed into this file (created or truncated; no size cap)
  // and HttpResponse::body stays empty. Any other status keeps its body in memory, under the
  // client's cap, so that the error can be mapped; the file is then not touched.
  std::string save_to;
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
