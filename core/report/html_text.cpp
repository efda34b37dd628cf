#include "core/report/html_text.h"

#include <cmath>
#include <cstdio>

namespace llmeval::report {

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string format_count(std::int64_t value) {
  std::string digits = std::to_string(value < 0 ? -value : value);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return value < 0 ? "-" + out : out;
}

std::string format_compact(std::int64_t value) {
  if (value < 10'000'000 && value > -10'000'000) return format_count(value);
  const double magnitude = static_cast<double>(value);
  if (magnitude < 1e9 && magnitude > -1e9) return format_decimal(magnitude / 1e6, 1) + " M";
  return format_decimal(magnitude / 1e9, 1) + " B";
}

std::string format_decimal(double value, int decimals) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  std::string text = buffer;
  if (text.find('.') != std::string::npos) {
    while (text.back() == '0') text.pop_back();
    if (text.back() == '.') text.pop_back();
  }
  if (text == "-0") text = "0";
  return text;
}

std::string format_fixed(std::optional<double> value, int decimals) {
  if (!value) return "–";
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, *value);
  return buffer;
}

std::string format_percent(std::optional<double> fraction) {
  if (!fraction) return "–";
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f%%", *fraction * 100);
  return buffer;
}

std::string format_ms(double milliseconds) {
  if (milliseconds < 1000) return format_decimal(milliseconds, 0) + " ms";
  if (milliseconds < 60'000) return format_decimal(milliseconds / 1000, 1) + " s";
  const auto seconds = static_cast<std::int64_t>(std::lround(milliseconds / 1000));
  char buffer[48];
  std::snprintf(buffer, sizeof buffer, "%lld m %02lld s", static_cast<long long>(seconds / 60),
                static_cast<long long>(seconds % 60));
  return buffer;
}

std::string format_delta(double value, int decimals, std::string_view suffix) {
  std::string text = format_decimal(value, decimals);
  if (text == "0") return "±0" + std::string(suffix);
  return (value > 0 ? "+" : "") + text + std::string(suffix);
}

std::string display_file_name(std::string_view path) {
  const auto slash = path.find_last_of('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

std::string cut_text(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  std::size_t end = max_bytes;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;  // not mid-character
  return std::string(text.substr(0, end)) + "… [+" + format_count(static_cast<std::int64_t>(text.size() - end)) +
         " bytes]";
}

}  // namespace llmeval::report
