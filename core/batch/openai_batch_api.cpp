#include "core/batch/openai_batch_api.h"

#include <algorithm>
#include <cctype>
#include <exception>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include <nlohmann/json.hpp>

#include "core/batch/batch_http.h"
#include "core/provider/http_status.h"

namespace llmeval::batch {
namespace {

using nlohmann::json;

// The batch's errors.data[] (BatchError: code, line, message, param), for BatchStatus::failure:
// "line 2: message; line 3: message", the first few only.
std::string failure_text(const json& batch) {
  auto errors = batch.find("errors");
  if (errors == batch.end() || !errors->is_object()) return {};
  auto data = errors->find("data");
  if (data == errors->end() || !data->is_array()) return {};
  std::string out;
  std::size_t shown = 0;
  for (const json& error : *data) {
    if (!error.is_object()) continue;
    if (shown == 5) {
      out += "; and " + std::to_string(data->size() - shown) + " more";
      break;
    }
    if (!out.empty()) out += "; ";
    if (auto line = error.find("line"); line != error.end() && line->is_number_integer()) {
      out += "line " + std::to_string(line->get<std::int64_t>()) + ": ";
    }
    std::string message = string_field(error, "message");
    out += message.empty() ? string_field(error, "code") : message;
    ++shown;
  }
  return out;
}

// Batch (openai-python src/openai/types/batch.py): status validating | failed | in_progress |
// finalizing | completed | expired | cancelling | cancelled; request_counts {total, completed,
// failed} (batch_request_counts.py); output_file_id and error_file_id null until there are any.
Result<BatchStatus> to_status(const json& batch, const std::string& provider_name) {
  BatchStatus status;
  status.batch_id = string_field(batch, "id");
  status.provider_status = string_field(batch, "status");
  // Azure's REST how-to shows "Validating" where its reference and OpenAI's say "validating".
  std::transform(status.provider_status.begin(), status.provider_status.end(), status.provider_status.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (status.batch_id.empty() || status.provider_status.empty()) {
    return Error{ErrorKind::kServer, "provider " + provider_name + " answered with a batch without id or status"};
  }
  const std::string& s = status.provider_status;
  status.ended = s == "completed" || s == "failed" || s == "expired" || s == "cancelled";
  if (auto counts = batch.find("request_counts"); counts != batch.end() && counts->is_object()) {
    status.requests_total = count_field(*counts, "total");
    status.requests_done = count_field(*counts, "completed");
    status.requests_failed = count_field(*counts, "failed");
  }
  if (s == "failed") status.failure = failure_text(batch);
  status.output_file_id = string_field(batch, "output_file_id");
  status.error_file_id = string_field(batch, "error_file_id");
  return status;
}

// BatchRequestOutputError.code (openai-python src/openai/types/batch_request_output.py):
// batch_expired and request_timeout ran out of time; batch_cancelled was never run.
ErrorKind kind_for_code(const std::string& code) {
  if (code == "batch_expired" || code == "request_timeout") return ErrorKind::kTimeout;
  return ErrorKind::kServer;
}

// Where one flavour of the API lives: OpenAI's paths under its /v1 base URL, or Azure's under
// {resource}/openai with an api-version on every call.
struct Routes {
  std::string root;   // the files and batches paths follow it
  std::string query;  // on every URL ("api-version=V"), or empty
  // POST /batches's "endpoint": what the input lines' "url" names.
  std::string batch_endpoint;

  std::string url(std::string_view path, std::string_view extra_query = {}) const {
    std::string out = root;
    out += path;
    if (!query.empty() || !extra_query.empty()) out += '?';
    out += query;
    if (!query.empty() && !extra_query.empty()) out += '&';
    out += extra_query;
    return out;
  }
  std::string content_url(const std::string& file_id) const {
    return url("/files/" + path_escape(file_id) + "/content");
  }
};

class OpenAiBatchApi final : public BatchApi {
 public:
  OpenAiBatchApi(provider::HttpClient& http, const provider::ProviderConfig& config, Routes routes) {
    auto endpoint = std::make_shared<Endpoint>();
    endpoint->http = &http;
    endpoint->config = config;
    endpoint->headers = openai_headers(config);
    endpoint_ = std::move(endpoint);
    routes_ = std::make_shared<const Routes>(std::move(routes));
  }

  const BatchLimits& limits() const override { return limits_; }
  std::string_view spool_prefix() const override { return {}; }
  std::string_view spool_separator() const override { return "\n"; }
  std::string_view spool_suffix() const override { return "\n"; }

  void submit(const std::string& spool_path, const std::string& local_id, const std::string& file_id,
              SubmitCallback done) override {
    if (!file_id.empty()) return create_batch(endpoint_, routes_, file_id, local_id, std::move(done));
    provider::HttpRequest request;
    request.url = routes_->url("/files");
    request.timeout = kTransferTimeout;
    request.form.push_back(form_value("purpose", "batch"));
    provider::FormPart file;
    file.name = "file";
    file.file_path = spool_path;
    file.filename = std::filesystem::path(spool_path).filename().string();
    file.content_type = "application/jsonl";
    request.form.push_back(std::move(file));
    auto endpoint = endpoint_;
    auto routes = routes_;
    call_json(endpoint_, std::move(request), "a file object",
              [endpoint, routes, local_id, done = std::move(done)](Result<json> reply) mutable {
                if (!reply.ok()) return done(reply.error());
                std::string id = string_field(reply.value(), "id");
                if (id.empty()) return done(missing(*endpoint, "the uploaded file's id"));
                create_batch(endpoint, routes, id, local_id, std::move(done));
              });
  }

  // GET /batches?limit=100 (openai-ruby models/batch_list_params.rbi: limit 1..100, cursor
  // `after`), a CursorPage {"data": [Batch...]}: the batch whose metadata names local_id.
  void find_submitted(const std::string& local_id, FindCallback done) override {
    provider::HttpRequest request;
    request.method = "GET";
    request.url = routes_->url("/batches", "limit=100");
    request.timeout = kCallTimeout;
    call_json(endpoint_, std::move(request), "batches", [local_id, done = std::move(done)](Result<json> reply) {
      if (!reply.ok()) return done(reply.error());
      auto data = reply.value().find("data");
      if (data == reply.value().end() || !data->is_array()) return done(std::string());
      for (const auto& batch : *data) {
        auto metadata = batch.find("metadata");
        if (metadata != batch.end() && metadata->is_object() && string_field(*metadata, "llmeval_batch") == local_id) {
          return done(string_field(batch, "id"));
        }
      }
      done(std::string());
    });
  }

  void retrieve(const std::string& batch_id, StatusCallback done) override {
    provider::HttpRequest request;
    request.method = "GET";
    request.url = routes_->url("/batches/" + path_escape(batch_id));
    request.timeout = kCallTimeout;
    call_status(std::move(request), std::move(done));
  }

  void cancel(const std::string& batch_id, StatusCallback done) override {
    provider::HttpRequest request;
    request.url = routes_->url("/batches/" + path_escape(batch_id) + "/cancel");
    request.timeout = kCallTimeout;
    call_status(std::move(request), std::move(done));
  }

  // The output file to path, then the error file after it (downloaded beside it and appended:
  // each file streams to disk, neither passes through memory).
  void download(const BatchStatus& status, const std::string& path, DownloadCallback done) override {
    auto endpoint = endpoint_;
    auto routes = routes_;
    std::string output = status.output_file_id;
    std::string errors = status.error_file_id;
    if (output.empty() && errors.empty()) return done(write_empty(path));
    if (output.empty() || errors.empty()) {
      return download_to_file(endpoint_, routes_->content_url(output.empty() ? errors : output), {}, path,
                              std::move(done));
    }
    std::string second = path + ".part2";
    download_to_file(endpoint_, routes_->content_url(output), {}, path,
                     [endpoint, routes, errors, path, second,
                      done = std::move(done)](Result<std::int64_t> first) mutable {
                       if (!first.ok()) return done(first.error());
                       std::int64_t first_bytes = first.value();
                       download_to_file(endpoint, routes->content_url(errors), {}, second,
                                        [path, second, first_bytes, done = std::move(done)](Result<std::int64_t> got) {
                                          if (!got.ok()) {
                                            std::error_code ignored;
                                            std::filesystem::remove(second, ignored);
                                            return done(got.error());
                                          }
                                          auto appended = append_and_remove(second, path);
                                          if (!appended.ok()) return done(appended.error());
                                          done(first_bytes + appended.value());
                                        });
                     });
  }

  // BatchRequestOutput (openai-python src/openai/types/batch_request_output.py): {"id",
  // "custom_id", "response": null | {"status_code", "request_id", "body"}, "error": null |
  // {"code", "message"}}. A 2xx response's body is the chat completion.
  std::optional<BatchResult> parse_result_line(std::string_view line) const override {
    json parsed = json::parse(line.begin(), line.end(), nullptr, false);
    if (parsed.is_discarded() || !parsed.is_object()) return std::nullopt;
    std::string custom_id = string_field(parsed, "custom_id");
    if (custom_id.empty()) return std::nullopt;
    BatchResult result;
    result.custom_id = custom_id;
    const std::string& key = endpoint_->config.api_key;
    const std::string who = "provider " + endpoint_->config.name + " batch request " + custom_id;
    auto response = parsed.find("response");
    auto error = parsed.find("error");
    if (response != parsed.end() && response->is_object()) {
      long status = response->value("status_code", 0L);
      auto body = response->find("body");
      bool has_body = body != response->end() && !body->is_null();
      if (status >= 200 && status <= 299 && has_body) {
        result.body = body->is_string() ? body->get<std::string>() : body->dump();
        return result;
      }
      std::string message = has_body ? provider::vendor_message_from_json(*body, key) : std::string();
      Error failed{provider::kind_for_status(status),
                   who + " failed with HTTP " + std::to_string(status) + (message.empty() ? "" : ": " + message)};
      failed.http_status = static_cast<int>(status);
      result.body = std::move(failed);
    } else if (error != parsed.end() && error->is_object()) {
      std::string code = string_field(*error, "code");
      std::string message = provider::scrub_secret(string_field(*error, "message"), key);
      result.body = Error{kind_for_code(code),
                          who + " has no response: " + code + (message.empty() ? "" : ": " + message)};
    } else {
      result.body = Error{ErrorKind::kServer, who + " has neither a response nor an error"};
    }
    return result;
  }

 private:
  static provider::FormPart form_value(std::string name, std::string value) {
    provider::FormPart part;
    part.name = std::move(name);
    part.value = std::move(value);
    return part;
  }

  static Error missing(const Endpoint& endpoint, const std::string& what) {
    return Error{ErrorKind::kServer, "provider " + endpoint.config.name + " answered without " + what};
  }

  static Result<std::int64_t> write_empty(const std::string& path) {
    std::FILE* file = std::fopen(path.c_str(), "wb");
    if (file == nullptr || std::fclose(file) != 0) return Error{ErrorKind::kIo, "could not create " + path};
    return std::int64_t{0};
  }

  // POST /batches (openai-python src/openai/types/batch_create_params.py): the endpoint the
  // input lines name (OpenAI "/v1/chat/completions", Azure "/chat/completions"), the only
  // window there is ("24h"), and our id in the metadata so that a batch whose id was lost in a
  // crash can be found in GET /batches.
  static void create_batch(const std::shared_ptr<const Endpoint>& endpoint, const std::shared_ptr<const Routes>& routes,
                           const std::string& file_id, const std::string& local_id, SubmitCallback done) {
    json body{{"input_file_id", file_id},
              {"endpoint", routes->batch_endpoint},
              {"completion_window", "24h"},
              {"metadata", {{"llmeval_batch", local_id}}}};
    provider::HttpRequest request;
    request.url = routes->url("/batches");
    request.headers.emplace_back("Content-Type", "application/json");
    request.body = body.dump();
    request.timeout = kCallTimeout;
    call_json(endpoint, std::move(request), "a batch", [endpoint, file_id, done = std::move(done)](Result<json> reply) {
      if (!reply.ok()) return done(reply.error());
      std::string id = string_field(reply.value(), "id");
      if (id.empty()) return done(missing(*endpoint, "the batch's id"));
      done(Submitted{file_id, id});
    });
  }

  void call_status(provider::HttpRequest request, StatusCallback done) {
    std::string name = endpoint_->config.name;
    call_json(endpoint_, std::move(request), "a batch", [name, done = std::move(done)](Result<json> reply) {
      if (!reply.ok()) return done(reply.error());
      done(to_status(reply.value(), name));
    });
  }

  std::shared_ptr<const Endpoint> endpoint_;
  std::shared_ptr<const Routes> routes_;
  BatchLimits limits_ = limits_of(ApiKind::kOpenAi);
};

}  // namespace

std::unique_ptr<BatchApi> make_openai_batch_api(provider::HttpClient& http, const provider::ProviderConfig& config) {
  return std::make_unique<OpenAiBatchApi>(http, config, Routes{config.base_url, {}, "/v1/chat/completions"});
}

std::unique_ptr<BatchApi> make_azure_batch_api(provider::HttpClient& http, const provider::ProviderConfig& config) {
  return std::make_unique<OpenAiBatchApi>(
      http, config,
      Routes{config.base_url + "/openai",
             "api-version=" + path_escape(config.api_version.empty() ? provider::kAzureApiVersion : config.api_version),
             "/chat/completions"});
}

}  // namespace llmeval::batch
