#include "core/server/bearer_auth.h"

#include <cerrno>
#include <cstring>
#include <fstream>

#include "core/common/ascii.h"
#include "core/common/error.h"

namespace llmeval::server {
namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t' || text.front() == '\r')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) text.remove_suffix(1);
  return text;
}

// Time depends on given.size() only (token is never empty).
bool same_constant_time(std::string_view given, std::string_view token) {
  unsigned char difference = given.size() == token.size() ? 0 : 1;
  for (std::size_t i = 0; i < given.size(); ++i) {
    difference |= static_cast<unsigned char>(given[i] ^ token[i % token.size()]);
  }
  return difference == 0;
}

}  // namespace

BearerAuth::BearerAuth(std::vector<std::string> tokens) {
  for (auto& token : tokens) {
    if (!token.empty()) tokens_.push_back(std::move(token));
  }
}

bool BearerAuth::allows(std::string_view authorization) const {
  if (tokens_.empty()) return true;
  constexpr std::string_view kScheme = "Bearer ";
  if (authorization.size() <= kScheme.size()) return false;
  // The scheme is case-insensitive (RFC 7235); the token is not.
  if (!istarts_with(authorization, kScheme)) return false;
  std::string_view given = trim(authorization.substr(kScheme.size()));
  bool match = false;
  for (const auto& token : tokens_) match |= same_constant_time(given, token);  // no early exit
  return match;
}

std::vector<std::string> parse_token_list(std::string_view comma_separated) {
  std::vector<std::string> tokens;
  while (!comma_separated.empty()) {
    std::size_t comma = comma_separated.find(',');
    std::string_view token = trim(comma_separated.substr(0, comma));
    if (!token.empty()) tokens.emplace_back(token);
    if (comma == std::string_view::npos) break;
    comma_separated.remove_prefix(comma + 1);
  }
  return tokens;
}

Result<std::vector<std::string>> read_tokens_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error(ErrorKind::kIo, "--tokens-file " + path + ": " + std::strerror(errno));
  std::vector<std::string> tokens;
  std::string line;
  while (std::getline(in, line)) {
    std::string_view token = trim(line);
    if (token.empty() || token.front() == '#') continue;
    tokens.emplace_back(token);
  }
  if (tokens.empty()) return Error(ErrorKind::kBadRequest, "--tokens-file " + path + " holds no token (one per line)");
  return tokens;
}

}  // namespace llmeval::server
