#include "core/batch/anthropic_batch_api.h"

#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "core/batch/batch_http.h"
#include "core/provider/http_status.h"

namespace llmeval::batch {
namespace {

using nlohmann::json;

// MessageBatch (anthropic-sdk-python src/anthropic/types/messages/message_batch.py):
// processing_status in_progress | canceling | ended; request_counts {processing, succeeded,
// errored, canceled, expired} (message_batch_request_counts.py), which sum to the batch's
// requests; results_url once processing ended.
Result<BatchStatus> to_status(const json& batch, const std::string& provider_name) {
  BatchStatus status;
  status.batch_id = string_field(batch, "id");
  status.provider_status = string_field(batch, "processing_status");
  if (status.batch_id.empty() || status.provider_status.empty()) {
    return Error{ErrorKind::kServer,
                 "provider " + provider_name + " answered with a message batch without id or processing_status"};
  }
  status.ended = status.provider_status == "ended";
  if (auto counts = batch.find("request_counts"); counts != batch.end() && counts->is_object()) {
    std::int64_t processing = count_field(*counts, "processing");
    std::int64_t succeeded = count_field(*counts, "succeeded");
    std::int64_t unanswered = count_field(*counts, "errored") + count_field(*counts, "canceled") +
                              count_field(*counts, "expired");
    status.requests_total = processing + succeeded + unanswered;
    status.requests_done = succeeded;
    status.requests_failed = unanswered;
  }
  status.results_url = string_field(batch, "results_url");
  return status;
}

// The HTTP status each error type stands for (docs.claude.com/en/api/errors: 400
// invalid_request_error, 401 authentication_error, 403 permission_error, 404 not_found_error,
// 413 request_too_large, 429 rate_limit_error, 500 api_error, 529 overloaded_error), so that an
// errored batch request gets the kind the same error online would get.
long status_for_type(const std::string& type) {
  if (type == "authentication_error") return 401;
  if (type == "permission_error") return 403;
  if (type == "not_found_error") return 404;
  if (type == "request_too_large") return 413;
  if (type == "rate_limit_error") return 429;
  if (type == "api_error") return 500;
  if (type == "overloaded_error") return 529;
  if (type == "invalid_request_error") return 400;
  return 500;  // a type we do not know: the service's problem, not our request's
}

// "scheme://host[:port]" of an absolute URL, or empty.
std::string origin_of(const std::string& url) {
  auto scheme = url.find("://");
  if (scheme == std::string::npos) return {};
  auto path = url.find('/', scheme + 3);
  return url.substr(0, path);
}

class AnthropicBatchApi final : public BatchApi {
 public:
  AnthropicBatchApi(provider::HttpClient& http, const provider::ProviderConfig& config) {
    auto endpoint = std::make_shared<Endpoint>();
    endpoint->http = &http;
    endpoint->config = config;
    endpoint->headers = anthropic_headers(config);
    endpoint_ = std::move(endpoint);
  }

  const BatchLimits& limits() const override { return limits_; }
  // The create body (anthropic-sdk-python src/anthropic/types/messages/batch_create_params.py).
  std::string_view spool_prefix() const override { return R"({"requests":[)"; }
  std::string_view spool_separator() const override { return ","; }
  std::string_view spool_suffix() const override { return "]}"; }

  // The Message Batches API has no metadata: local_id is not sent. file_id is OpenAI's.
  void submit(const std::string& spool_path, const std::string& /*local_id*/, const std::string& /*file_id*/,
              SubmitCallback done) override {
    provider::HttpRequest request;
    request.url = batches_url();
    request.headers.emplace_back("content-type", "application/json");
    request.body_file = spool_path;
    request.timeout = kTransferTimeout;
    auto endpoint = endpoint_;
    call_json(endpoint_, std::move(request), "a message batch", [endpoint, done = std::move(done)](Result<json> reply) {
      if (!reply.ok()) return done(reply.error());
      std::string id = string_field(reply.value(), "id");
      if (id.empty()) {
        return done(
            Error{ErrorKind::kServer, "provider " + endpoint->config.name + " answered without the batch's id"});
      }
      done(Submitted{"", id});
    });
  }

  // A MessageBatch has no metadata (anthropic-sdk-python types/messages/message_batch.py):
  // nothing names the batch as ours, so none is ever found.
  void find_submitted(const std::string& /*local_id*/, FindCallback done) override { done(std::string()); }

  void retrieve(const std::string& batch_id, StatusCallback done) override {
    provider::HttpRequest request;
    request.method = "GET";
    request.url = batches_url() + "/" + path_escape(batch_id);
    request.timeout = kCallTimeout;
    call_status(std::move(request), std::move(done));
  }

  void cancel(const std::string& batch_id, StatusCallback done) override {
    provider::HttpRequest request;
    request.url = batches_url() + "/" + path_escape(batch_id) + "/cancel";
    request.timeout = kCallTimeout;
    call_status(std::move(request), std::move(done));
  }

  // results_url, as the reference says to fetch results. The key goes with it only to the
  // host it is configured for: a results_url anywhere else is replaced by the SDK's own path,
  // /v1/messages/batches/{id}/results, on the configured host.
  void download(const BatchStatus& status, const std::string& path, DownloadCallback done) override {
    std::string url = status.results_url;
    if (url.empty() || origin_of(url) != origin_of(endpoint_->config.base_url)) {
      url = batches_url() + "/" + path_escape(status.batch_id) + "/results";
    }
    provider::Headers accept{{"Accept", "application/binary"}};  // as the SDK's results() sends
    download_to_file(endpoint_, std::move(url), std::move(accept), path, std::move(done));
  }

  // MessageBatchIndividualResponse (message_batch_individual_response.py): {"custom_id",
  // "result"}, result one of {"type": "succeeded", "message"}, {"type": "errored", "error":
  // ErrorResponse {"type": "error", "error": {"type", "message"}}}, {"type": "canceled"},
  // {"type": "expired"} (message_batch_*_result.py).
  std::optional<BatchResult> parse_result_line(std::string_view line) const override {
    json parsed = json::parse(line.begin(), line.end(), nullptr, false);
    if (parsed.is_discarded() || !parsed.is_object()) return std::nullopt;
    std::string custom_id = string_field(parsed, "custom_id");
    if (custom_id.empty()) return std::nullopt;
    BatchResult result;
    result.custom_id = custom_id;
    const std::string who = "provider " + endpoint_->config.name + " batch request " + custom_id;
    auto outcome = parsed.find("result");
    std::string type = outcome != parsed.end() && outcome->is_object() ? string_field(*outcome, "type") : "";
    if (type == "succeeded") {
      auto message = outcome->find("message");
      if (message != outcome->end() && message->is_object()) {
        result.body = message->dump();
        return result;
      }
      result.body = Error{ErrorKind::kServer, who + " succeeded without a message"};
    } else if (type == "errored") {
      result.body = errored(*outcome, who);
    } else if (type == "expired") {
      result.body = Error{ErrorKind::kTimeout, who + " expired before it was processed"};
    } else if (type == "canceled") {
      result.body = Error{ErrorKind::kServer, who + " was canceled before it was processed"};
    } else {
      result.body = Error{ErrorKind::kServer, who + " has an unknown result type '" + type + "'"};
    }
    return result;
  }

 private:
  std::string batches_url() const { return endpoint_->config.base_url + "/v1/messages/batches"; }

  Error errored(const json& outcome, const std::string& who) const {
    std::string type;
    std::string message;
    if (auto response = outcome.find("error"); response != outcome.end() && response->is_object()) {
      if (auto error = response->find("error"); error != response->end() && error->is_object()) {
        type = string_field(*error, "type");
      }
      message = provider::vendor_message_from_json(*response, endpoint_->config.api_key);
    }
    long status = status_for_type(type);
    Error error{provider::kind_for_status(status),
                who + " errored" + (type.empty() ? "" : " (" + type + ")") + (message.empty() ? "" : ": " + message)};
    error.http_status = static_cast<int>(status);
    return error;
  }

  void call_status(provider::HttpRequest request, StatusCallback done) {
    std::string name = endpoint_->config.name;
    call_json(endpoint_, std::move(request), "a message batch", [name, done = std::move(done)](Result<json> reply) {
      if (!reply.ok()) return done(reply.error());
      done(to_status(reply.value(), name));
    });
  }

  std::shared_ptr<const Endpoint> endpoint_;
  BatchLimits limits_ = limits_of(ApiKind::kAnthropic);
};

}  // namespace

std::unique_ptr<BatchApi> make_anthropic_batch_api(provider::HttpClient& http, const provider::ProviderConfig& config) {
  return std::make_unique<AnthropicBatchApi>(http, config);
}

}  // namespace llmeval::batch
