#include "core/dataset/jsonl_reader.h"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cmath>
#include <cstring>
#include <optional>

#include "core/common/json_parse.h"
#include "core/dataset/criteria_parser.h"
#include "core/dataset/message_text.h"

namespace llmeval::dataset {

namespace {

using nlohmann::json;

// Deeper rows are refused before parsing: nlohmann parses iteratively, but dump() and every
// consumer that walks `metadata` recurse, and 100k levels would overflow the stack.
constexpr int kMaxDepth = 512;
// After an unusually long line the buffer is released, so one big row does not pin its size.
constexpr std::size_t kKeepCapacity = 1 << 20;
constexpr std::size_t kMaxDetailBytes = 200;
constexpr std::string_view kBom = "\xEF\xBB\xBF";

enum Field {
  kId,
  kPrompt,
  kOutput,
  kReference,
  kContext,
  kMetadata,
  kCriteria,
  kGroup,
  kOutputA,
  kOutputB,
  kModelA,
  kModelB,
  kLabels,
  kFieldCount
};

struct Alias {
  std::string_view key;
  Field field;
};
constexpr Alias kAliases[] = {
    {"id", kId},
    {"prompt", kPrompt},
    {"input", kPrompt},
    {"question", kPrompt},
    {"output", kOutput},
    {"response", kOutput},
    {"completion", kOutput},
    {"actual_output", kOutput},
    {"reference", kReference},
    {"expected", kReference},
    {"expected_output", kReference},
    {"ideal", kReference},
    {"context", kContext},
    {"metadata", kMetadata},
    {"criteria", kCriteria},
    {"group", kGroup},
    {"output_a", kOutputA},
    {"output_b", kOutputB},
    {"model_a", kModelA},
    {"model_b", kModelB},
    {"labels", kLabels},
};

std::optional<Field> field_of(const std::string& key) {
  for (const Alias& alias : kAliases) {
    if (alias.key == key) return alias.field;
  }
  return std::nullopt;
}

ReadItem bad(json id, std::int64_t line, const char* kind, const std::string& message) {
  InvalidLine invalid;
  invalid.id = std::move(id);
  invalid.line = line;
  invalid.kind = kind;
  invalid.message = "line " + std::to_string(line) + ": " + message;
  return invalid;
}

bool is_blank(std::string_view line) { return line.find_first_not_of(" \t\r\n\f\v") == line.npos; }

// Bracket depth outside strings. Rows shorter than the limit cannot exceed it and skip the scan.
// Inside a string only a quote can end it: memchr finds the next one (a 1 MB output is mostly
// string), and an odd run of backslashes before it means it is escaped.
bool nested_too_deeply(std::string_view line) {
  if (line.size() <= static_cast<std::size_t>(kMaxDepth)) return false;
  int depth = 0;
  const char* data = line.data();
  const std::size_t size = line.size();
  for (std::size_t i = 0; i < size; ++i) {
    const char c = data[i];
    if (c == '"') {
      for (;;) {
        const void* quote = std::memchr(data + i + 1, '"', size - i - 1);
        if (quote == nullptr) return false;  // an unterminated string: the parser will say so
        i = static_cast<std::size_t>(static_cast<const char*>(quote) - data);
        std::size_t backslashes = 0;
        while (backslashes < i && data[i - 1 - backslashes] == '\\') ++backslashes;
        if (backslashes % 2 == 0) break;
      }
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxDepth) return true;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return false;
}

// nlohmann's what() is "[json.exception.parse_error.101] parse error at line 1, column 5:
// syntax error ...; last read: '...'". Keep the part a person needs, cut to a sane length
// (the "last read" token can be a whole unterminated string).
std::string json_error_detail(const std::string& what) {
  std::string detail = what.substr(what.find("] ") == std::string::npos ? 0 : what.find("] ") + 2);
  constexpr std::string_view kFirstLine = "parse error at line 1, column ";
  if (detail.compare(0, kFirstLine.size(), kFirstLine) == 0) {
    detail = " at column " + detail.substr(kFirstLine.size());
  } else {
    detail = ": " + detail;
  }
  if (detail.size() > kMaxDetailBytes) {
    std::size_t end = kMaxDetailBytes;
    while (end > 0 && (static_cast<unsigned char>(detail[end]) & 0xC0) == 0x80) --end;
    detail.resize(end);
    detail += "...";
  }
  // The "last read" token ends where the parser stopped, which can be inside a multi-byte
  // character of a valid line ("\xEE\xBB\xBF" -> last read: '\xEE'); messages must be UTF-8.
  for (auto at = find_invalid_utf8(detail); at != detail.npos; at = find_invalid_utf8(detail)) detail[at] = '?';
  return detail;
}

ReadItem parse_failure(std::string_view line, std::int64_t number, const std::string& what) {
  if (auto nul = line.find('\0'); nul != line.npos) {
    return bad(number, number, "invalid_json",
               "contains a NUL byte at byte " + std::to_string(nul + 1) +
                   "; JSONL must be UTF-8 text (a UTF-16 file looks like this): re-save the file as UTF-8");
  }
  if (auto at = find_invalid_utf8(line); at != line.npos) {
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02X", static_cast<unsigned>(static_cast<unsigned char>(line[at])));
    return bad(number, number, "invalid_utf8",
               "not valid UTF-8 (byte " + std::string(hex) + " at byte " + std::to_string(at + 1) +
                   "); re-save the file as UTF-8");
  }
  return bad(number, number, "invalid_json",
             "not valid JSON" + json_error_detail(what) +
                 "; each line must be one complete JSON object (check quotes, commas and brackets)");
}

std::string key_list(const json::object_t& row) {
  std::string keys;
  std::size_t shown = 0;
  for (const auto& [key, value] : row) {
    if (shown++ == 6) return keys + ", ...";
    keys += (keys.empty() ? "" : ", ") + quote_for_message(key, 40);
  }
  return keys.empty() ? "no fields" : keys;
}

std::string missing_output_message(const json::object_t& row, const json* slot) {
  std::string message = slot ? "field \"output\" is null" : "missing field \"output\"";
  message += " (the answer to judge; \"response\", \"completion\" or \"actual_output\" also work); ";
  return message + "the row has " + key_list(row);
}

// A parsed row: each known field's value (or null when absent) and the key it came under.
struct Slots {
  json* value[kFieldCount] = {};
  const std::string* key[kFieldCount] = {};
  const std::string* conflict[2] = {};
};

Slots find_fields(json::object_t& row) {
  Slots slots;
  for (auto& [key, value] : row) {
    const std::optional<Field> field = field_of(key);
    if (!field || value.is_null()) continue;  // null means "not given"; unknown keys are ignored
    if (slots.value[*field] && !slots.conflict[0]) {
      slots.conflict[0] = slots.key[*field];
      slots.conflict[1] = &key;
    }
    slots.value[*field] = &value;
    slots.key[*field] = &key;
  }
  return slots;
}

// Moves a string field out of the row; returns false when it is present but not a string.
bool take_string(const Slots& slots, Field field, std::string& out) {
  json* value = slots.value[field];
  if (!value) return true;
  if (!value->is_string()) return false;
  out = std::move(value->get_ref<std::string&>());
  return true;
}

std::vector<Criterion> default_criteria(const ReaderOptions& options) {
  std::vector<Criterion> criteria;
  criteria.reserve(options.default_criteria.size());
  for (const auto& [name, rubric] : options.default_criteria) {
    Criterion& criterion = criteria.emplace_back();
    criterion.name = name;
    criterion.rubric = rubric;
    criterion.scale = options.default_scale;
    criterion.threshold = default_threshold(options.default_scale);
  }
  return criteria;
}

// The row's own criteria, else the configured defaults; an InvalidLine when neither works.
std::optional<ReadItem> take_criteria(const json* criteria, const ReaderOptions& options, EvalItem& item) {
  if (criteria) {
    CriteriaResult parsed = parse_criteria(*criteria, options.default_scale);
    if (auto* error = std::get_if<CriteriaError>(&parsed)) {
      return bad(item.id, item.line, error->kind.c_str(), error->message);
    }
    item.criteria = std::get<std::vector<Criterion>>(std::move(parsed));
  } else if (options.default_criteria.empty()) {
    return bad(item.id, item.line, "missing_field",
               "missing field \"criteria\" (what to judge the output on); add \"criteria\" to the row or "
               "set \"criteria\" in the config file");
  } else {
    item.criteria = default_criteria(options);
  }
  return std::nullopt;
}

// A pairwise criterion needs output_a and output_b; any other criterion needs output.
std::optional<ReadItem> check_answers(const Slots& slots, const EvalItem& item) {
  for (const Criterion& criterion : item.criteria) {
    if (criterion.pairwise && !(slots.value[kOutputA] && slots.value[kOutputB])) {
      return bad(item.id, item.line, "missing_field",
                 "criterion " + quote_for_message(criterion.name) +
                     " is \"pairwise\": the row needs the two answers to compare, \"output_a\" and \"output_b\"");
    }
    if (!criterion.pairwise && !slots.value[kOutput]) {
      return bad(item.id, item.line, "missing_field",
                 "missing field \"output\" for criterion " + quote_for_message(criterion.name) +
                     " (output_a and output_b serve only \"pairwise\" criteria)");
    }
  }
  return std::nullopt;
}

// One label: a whole number in the criterion's scale; binary also takes true and false.
std::optional<double> label_value(const json& value, const Criterion& criterion) {
  const ScaleRange range = range_of(criterion.scale);
  if (value.is_boolean()) {
    if (criterion.scale != Scale::kBinary) return std::nullopt;
    return value.get<bool>() ? 1.0 : 0.0;
  }
  if (!value.is_number()) return std::nullopt;
  const double number = value.get<double>();
  if (number != std::floor(number) || number < range.min || number > range.max) return std::nullopt;
  return number;
}

// `labels`: {"<criterion name>": <score in its scale, or true/false for binary>}.
std::optional<ReadItem> take_labels(const json* labels, EvalItem& item) {
  if (!labels) return std::nullopt;
  if (!labels->is_object()) {
    return bad(item.id, item.line, "invalid_field",
               std::string("field \"labels\" must be an object {\"<criterion name>\": <score>} (got ") +
                   labels->type_name() + ")");
  }
  item.labels.assign(item.criteria.size(), std::nullopt);
  for (const auto& entry : labels->items()) {
    // Named, not a structured binding: a lambda below captures the name (clang 14 refuses that).
    const std::string& name = entry.key();
    const json& value = entry.value();
    if (value.is_null()) continue;
    const auto found = std::find_if(item.criteria.begin(), item.criteria.end(),
                                    [&](const Criterion& c) { return c.name == name; });
    if (found == item.criteria.end()) {
      return bad(item.id, item.line, "invalid_field",
                 "field \"labels\" names " + quote_for_message(name) +
                     ", which is not one of the row's criteria; label a criterion by its name");
    }
    if (!found->llm || found->pairwise) {
      return bad(item.id, item.line, "invalid_field",
                 "field \"labels\": criterion " + quote_for_message(name) +
                     " is not scored by the judge (a check or a pairwise criterion); only scored LLM criteria "
                     "take labels");
    }
    const std::optional<double> label = label_value(value, *found);
    if (!label) {
      const ScaleRange range = range_of(found->scale);
      return bad(item.id, item.line, "invalid_field",
                 "field \"labels\": " + quote_for_message(name) + " is " + describe_value(value) +
                     ", outside its scale; give " +
                     (found->scale == Scale::kBinary
                          ? std::string("true or false (or 1 or 0)")
                          : "a whole number from " + std::to_string(range.min) + " to " + std::to_string(range.max)));
    }
    item.labels[static_cast<std::size_t>(found - item.criteria.begin())] = label;
  }
  return std::nullopt;
}

// id_given: the row named its own id (so it takes part in the duplicate check).
ReadItem build_item(json::object_t& row, std::int64_t number, const ReaderOptions& options, bool& id_given) {
  Slots slots = find_fields(row);
  EvalItem item;
  item.line = number;
  item.id = number;
  if (json* id = slots.value[kId]) {
    if (!id->is_string() && !id->is_number()) {
      return bad(number, number, "invalid_field",
                 std::string("field \"id\" must be a string or a number (got ") + id->type_name() + ")");
    }
    item.id = std::move(*id);
    id_given = true;
  }
  if (slots.conflict[0]) {
    return bad(item.id, number, "invalid_field",
               "fields " + quote_for_message(*slots.conflict[0]) + " and " +
                   quote_for_message(*slots.conflict[1]) + " mean the same thing; keep one of them");
  }
  const std::pair<Field, std::string*> strings[] = {
      {kPrompt, &item.prompt},     {kOutput, &item.output},     {kReference, &item.reference},
      {kContext, &item.context},   {kOutputA, &item.output_a},  {kOutputB, &item.output_b},
      {kModelA, &item.model_a},    {kModelB, &item.model_b}};
  for (const auto& [field, out] : strings) {
    if (!take_string(slots, field, *out)) {
      return bad(item.id, number, "invalid_field",
                 "field " + quote_for_message(*slots.key[field]) + " must be a string (got " +
                     slots.value[field]->type_name() + ")");
    }
  }
  const bool two_answers = slots.value[kOutputA] && slots.value[kOutputB];
  if (!slots.value[kOutput] && !two_answers) {
    if (slots.value[kOutputA] || slots.value[kOutputB]) {
      return bad(item.id, number, "missing_field",
                 std::string("field \"") + (slots.value[kOutputA] ? "output_b" : "output_a") +
                     "\" is missing: a pairwise row gives both answers, output_a and output_b");
    }
    const auto found = row.find("output");
    return bad(item.id, number, "missing_field",
               missing_output_message(row, found == row.end() ? nullptr : &found->second));
  }
  if (json* metadata = slots.value[kMetadata]) {
    if (!metadata->is_object()) {
      return bad(item.id, number, "invalid_field",
                 std::string("field \"metadata\" must be an object (got ") + metadata->type_name() + ")");
    }
    item.metadata = std::move(*metadata);
  }
  if (json* group = slots.value[kGroup]) {
    if (!group->is_string() && !group->is_number()) {
      return bad(item.id, number, "invalid_field",
                 std::string("field \"group\" must be a string or a number (got ") + group->type_name() +
                     "): rows with the same group are judged as related, e.g. questions on one document");
    }
    item.group = std::move(*group);
  }
  if (auto error = take_criteria(slots.value[kCriteria], options, item)) return *std::move(error);
  if (auto error = check_answers(slots, item)) return *std::move(error);
  if (auto error = take_labels(slots.value[kLabels], item)) return *std::move(error);
  return item;
}

// How reading one line ended.
struct RawLine {
  bool newline = false;      // false at end of input (or when it would block)
  bool would_block = false;  // a non-blocking descriptor has no more bytes for now
  std::optional<int> error;  // errno of a read error
};

// Reads with getc_unlocked rather than fread: fread on a pipe blocks until its whole count is
// read, which would stall `run -` until 64 KiB arrive, and stdio already buffers in chunks.
// Bytes past `keep` are counted and dropped, so memory stays bounded whatever the line length.
// Continues `partial` (and `line`) where a read that would have blocked left them.
RawLine read_line(std::FILE* file, std::string& line, std::size_t keep, JsonlReader::PartialLine& partial) {
  RawLine raw;
  char chunk[4096];
  std::size_t filled = 0;
  auto flush = [&] {
    line.append(chunk, std::min(filled, keep - line.size()));
    filled = 0;
  };
  errno = 0;
  for (int c; (c = getc_unlocked(file)) != EOF;) {
    if (c == '\n') {
      raw.newline = true;
      break;
    }
    chunk[filled++] = static_cast<char>(c);
    if (filled == sizeof chunk) flush();
    ++partial.length;
    partial.last = c;
  }
  flush();
  if (!raw.newline && std::ferror(file)) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      std::clearerr(file);
      raw.would_block = true;
    } else {
      raw.error = errno;
    }
  }
  return raw;
}

ReadItem item_from_value(json& row, std::int64_t line_number, const ReaderOptions& options, bool& id_given) {
  if (!row.is_object()) {
    return bad(line_number, line_number, "invalid_json",
               std::string("expected a JSON object, got ") + (row.is_array() ? "an " : "a ") +
                   row.type_name() +
                   "; each line must be one object like {\"output\": ..., \"criteria\": ...}");
  }
  return build_item(row.get_ref<json::object_t&>(), line_number, options, id_given);
}

ReadItem parse_line(std::string_view line, std::int64_t line_number, const ReaderOptions& options, bool& id_given) {
  if (is_blank(line)) {
    return bad(line_number, line_number, "blank_line",
               "blank line; every line must hold one JSON object, so remove it");
  }
  if (nested_too_deeply(line)) {
    return bad(line_number, line_number, "invalid_json",
               "JSON nested too deeply (more than " + std::to_string(kMaxDepth) +
                   " levels of [ and {); flatten the row");
  }
  json row;
  try {
    row = parse_json(line);
  } catch (const json::exception& e) {  // parse_error, and out_of_range for numbers like 1e999
    return parse_failure(line, line_number, e.what());
  }
  return item_from_value(row, line_number, options, id_given);
}

const json& id_of(const ReadItem& item) {
  if (const auto* valid = std::get_if<EvalItem>(&item)) return valid->id;
  return std::get<InvalidLine>(item).id;
}

}  // namespace

ReadItem parse_row(std::string_view line, std::int64_t line_number, const ReaderOptions& options) {
  bool id_given = false;
  return parse_line(line, line_number, options, id_given);
}

bool too_deeply_nested(std::string_view text) { return nested_too_deeply(text); }

ReadItem row_from_json(nlohmann::json& row, std::int64_t line_number, const ReaderOptions& options, bool* id_given) {
  bool given = false;
  ReadItem item = item_from_value(row, line_number, options, given);
  if (id_given != nullptr) *id_given = given;
  return item;
}

JsonlReader::JsonlReader(std::FILE* file, ReaderOptions options)
    : file_(file), options_(std::move(options)) {}

int JsonlReader::fd() const { return fileno(file_); }

std::optional<ReadItem> JsonlReader::next() {
  for (;;) {
    std::optional<ReadItem> item = next_line();
    if (item || at_end_ || would_block_) return item;
    // Neither: a line of another shard, read past.
  }
}

std::optional<ReadItem> JsonlReader::next_line() {
  if (at_end_) return std::nullopt;
  if (!would_block_) {  // a new line; otherwise go on with the one begun
    if (line_.capacity() > kKeepCapacity) std::string().swap(line_);
    line_.clear();
    partial_ = PartialLine{};
  }
  // Room for the limit plus a CR, and a BOM on the first line.
  const std::size_t extra = 1 + (line_number_ == 0 ? kBom.size() : 0);
  RawLine raw = read_line(file_, line_, std::min(options_.max_line_bytes, SIZE_MAX - extra) + extra, partial_);
  would_block_ = raw.would_block;
  if (would_block_) return std::nullopt;
  PartialLine& line = partial_;
  if (raw.error) {
    at_end_ = true;
    ++line_number_;
    return bad(line_number_, line_number_, "io",
               std::string("could not read the dataset (") + std::strerror(*raw.error) +
                   "); the rest of the file was not read");
  }
  if (line_number_ == 0 && std::string_view(line_).substr(0, kBom.size()) == kBom) {
    line_.erase(0, kBom.size());
    line.length -= kBom.size();
    if (line.length == 0) line.last = EOF;  // a file holding only a BOM has no lines
  }
  if (!raw.newline && line.length == 0) {
    at_end_ = true;
    return std::nullopt;
  }
  ++line_number_;
  if (line.last == '\r') {
    --line.length;
    if (line_.size() > line.length) line_.resize(line.length);
  }
  if ((line_number_ - 1) % options_.shard_count != options_.shard_index) return std::nullopt;
  if (line.length > options_.max_line_bytes) {
    return bad(line_number_, line_number_, "line_too_long",
               "line is " + std::to_string(line.length) + " bytes, over the limit of " +
                   std::to_string(options_.max_line_bytes) + " bytes; shorten or split the row");
  }
  bool id_given = false;
  ReadItem item = parse_line(line_, line_number_, options_, id_given);
  if (!id_given || !options_.check_duplicate_ids) return item;
  // Every row that names an id claims it, a bad row too: whether a later row is a duplicate
  // must not change when an earlier row is fixed. A bad row keeps its own, first problem.
  const std::optional<std::int64_t> first = ids_.insert(id_of(item), line_number_);
  if (!first || std::holds_alternative<InvalidLine>(item)) return item;
  const std::string where = *first > 0 ? "line " + std::to_string(*first) : "an earlier line";
  return bad(id_of(item), line_number_, "duplicate_id",
             "id " + describe_value(id_of(item)) + " is already used by " + where +
                 "; every row needs its own id, so that each result names one row: give this row another id, "
                 "or delete it if it is a copy");
}

}  // namespace llmeval::dataset
