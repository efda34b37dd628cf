#include "core/server/http_exchange.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include <nlohmann/json.hpp>

namespace llmeval::server {
namespace {

const char* method_name(evhttp_cmd_type type) {
  switch (type) {
    case EVHTTP_REQ_GET: return "GET";
    case EVHTTP_REQ_POST: return "POST";
    case EVHTTP_REQ_HEAD: return "HEAD";
    case EVHTTP_REQ_PUT: return "PUT";
    case EVHTTP_REQ_DELETE: return "DELETE";
    case EVHTTP_REQ_OPTIONS: return "OPTIONS";
    case EVHTTP_REQ_TRACE: return "TRACE";
    case EVHTTP_REQ_CONNECT: return "CONNECT";
    case EVHTTP_REQ_PATCH: return "PATCH";
  }
  return "OTHER";
}

// The reason phrase evhttp would pick, for the statuses we send.
const char* reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Payload Too Large";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
  }
  return nullptr;  // evhttp fills in its own
}

}  // namespace

bool acceptable_request_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

HttpExchange::HttpExchange(evhttp_request* request, std::string request_id, Clock::TimePoint read_at,
                           AnsweredFn answered)
    : request_(request), request_id_(std::move(request_id)), read_at_(read_at), answered_fn_(std::move(answered)) {
  method_ = method_name(evhttp_request_get_command(request));
  const evhttp_uri* uri = evhttp_request_get_evhttp_uri(request);
  const char* path = uri != nullptr ? evhttp_uri_get_path(uri) : nullptr;
  path_ = path != nullptr && *path != '\0' ? path : "/";
}

HttpExchange::~HttpExchange() {
  if (!answered_ && request_ != nullptr) respond_error(500, "internal", "the request was dropped without an answer");
}

std::string_view HttpExchange::header(const char* name) const {
  if (request_ == nullptr) return {};
  const char* value = evhttp_find_header(evhttp_request_get_input_headers(request_), name);
  return value != nullptr ? std::string_view(value) : std::string_view();
}

std::string_view HttpExchange::body() const {
  if (request_ == nullptr) return {};
  evbuffer* input = evhttp_request_get_input_buffer(request_);
  std::size_t length = evbuffer_get_length(input);
  if (length == 0) return {};
  // One copy at most: a body that arrived in several chains is made contiguous in place.
  const unsigned char* data = evbuffer_pullup(input, -1);
  return {reinterpret_cast<const char*>(data), length};
}

void HttpExchange::respond(int status, std::string_view content_type, std::string_view body,
                           const HeaderList& headers) {
  if (answered_) return;
  answered_ = true;
  if (request_ == nullptr) return;
  evkeyvalq* out = evhttp_request_get_output_headers(request_);
  evhttp_add_header(out, "Content-Type", std::string(content_type).c_str());
  evhttp_add_header(out, "X-Request-Id", request_id_.c_str());
  for (const auto& [name, value] : headers) evhttp_add_header(out, name.c_str(), value.c_str());
  evbuffer* buffer = evbuffer_new();
  evbuffer_add(buffer, body.data(), body.size());
  evhttp_request* request = request_;
  request_ = nullptr;  // evhttp owns it again; it is freed once the answer is written
  // Observed before sending: sending may free the connection, and the observer logs this exchange.
  if (answered_fn_) answered_fn_(*this, status);
  evhttp_send_reply(request, status, reason(status), buffer);
  evbuffer_free(buffer);
}

void HttpExchange::respond_error(int status, std::string_view kind, std::string_view message,
                                 const HeaderList& headers) {
  nlohmann::json body = {{"error", {{"kind", kind}, {"message", message}}}};
  respond(status, "application/json",
          body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n", headers);
}

void HttpExchange::detach() {
  request_ = nullptr;
  if (answered_) return;
  answered_ = true;
  if (answered_fn_) answered_fn_(*this, 0);  // 0: nobody could be told
  client_gone();
}

}  // namespace llmeval::server
