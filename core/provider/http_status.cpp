#include "core/provider/http_status.h"

#include <time.h>  // strptime, timegm (POSIX)

#include <algorithm>
#include <charconv>
#include <cmath>
#include <ctime>
#include <utility>

namespace llmeval::provider {
namespace {

using std::chrono::milliseconds;

constexpr double kMaxRetryAfterMs = 24.0 * 3600 * 1000;

std::string_view trim(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\n";
  auto first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  auto last = text.find_last_not_of(kSpace);
  return text.substr(first, last - first + 1);
}

// Collapses whitespace runs (vendor bodies are often pretty-printed JSON or HTML) and cuts to
// kMaxVendorMessage bytes without splitting a UTF-8 sequence.
std::string tidy(std::string_view text) {
  std::string out;
  out.reserve(std::min(text.size(), kMaxVendorMessage + 3));
  bool space = false;
  for (char c : trim(text)) {
    bool is_space = c == ' ' || c == '\t' || c == '\r' || c == '\n';
    if (is_space) {
      space = true;
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
    if (out.size() > kMaxVendorMessage) break;
  }
  if (out.size() > kMaxVendorMessage) {
    std::size_t cut = kMaxVendorMessage;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out.resize(cut);
    out += "...";
  }
  return out;
}

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Case-insensitive find of a lower-case needle.
std::size_t find_lower(std::string_view text, std::string_view needle, std::size_t from = 0) {
  if (needle.size() > text.size()) return std::string_view::npos;
  for (std::size_t i = from; i + needle.size() <= text.size(); ++i) {
    std::size_t j = 0;
    while (j < needle.size() && lower(text[i + j]) == needle[j]) ++j;
    if (j == needle.size()) return i;
  }
  return std::string_view::npos;
}

// A proxy's or gateway's error page (nginx, Cloudflare, a load balancer) rather than an API's JSON.
bool looks_like_html(std::string_view body) {
  body = trim(body);
  if (body.empty() || body.front() != '<') return false;
  const std::string_view head = body.substr(0, 512);
  for (std::string_view tag : {"<html", "<!doctype html", "<head", "<body"}) {
    if (find_lower(head, tag) != std::string_view::npos) return true;
  }
  return false;
}

// The text of an HTML fragment: tags dropped (each one a space), <script> and <style> skipped.
std::string strip_tags(std::string_view html) {
  std::string text;
  for (std::size_t i = 0; i < html.size();) {
    if (html[i] != '<') {
      text += html[i++];
      continue;
    }
    for (std::string_view skipped : {std::string_view("script"), std::string_view("style")}) {
      if (find_lower(html.substr(i + 1, skipped.size()), skipped) == 0) {
        const std::size_t end = find_lower(html, "</" + std::string(skipped), i);
        i = end == std::string_view::npos ? html.size() : end + 2;
      }
    }
    const std::size_t close = html.find('>', i);
    i = close == std::string_view::npos ? html.size() : close + 1;
    text += ' ';
  }
  return text;
}

std::string collapse_spaces(std::string_view text) {
  std::string out;
  for (char c : trim(text)) {
    const bool space = c == ' ' || c == '\t' || c == '\r' || c == '\n';
    if (space && (out.empty() || out.back() == ' ')) continue;
    out += space ? ' ' : c;
  }
  return out;
}

// What a person needs from an HTML error page: its title, then its body's text unless that
// merely repeats the title ("502 Bad Gateway 502 Bad Gateway nginx" reads "502 Bad Gateway nginx").
std::string html_summary(std::string_view html) {
  std::string title;
  if (auto open = find_lower(html, "<title"); open != std::string_view::npos) {
    const std::size_t start = html.find('>', open);
    const std::size_t end = find_lower(html, "</title", open);
    if (start != std::string_view::npos && end != std::string_view::npos && start < end) {
      title = collapse_spaces(html.substr(start + 1, end - start - 1));
    }
  }
  std::string_view body = html;
  if (auto open = find_lower(html, "<body"); open != std::string_view::npos) body = html.substr(open);
  std::string text = collapse_spaces(strip_tags(body));
  if (!title.empty() && text.compare(0, title.size(), title) != 0) text = title + (text.empty() ? "" : " " + text);
  return "an HTML page (from a proxy or gateway in front of the API?): " + (text.empty() ? "(no text)" : text);
}

// A body that is not JSON, readable in a message: an HTML page summarized, anything else as it is.
std::string readable_body(std::string_view body) {
  return looks_like_html(body) ? html_summary(body) : std::string(body);
}

std::optional<double> parse_non_negative(std::string_view text) {
  text = trim(text);
  double value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  if (!std::isfinite(value) || value < 0) return std::nullopt;
  return value;
}

// HTTP-date in the three forms RFC 9110 accepts: IMF-fixdate, RFC 850 and asctime; all GMT.
std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view text) {
  std::string copy(trim(text));  // strptime wants a NUL-terminated string
  for (const char* format : {"%a, %d %b %Y %H:%M:%S", "%A, %d-%b-%y %H:%M:%S", "%a %b %d %H:%M:%S %Y"}) {
    std::tm tm{};
    const char* end = strptime(copy.c_str(), format, &tm);
    if (end == nullptr) continue;
    std::string_view zone = trim(end);
    if (!zone.empty() && zone != "GMT" && zone != "UTC" && zone != "+0000") continue;
    std::time_t seconds = timegm(&tm);
    if (seconds == static_cast<std::time_t>(-1)) continue;
    return std::chrono::system_clock::from_time_t(seconds);
  }
  return std::nullopt;
}

milliseconds clamp_ms(double ms) {
  return milliseconds(static_cast<std::int64_t>(std::ceil(std::clamp(ms, 0.0, kMaxRetryAfterMs))));
}

std::string head(const ReplyContext& context, std::string_view what, long status, const std::string& vendor) {
  std::string out = "provider ";
  out.append(context.provider).append(" ").append(what);
  out.append(" (HTTP ").append(std::to_string(status)).append(")");
  if (!vendor.empty()) out.append(": ").append(vendor);
  return out;
}

std::string auth_hint(const ReplyContext& context) {
  if (context.api_key_env.empty()) return "; check the API key";
  if (context.api_key.empty()) return "; " + std::string(context.api_key_env) + " is empty or not set";
  return "; check " + std::string(context.api_key_env);
}

// The status's phrase in messages. 529 is Anthropic's "overloaded".
std::string_view describe(long status) {
  if (status == 401 || status == 403) return "rejected the API key";
  if (status == 408) return "timed out the request";
  if (status == 429) return "is rate limiting requests";
  if (status == 529) return "is overloaded";
  if (status >= 500 && status < 600) return "failed with a server error";
  if (status >= 400 && status < 500) return "refused the request";
  if (status >= 300 && status < 400) return "answered with a redirect; check base_url";
  return "answered with an unexpected status";
}

std::string dump(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// The untrimmed message of a vendor error body (see vendor_error_message).
std::string raw_vendor_message(const nlohmann::json& body) {
  if (!body.is_object()) return dump(body);
  if (auto error = body.find("error"); error != body.end()) {
    if (error->is_string()) return error->get<std::string>();
    if (error->is_object()) {
      if (auto message = error->find("message"); message != error->end() && message->is_string()) {
        return message->get<std::string>();
      }
      return dump(*error);
    }
  }
  for (const char* field : {"message", "detail"}) {
    if (auto it = body.find(field); it != body.end() && it->is_string()) return it->get<std::string>();
  }
  return dump(body);
}

}  // namespace

ErrorKind kind_for_status(long status) {
  if (status == 401 || status == 403) return ErrorKind::kAuth;
  if (status == 408) return ErrorKind::kTimeout;
  if (status == 429) return ErrorKind::kRateLimited;
  if (status >= 500 && status < 600) return ErrorKind::kServer;
  if (status >= 300 && status < 500) return ErrorKind::kBadRequest;
  return ErrorKind::kServer;
}

std::optional<milliseconds> parse_retry_after(const HttpResponse& response,
                                              std::chrono::system_clock::time_point now) {
  if (auto ms = parse_non_negative(response.header("retry-after-ms"))) return clamp_ms(*ms);
  std::string_view value = response.header("retry-after");
  if (value.empty()) return std::nullopt;
  if (auto seconds = parse_non_negative(value)) return clamp_ms(*seconds * 1000.0);
  auto when = parse_http_date(value);
  if (!when) return std::nullopt;
  if (auto date = parse_http_date(response.header("date"))) now = *date;
  return clamp_ms(std::chrono::duration<double, std::milli>(*when - now).count());
}

std::string vendor_message_from_json(const nlohmann::json& body, std::string_view secret) {
  // Scrub before tidy() cuts, so a cut can never leave a prefix of the key behind.
  return tidy(scrub_secret(raw_vendor_message(body), secret));
}

std::string vendor_error_message(std::string_view body, std::string_view secret) {
  if (trim(body).empty()) return {};
  auto json = nlohmann::json::parse(body, nullptr, false);
  if (json.is_discarded()) return tidy(scrub_secret(readable_body(body), secret));
  return vendor_message_from_json(json, secret);
}

std::string scrub_secret(std::string text, std::string_view secret) {
  if (secret.empty()) return text;
  constexpr std::string_view kRedacted = "[redacted]";
  for (auto at = text.find(secret); at != std::string::npos; at = text.find(secret, at + kRedacted.size())) {
    text.replace(at, secret.size(), kRedacted);
  }
  return text;
}

Error error_from_status(const HttpResponse& response, const ReplyContext& context,
                        std::chrono::system_clock::time_point now) {
  std::string vendor = vendor_error_message(response.body, context.api_key);
  Error error{kind_for_status(response.status), head(context, describe(response.status), response.status, vendor),
              parse_retry_after(response, now)};
  if (error.kind == ErrorKind::kAuth) error.message += auth_hint(context);
  // A wrong base_url (say, without /v1) or model name is the usual 404.
  if (response.status == 404) error.message += "; check base_url and model";
  if (error.retry_after) error.message += "; retry after " + std::to_string(error.retry_after->count()) + "ms";
  error.http_status = static_cast<int>(response.status);
  return error;
}

Error reply_not_json(const HttpResponse& response, const ReplyContext& context) {
  std::string snippet = tidy(scrub_secret(readable_body(response.body), context.api_key));
  if (snippet.empty()) snippet = "(empty body)";
  Error error{ErrorKind::kServer, head(context, "returned a reply that is not JSON", response.status, snippet), {}};
  error.http_status = static_cast<int>(response.status);
  return error;
}

Error reply_with_error(const nlohmann::json& reply, long status, const ReplyContext& context) {
  std::string vendor = vendor_message_from_json(reply, context.api_key);
  Error error{ErrorKind::kServer, head(context, "returned an error instead of a completion", status, vendor), {}};
  error.http_status = static_cast<int>(status);
  return error;
}

Error reply_without_text(std::string_view why, long status, const ReplyContext& context) {
  std::string detail = tidy(scrub_secret(std::string(why), context.api_key));  // may quote a refusal
  Error error{ErrorKind::kServer, head(context, "returned no completion text", status, detail), {}};
  error.http_status = static_cast<int>(status);
  return error;
}

}  // namespace llmeval::provider
