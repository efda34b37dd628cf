#include "tests/support/fake_provider.h"

#include <csignal>
#include <stdexcept>
#include <thread>

#include "tests/support/build_paths.h"
#include "tests/support/http.h"

namespace llmeval::testing {
namespace {

std::vector<std::string> command_line(const std::string& binary, std::vector<std::string> flags) {
  flags.insert(flags.begin(), binary);
  return flags;
}

}  // namespace

FakeProviderServer::FakeProviderServer(std::vector<std::string> flags)
    : FakeProviderServer(llmeval::testing::fake_provider_binary(), std::move(flags)) {}

FakeProviderServer::FakeProviderServer(const std::string& binary, std::vector<std::string> flags)
    : process_(command_line(binary, std::move(flags))) {
  auto line = process_.read_line_with_prefix("PORT=", std::chrono::seconds(10));
  if (!line) throw std::runtime_error("fake provider did not print PORT= (" + binary + ")");
  port_ = std::stoi(line->substr(5));
}

std::string FakeProviderServer::base_url_openai() const { return url("/v1"); }

std::string FakeProviderServer::base_url_anthropic() const { return url(""); }

std::string FakeProviderServer::url(std::string_view path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
}

nlohmann::json FakeProviderServer::stats() const {
  HttpReply reply = http_request("GET", url("/stats"));
  if (reply.status != 200) throw std::runtime_error("GET /stats failed: " + reply.error + reply.body);
  return nlohmann::json::parse(reply.body);
}

void FakeProviderServer::reset_stats() const {
  HttpReply reply = http_request("POST", url("/stats/reset"));
  if (reply.status != 200) throw std::runtime_error("POST /stats/reset failed: " + reply.error + reply.body);
}

void FakeProviderServer::control(const nlohmann::json& body) const {
  HttpReply reply = http_request("POST", url("/control"), body.dump());
  if (reply.status != 200) throw std::runtime_error("POST /control failed: " + reply.error + reply.body);
}

nlohmann::json FakeProviderServer::log() const {
  HttpReply reply = http_request("GET", url("/log"));
  if (reply.status != 200) throw std::runtime_error("GET /log failed: " + reply.error + reply.body);
  return nlohmann::json::parse(reply.body);
}

int FakeProviderServer::stop() {
  process_.signal(SIGTERM);
  return process_.wait();
}

bool FakeProviderServer::wait_for_in_flight(int count, std::chrono::milliseconds limit) const {
  auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (stats().value("in_flight", 0) >= count) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

bool FakeProviderServer::wait_for_in_flight_below(int count, std::chrono::milliseconds limit) const {
  auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (stats().value("in_flight", count) < count) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

}  // namespace llmeval::testing
