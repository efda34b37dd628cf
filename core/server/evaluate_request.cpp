#include "core/server/evaluate_request.h"

#include <nlohmann/json.hpp>

#include "core/common/json_parse.h"
#include "core/dataset/id_set.h"

namespace llmeval::server {
namespace {

using nlohmann::json;

EvaluateRequest failed(int status, std::string kind, std::string message) {
  EvaluateRequest request;
  request.error = RequestError{status, std::move(kind), std::move(message)};
  return request;
}

const json& id_of(const dataset::ReadItem& item) {
  if (const auto* valid = std::get_if<dataset::EvalItem>(&item)) return valid->id;
  return std::get<dataset::InvalidLine>(item).id;
}

// As JsonlReader does for a dataset: every row that names an id claims it (a bad row too), and
// a later valid row naming a claimed id is not judged.
dataset::ReadItem claim_id(dataset::ReadItem item, bool id_given, std::int64_t line, dataset::IdSet& ids) {
  if (!id_given) return item;
  auto first = ids.insert(id_of(item), line);
  if (!first || std::holds_alternative<dataset::InvalidLine>(item)) return item;
  dataset::InvalidLine duplicate;
  duplicate.line = line;
  duplicate.id = id_of(item);
  duplicate.kind = "duplicate_id";
  duplicate.message = "row " + std::to_string(line) + ": id " + duplicate.id.dump() + " is already used by row " +
                      std::to_string(*first) + " of this batch; give every row its own id";
  return duplicate;
}

}  // namespace

EvaluateRequest parse_evaluate_request(std::string_view body, const dataset::ReaderOptions& options,
                                       std::size_t max_rows) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return failed(400, "invalid_json", "empty body: send one dataset row as a JSON object, or {\"rows\": [...]}");
  }
  if (dataset::too_deeply_nested(body)) {
    return failed(400, "invalid_json", "JSON nested too deeply (more than 512 levels of [ and {)");
  }
  json parsed;
  try {
    parsed = parse_json(body);
  } catch (const json::exception&) {
    // The reader's own message says where the JSON breaks.
    dataset::ReadItem item = dataset::parse_row(body, 1, options);
    const auto* invalid = std::get_if<dataset::InvalidLine>(&item);
    return failed(400, "invalid_json", invalid != nullptr ? invalid->message : "the body is not valid JSON");
  }
  EvaluateRequest request;
  auto rows = parsed.is_object() ? parsed.find("rows") : parsed.end();
  if (!parsed.is_object() || rows == parsed.end()) {
    dataset::ReadItem item = dataset::row_from_json(parsed, 1, options);
    if (const auto* invalid = std::get_if<dataset::InvalidLine>(&item)) {
      return failed(400, invalid->kind, invalid->message);
    }
    request.rows.push_back(std::move(item));
    return request;
  }
  if (!rows->is_array()) {
    return failed(400, "invalid_request", std::string("\"rows\" must be an array of dataset rows, got ") +
                                              rows->type_name());
  }
  if (rows->size() > max_rows) {
    return failed(413, "batch_too_large", "a batch holds at most " + std::to_string(max_rows) + " rows (--max-queue); this one has " +
                                              std::to_string(rows->size()) + ": split it");
  }
  request.batch = true;
  request.rows.reserve(rows->size());
  std::int64_t line = 0;
  dataset::IdSet ids;
  for (json& row : *rows) {
    bool id_given = false;
    ++line;
    dataset::ReadItem item = dataset::row_from_json(row, line, options, &id_given);
    request.rows.push_back(claim_id(std::move(item), id_given, line, ids));
  }
  return request;
}

}  // namespace llmeval::server
