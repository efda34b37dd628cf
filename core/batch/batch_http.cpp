#include "core/batch/batch_http.h"

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <system_error>
#include <utility>
#include <vector>

#include "core/provider/model_families.h"

namespace llmeval::batch {
namespace {

using nlohmann::json;

void add_config_headers(provider::Headers& headers, const provider::ProviderConfig& config) {
  for (const auto& header : config.headers) headers.push_back(header);
}

Error not_json(const Endpoint& endpoint, const provider::HttpResponse& response, const std::string& what) {
  Error error{ErrorKind::kServer, "provider " + endpoint.config.name + " answered HTTP " +
                                      std::to_string(response.status) + " without " + what + " as a JSON object: " +
                                      provider::vendor_error_message(response.body, endpoint.config.api_key)};
  error.http_status = static_cast<int>(response.status);
  return error;
}

bool is_2xx(long status) { return status >= 200 && status <= 299; }

}  // namespace

provider::Headers openai_headers(const provider::ProviderConfig& config) {
  provider::Headers headers;
  if (!config.api_key.empty()) {
    if (config.type == provider::ProviderType::kAzure || provider::is_azure_host(config.base_url)) {
      headers.emplace_back("api-key", config.api_key);
    } else {
      headers.emplace_back("Authorization", "Bearer " + config.api_key);
    }
  }
  add_config_headers(headers, config);
  return headers;
}

provider::Headers anthropic_headers(const provider::ProviderConfig& config) {
  provider::Headers headers;
  headers.emplace_back("anthropic-version", "2023-06-01");
  if (!config.api_key.empty()) headers.emplace_back("x-api-key", config.api_key);
  add_config_headers(headers, config);
  return headers;
}

void call_json(const std::shared_ptr<const Endpoint>& endpoint, provider::HttpRequest request, std::string what,
               JsonCallback done) {
  for (const auto& header : endpoint->headers) request.headers.push_back(header);
  endpoint->http->send(std::move(request), [endpoint, what = std::move(what),
                                            done = std::move(done)](Result<provider::HttpResponse> reply) {
    if (!reply.ok()) return done(reply.error());
    const provider::HttpResponse& response = reply.value();
    if (!is_2xx(response.status)) {
      return done(provider::error_from_status(response, endpoint->context(), std::chrono::system_clock::now()));
    }
    json parsed = json::parse(response.body, nullptr, false);
    if (parsed.is_discarded() || !parsed.is_object()) return done(not_json(*endpoint, response, what));
    done(std::move(parsed));
  });
}

void download_to_file(const std::shared_ptr<const Endpoint>& endpoint, std::string url, provider::Headers extra,
                      std::string path, SizeCallback done) {
  provider::HttpRequest request;
  request.method = "GET";
  request.url = std::move(url);
  request.headers = endpoint->headers;
  for (auto& header : extra) request.headers.push_back(std::move(header));
  request.timeout = kTransferTimeout;
  request.save_to = path;
  endpoint->http->send(std::move(request), [endpoint, path = std::move(path),
                                            done = std::move(done)](Result<provider::HttpResponse> reply) {
    if (!reply.ok()) return done(reply.error());
    const provider::HttpResponse& response = reply.value();
    if (!is_2xx(response.status)) {
      return done(provider::error_from_status(response, endpoint->context(), std::chrono::system_clock::now()));
    }
    std::error_code ec;
    auto size = std::filesystem::file_size(path, ec);
    if (ec) return done(Error{ErrorKind::kIo, "could not read the size of " + path + ": " + ec.message()});
    done(static_cast<std::int64_t>(size));
  });
}

Result<std::int64_t> append_and_remove(const std::string& from, const std::string& to) {
  std::FILE* in = std::fopen(from.c_str(), "rb");
  if (in == nullptr) return Error{ErrorKind::kIo, "could not open " + from + ": " + std::strerror(errno)};
  std::FILE* out = std::fopen(to.c_str(), "ab");
  if (out == nullptr) {
    int saved = errno;
    std::fclose(in);
    return Error{ErrorKind::kIo, "could not open " + to + ": " + std::strerror(saved)};
  }
  std::vector<char> chunk(1 << 20);
  std::int64_t total = 0;
  std::string problem;
  for (;;) {
    std::size_t n = std::fread(chunk.data(), 1, chunk.size(), in);
    if (n > 0 && std::fwrite(chunk.data(), 1, n, out) != n) {
      problem = "could not write " + to + ": " + std::strerror(errno);
      break;
    }
    total += static_cast<std::int64_t>(n);
    if (n < chunk.size()) {
      if (std::ferror(in) != 0) problem = "could not read " + from + ": " + std::strerror(errno);
      break;
    }
  }
  std::fclose(in);
  if (std::fclose(out) != 0 && problem.empty()) problem = "could not write " + to + ": " + std::strerror(errno);
  if (!problem.empty()) return Error{ErrorKind::kIo, problem};
  std::error_code ec;
  std::filesystem::remove(from, ec);
  return total;
}

std::string path_escape(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string string_field(const json& object, const char* field) {
  auto it = object.find(field);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::int64_t count_field(const json& object, const char* field) {
  auto it = object.find(field);
  return it != object.end() && it->is_number_integer() ? it->get<std::int64_t>() : 0;
}

}  // namespace llmeval::batch
