#include "core/redis/redis_url.h"

#include <charconv>
#include <string_view>

namespace llmeval::redis {
namespace {

bool parse_int(std::string_view text, int min, int max, int& out) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max) return false;
  out = value;
  return true;
}

Error bad_url(const std::string& why) {
  return Error{ErrorKind::kBadRequest, "redis URL: " + why + " (expected redis://[:password@]host:port/db)"};
}

}  // namespace

std::string RedisUrl::to_display() const {
  return "redis://" + host + ":" + std::to_string(port) + "/" + std::to_string(db);
}

Result<RedisUrl> parse_redis_url(const std::string& text) {
  constexpr std::string_view kScheme = "redis://";
  std::string_view rest = text;
  if (rest.substr(0, kScheme.size()) != kScheme) return bad_url("it must start with redis://");
  rest.remove_prefix(kScheme.size());
  RedisUrl url;
  if (auto at = rest.rfind('@'); at != std::string_view::npos) {
    std::string_view credentials = rest.substr(0, at);
    rest.remove_prefix(at + 1);
    auto colon = credentials.find(':');
    if (colon == std::string_view::npos) return bad_url("credentials need a colon, as in :password@");
    url.user = std::string(credentials.substr(0, colon));
    url.password = std::string(credentials.substr(colon + 1));
  }
  std::string_view hostport = rest.substr(0, rest.find('/'));
  std::string_view path = hostport.size() < rest.size() ? rest.substr(hostport.size() + 1) : std::string_view{};
  auto colon = hostport.rfind(':');
  std::string_view host = colon == std::string_view::npos ? hostport : hostport.substr(0, colon);
  if (colon != std::string_view::npos && !parse_int(hostport.substr(colon + 1), 1, 65535, url.port)) {
    return bad_url("the port must be a number from 1 to 65535");
  }
  if (!host.empty()) url.host = std::string(host);
  if (!path.empty() && !parse_int(path, 0, 1 << 20, url.db)) return bad_url("the database must be a number");
  return url;
}

}  // namespace llmeval::redis
