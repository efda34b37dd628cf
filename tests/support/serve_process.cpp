#include "tests/support/serve_process.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <sstream>
#include <stdexcept>

#include "tests/support/build_paths.h"

namespace llmeval::testing {
namespace {

bool has_flag(const std::vector<std::string>& args, std::string_view flag) {
  return std::any_of(args.begin(), args.end(),
                     [&](const std::string& arg) { return arg == flag || arg.rfind(std::string(flag) + "=", 0) == 0; });
}

// The value of `flag` in args ("--flag VALUE" or "--flag=VALUE"), empty when it is not there.
std::string flag_value(const std::vector<std::string>& args, const std::string& flag) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == flag && i + 1 < args.size()) return args[i + 1];
    if (args[i].rfind(flag + "=", 0) == 0) return args[i].substr(flag.size() + 1);
  }
  return "";
}

// The port of "listening on http://HOST:PORT" (a trailing '/' allowed), or of the JSON line's
// "url"; 0 if there is none.
int port_of(std::string line) {
  if (line.rfind("{", 0) == 0) {
    nlohmann::json parsed = nlohmann::json::parse(line, nullptr, false);
    if (!parsed.is_object() || !parsed.value("msg", "").starts_with("listening on ")) return 0;
    line = parsed.value("url", "");
  }
  auto colon = line.rfind(':');
  if (colon == std::string::npos) return 0;
  int port = 0;
  for (std::size_t i = colon + 1; i < line.size() && line[i] >= '0' && line[i] <= '9'; ++i) {
    port = port * 10 + (line[i] - '0');
  }
  return port;
}

}  // namespace

ServeProcess::ServeProcess(std::vector<std::string> args, std::map<std::string, std::string> env)
    : stderr_path_(dir_.file("serve.stderr")) {
  std::vector<std::string> argv = {llmeval::testing::llmeval_binary(), "serve"};
  if (!has_flag(args, "--listen")) argv.insert(argv.end(), {"--listen", "127.0.0.1:0"});
  if (!has_flag(args, "--grace")) argv.insert(argv.end(), {"--grace", "2s"});
  argv.insert(argv.end(), args.begin(), args.end());
  env.emplace("no_proxy", "127.0.0.1,localhost");
  env.emplace("NO_PROXY", "127.0.0.1,localhost");
  process_ = std::make_unique<BackgroundProcess>(argv, env, stderr_path_);
  const bool json_logs = flag_value(args, "--log-format") == "json";
  auto line = process_->read_line_with_prefix(json_logs ? "{" : "listening on ", std::chrono::seconds(15));
  if (line) {
    listening_line_ = *line;
    port_ = port_of(*line);
  }
  if (port_ <= 0) {
    process_->signal(SIGKILL);
    process_->wait(std::chrono::seconds(5));
    throw std::runtime_error("llmeval serve did not print 'listening on http://HOST:PORT' (" +
                             (line ? "got '" + *line + "'" : std::string("no such line")) + "); stderr:\n" + log());
  }
}

std::string ServeProcess::url(std::string_view path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
}

HttpReply ServeProcess::get(const std::string& path, const std::vector<std::string>& headers,
                            std::chrono::milliseconds timeout) const {
  return http_request("GET", url(path), "", headers, timeout);
}

HttpReply ServeProcess::post(const std::string& path, const std::string& body, const std::vector<std::string>& headers,
                             std::chrono::milliseconds timeout) const {
  return http_request("POST", url(path), body, headers, timeout);
}

std::string ServeProcess::log() const { return read_file(stderr_path_); }

nlohmann::json json_body(const HttpReply& reply) { return nlohmann::json::parse(reply.body, nullptr, false); }

std::string error_kind(const HttpReply& reply) {
  nlohmann::json body = json_body(reply);
  if (!body.is_object() || !body.contains("error") || !body["error"].is_object()) return "";
  const nlohmann::json& kind = body["error"].value("kind", nlohmann::json());
  return kind.is_string() ? kind.get<std::string>() : "";
}

std::optional<double> metric_sample(const std::string& exposition, const std::string& name,
                                    const std::vector<std::string>& labels) {
  std::istringstream in(exposition);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name, 0) != 0 || line.size() <= name.size()) continue;
    char next = line[name.size()];
    if (next != '{' && next != ' ') continue;
    std::size_t value_at = name.size();
    if (next == '{') {
      std::size_t close = line.find('}');
      if (close == std::string::npos) continue;
      std::string label_text = line.substr(name.size(), close - name.size());
      bool all = std::all_of(labels.begin(), labels.end(),
                             [&](const std::string& label) { return label_text.find(label) != std::string::npos; });
      if (!all) continue;
      value_at = close + 1;
    } else if (!labels.empty()) {
      continue;
    }
    try {
      return std::stod(line.substr(value_at));
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }
  return std::nullopt;
}

}  // namespace llmeval::testing
