#include "core/output/junit_writer.h"

#include <cstdio>

#include "core/common/json_text.h"

namespace llmeval::output {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Length of the valid UTF-8 sequence starting at text[i], or 0 when it is not one (overlong
// forms, surrogates and code points past U+10FFFF are invalid), per RFC 3629's table.
std::size_t utf8_sequence(std::string_view text, std::size_t i, std::uint32_t& code) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char lead = byte(i);
  if (lead < 0x80) {
    code = lead;
    return 1;
  }
  std::size_t length = 0;
  unsigned char low = 0x80, high = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;
    if (lead == 0xED) high = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;
    if (lead == 0xF4) high = 0x8F;
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  unsigned char second = byte(i + 1);
  if (second < low || second > high) return 0;
  code = lead & (0xFF >> (length + 1));
  for (std::size_t k = 1; k < length; ++k) {
    unsigned char next = byte(i + k);
    if ((next & 0xC0) != 0x80) return 0;
    code = (code << 6) | (next & 0x3F);
  }
  return length;
}

bool allowed_in_xml(std::uint32_t code) {
  if (code < 0x20) return code == '\t' || code == '\n' || code == '\r';
  return code != 0xFFFE && code != 0xFFFF;
}

std::string seconds(std::int64_t ms) {
  char text[32];
  std::snprintf(text, sizeof text, "%lld.%03lld", static_cast<long long>(ms / 1000),
                static_cast<long long>(ms % 1000));
  return text;
}

std::string criterion_line(const CriterionResult& c) {
  std::string line = c.name + ": score " + json_number(c.score) + " (normalized " + json_number(c.normalized) + ", " +
                     (c.pass ? "pass" : "fail") + ")";
  if (!c.reason.empty()) line += ": " + c.reason;
  return line;
}

}  // namespace

std::string xml_escape(std::string_view text, bool attribute) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    std::uint32_t code = 0;
    std::size_t length = utf8_sequence(text, i, code);
    if (length == 0) {
      out += kReplacement;
      ++i;
      continue;
    }
    if (allowed_in_xml(code)) {
      switch (code) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&apos;"; break;
        case '\t': out += attribute ? "&#9;" : "\t"; break;
        case '\n': out += attribute ? "&#10;" : "\n"; break;
        case '\r': out += "&#13;"; break;  // a raw CR would be normalised away by the parser
        default: out.append(text.substr(i, length));
      }
    }
    i += length;
  }
  return out;
}

std::int64_t row_latency_ms(const ResultRecord& record) {
  std::int64_t ms = 0;
  for (const auto& c : record.criteria) {
    if (c.judge) ms += c.judge->latency_ms;
  }
  return ms;
}

void JunitTotals::add(const ResultRecord& record) {
  ++tests;
  if (record.status != Status::kOk) {
    ++errors;
  } else if (!record.pass()) {
    ++failures;
  }
  time_ms += row_latency_ms(record);
}

JunitWriter::JunitWriter(std::ostream& out, const JunitTotals& totals, std::string classname)
    : out_(out), classname_(xml_escape(classname, true)) {
  std::string counts = " tests=\"" + std::to_string(totals.tests) + "\" failures=\"" +
                       std::to_string(totals.failures) + "\" errors=\"" + std::to_string(totals.errors) +
                       "\" skipped=\"" + std::to_string(totals.skipped) + "\" time=\"" + seconds(totals.time_ms) +
                       "\"";
  out_ << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
       << "<testsuites name=\"llmeval\"" << counts << ">\n"
       << "  <testsuite name=\"llmeval\"" << counts << ">\n";
}

void JunitWriter::write(const ResultRecord& record) {
  std::string& b = buffer_;
  b = "    <testcase classname=\"" + classname_ + "\" name=\"" + xml_escape(id_text(record.id), true) +
      "\" time=\"" + seconds(row_latency_ms(record)) + "\">\n";
  if (record.status != Status::kOk) {
    std::string kind = record.error ? record.error->kind : to_string(record.status);
    std::string message = record.error ? record.error->message : std::string();
    b += "      <error type=\"" + xml_escape(kind, true) + "\" message=\"" + xml_escape(message, true) + "\">" +
         xml_escape(message) + "</error>\n";
  } else if (!record.pass()) {
    std::string names, details;
    std::size_t failed = 0;
    for (const auto& c : record.criteria) {
      if (c.pass) continue;
      names += (failed++ ? ", " : "") + c.name;
      details += criterion_line(c) + "\n";
    }
    std::string message = std::to_string(failed) + " of " + std::to_string(record.criteria.size()) +
                          " criteria failed: " + names;
    b += "      <failure type=\"criteria\" message=\"" + xml_escape(message, true) + "\">" + xml_escape(details) +
         "</failure>\n";
  }
  if (!record.criteria.empty()) {
    std::string reasons;
    for (const auto& c : record.criteria) reasons += criterion_line(c) + "\n";
    b += "      <system-out>" + xml_escape(reasons) + "</system-out>\n";
  }
  b += "    </testcase>\n";
  out_ << b;
}

void JunitWriter::finish() { out_ << "  </testsuite>\n</testsuites>\n"; }

}  // namespace llmeval::output
