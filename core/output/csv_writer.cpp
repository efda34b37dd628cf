#include "core/output/csv_writer.h"

#include "core/common/json_text.h"

namespace llmeval::output {
namespace {

// OWASP's list of characters a spreadsheet treats as the start of a formula.
bool looks_like_formula(std::string_view value) {
  if (value.empty()) return false;
  char first = value.front();
  return first == '=' || first == '+' || first == '-' || first == '@' || first == '\t' || first == '\r';
}

std::string criteria_text(const ResultRecord& record) {
  std::string out;
  for (const auto& c : record.criteria) {
    if (!out.empty()) out += "; ";
    out += c.name;
    out += '=';
    out += json_number(c.score);
    out += c.pass ? " pass" : " fail";
  }
  return out;
}

}  // namespace

std::string csv_field(std::string_view value, bool text) {
  std::string field;
  if (text && looks_like_formula(value)) field.push_back('\'');
  field.append(value);
  if (field.find_first_of(",\"\r\n") == std::string::npos) return field;
  std::string quoted = "\"";
  for (char ch : field) {
    if (ch == '"') quoted.push_back('"');
    quoted.push_back(ch);
  }
  quoted.push_back('"');
  return quoted;
}

CsvWriter::CsvWriter(std::ostream& out) : out_(out) {
  out_ << "id,line,status,pass,score,error_kind,error_message,criteria\r\n";
}

void CsvWriter::write(const ResultRecord& record) {
  bool ok = record.status == Status::kOk;
  line_.clear();
  line_ += csv_field(id_text(record.id), record.id.is_string());
  line_ += ',';
  line_ += std::to_string(record.line);
  line_ += ',';
  line_ += to_string(record.status);
  line_ += ',';
  if (ok) line_ += record.pass() ? "true" : "false";
  line_ += ',';
  if (ok) line_ += json_number(record.score());
  line_ += ',';
  if (record.error) {
    line_ += csv_field(record.error->kind);
    line_ += ',';
    line_ += csv_field(record.error->message);
  } else {
    line_ += ',';
  }
  line_ += ',';
  line_ += csv_field(criteria_text(record));
  line_ += "\r\n";
  out_ << line_;
}

}  // namespace llmeval::output
