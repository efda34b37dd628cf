#include "core/metrics/exposition.h"

#include <array>
#include <cassert>
#include <charconv>
#include <cmath>
#include <cstdint>

namespace llmeval::metrics {

namespace {

// Every integer up to 2^53 is exactly representable, so the int64 conversion below is exact.
constexpr double kLargestExactInteger = 9007199254740992.0;

// Escapes backslash and newline always, and the double quote only inside a label value: the
// format's two contexts differ in just that one character.
void append_escaped(std::string& out, std::string_view text, bool escape_quote) {
  for (char c : text) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '"':
        if (escape_quote) {
          out += "\\\"";
        } else {
          out += c;
        }
        break;
      default: out += c;
    }
  }
}

void append_label(std::string& out, std::string_view name, std::string_view value) {
  out += name;
  out += "=\"";
  append_escaped(out, value, /*escape_quote=*/true);
  out += '"';
}

}  // namespace

void append_value(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "NaN";
    return;
  }
  if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
    return;
  }
  // Counts of requests and tokens are the common case: "3" reads better than "3.0", and
  // to_chars alone would write 1e+06 for a million where clients write 1000000.
  std::array<char, 32> buffer{};
  std::to_chars_result written{};
  if (std::fabs(value) < kLargestExactInteger && value == std::trunc(value)) {
    written = std::to_chars(buffer.data(), buffer.data() + buffer.size(), static_cast<std::int64_t>(value));
  } else {
    // Shortest round-trip form (Ryu in libstdc++): at most 24 characters for a double.
    written = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
  }
  assert(written.ec == std::errc());
  out.append(buffer.data(), written.ptr);
}

std::string format_value(double value) {
  std::string out;
  append_value(out, value);
  return out;
}

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  append_escaped(out, value, /*escape_quote=*/true);
  return out;
}

std::string escape_help(std::string_view help) {
  std::string out;
  out.reserve(help.size());
  append_escaped(out, help, /*escape_quote=*/false);
  return out;
}

void append_labels(std::string& out, const std::vector<std::string>& names, const std::vector<std::string>& values,
                   std::string_view le) {
  assert(names.size() == values.size());
  if (names.empty() && le.empty()) return;
  out += '{';
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ',';
    append_label(out, names[i], values[i]);
  }
  if (!le.empty()) {
    if (!names.empty()) out += ',';
    append_label(out, "le", le);
  }
  out += '}';
}

}  // namespace llmeval::metrics
