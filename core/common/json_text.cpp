#include "core/common/json_text.h"

#include <simdjson.h>

#include <charconv>
#include <cmath>
#include <cstring>

namespace llmeval {
namespace {

bool needs_escape(unsigned char c) { return c < 0x20 || c == '"' || c == '\\'; }

void append_escape(std::string& out, unsigned char c) {
  switch (c) {
    case '"': out += "\\\""; return;
    case '\\': out += "\\\\"; return;
    case '\n': out += "\\n"; return;
    case '\r': out += "\\r"; return;
    case '\t': out += "\\t"; return;
    case '\b': out += "\\b"; return;
    case '\f': out += "\\f"; return;
    default: break;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  char buf[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
  out.append(buf, sizeof buf);
}

// Length of the valid UTF-8 sequence starting at text[i], or 0 when it is invalid (bad lead
// byte, missing continuation, overlong form, surrogate, or beyond U+10FFFF).
std::size_t utf8_sequence_length(std::string_view text, std::size_t i) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char lead = byte(i);
  std::size_t length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC2 ? 2 : 0;
  if (length == 0 || lead > 0xF4 || i + length > text.size()) return 0;
  for (std::size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  }
  unsigned char second = byte(i + 1);
  if (lead == 0xE0 && second < 0xA0) return 0;  // overlong
  if (lead == 0xED && second > 0x9F) return 0;  // surrogate
  if (lead == 0xF0 && second < 0x90) return 0;  // overlong
  if (lead == 0xF4 && second > 0x8F) return 0;  // > U+10FFFF
  return length;
}

// True when any of the 8 bytes in `word` is a control character, '"' or '\\' (and, unless
// the text is known to be valid UTF-8, non-ASCII): the classic SWAR "has a byte less than n"
// and "has a byte equal to c" tests.
template <bool kCheckNonAscii>
bool word_needs_attention(std::uint64_t word) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  constexpr std::uint64_t kHighs = 0x8080808080808080ULL;
  auto has_zero = [](std::uint64_t v) { return (v - kOnes) & ~v & kHighs; };
  std::uint64_t below_space = (word - kOnes * 0x20) & ~word & kHighs;
  std::uint64_t quote = has_zero(word ^ (kOnes * '"'));
  std::uint64_t backslash = has_zero(word ^ (kOnes * '\\'));
  std::uint64_t flagged = below_space | quote | backslash;
  if constexpr (kCheckNonAscii) flagged |= word & kHighs;
  // Bytes >= 0x80 can set below_space's bits spuriously: they only cost a closer look.
  return flagged != 0;
}

// Escapes text known to be valid UTF-8: only '"', '\\' and control characters change.
void append_valid_utf8(std::string& out, std::string_view text) {
  std::size_t run_start = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    while (i + 8 <= text.size()) {
      std::uint64_t word;
      std::memcpy(&word, text.data() + i, sizeof word);
      if (word_needs_attention<false>(word)) break;
      i += 8;
    }
    if (i >= text.size()) break;
    auto c = static_cast<unsigned char>(text[i]);
    if (!needs_escape(c)) continue;
    out.append(text.data() + run_start, i - run_start);
    append_escape(out, c);
    run_start = i + 1;
  }
  out.append(text.data() + run_start, text.size() - run_start);
}

// Escapes text that may hold invalid UTF-8: each bad byte becomes U+FFFD.
void append_any_bytes(std::string& out, std::string_view text) {
  std::size_t run_start = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    // Skip 8 plain ASCII bytes at a time: prompts and answers are mostly that.
    while (i + 8 <= text.size()) {
      std::uint64_t word;
      std::memcpy(&word, text.data() + i, sizeof word);
      if (word_needs_attention<true>(word)) break;
      i += 8;
    }
    if (i >= text.size()) break;
    auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      std::size_t length = utf8_sequence_length(text, i);
      if (length > 0) {
        i += length - 1;
        continue;
      }
      out.append(text.data() + run_start, i - run_start);
      out += "\xEF\xBF\xBD";  // U+FFFD REPLACEMENT CHARACTER
      run_start = i + 1;
      continue;
    }
    if (!needs_escape(c)) continue;
    out.append(text.data() + run_start, i - run_start);
    append_escape(out, c);
    run_start = i + 1;
  }
  out.append(text.data() + run_start, text.size() - run_start);
}

}  // namespace

void append_json_string(std::string& out, std::string_view text) {
  out.reserve(out.size() + text.size() + 2);
  out.push_back('"');
  // Almost all text is valid UTF-8, and simdjson checks that at GB/s; then non-ASCII bytes
  // (any language but English) need no look of their own.
  if (simdjson::validate_utf8(text.data(), text.size())) {
    append_valid_utf8(out, text);
  } else {
    append_any_bytes(out, text);
  }
  out.push_back('"');
}

void append_json_number(std::string& out, double value) {
  if (!std::isfinite(value)) {
    out += "null";
    return;
  }
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, end);
}

std::string json_number(double value) {
  std::string out;
  append_json_number(out, value);
  return out;
}

void append_json_number(std::string& out, std::int64_t value) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, end);
}

}  // namespace llmeval
