#include "core/report/dataset_texts.h"

#include <fstream>
#include <initializer_list>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/common/error.h"
#include "core/common/json_parse.h"
#include "core/report/html_text.h"

namespace llmeval::report {
namespace {

std::string field_text(const nlohmann::json& row, std::initializer_list<std::string_view> aliases,
                       std::size_t max_bytes) {
  for (std::string_view key : aliases) {
    auto it = row.find(key);
    if (it == row.end() || it->is_null()) continue;
    if (it->is_string()) return cut_text(it->get_ref<const std::string&>(), max_bytes);
    return cut_text(it->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), max_bytes);
  }
  return {};
}

}  // namespace

RowTexts texts_of_line(const std::string& line, std::size_t max_bytes) {
  nlohmann::json row;
  try {
    row = parse_json(line);
  } catch (const nlohmann::json::exception&) {
    return {};
  }
  if (!row.is_object()) return {};
  // The aliases of jsonl_reader.cpp.
  return RowTexts{field_text(row, {"prompt", "input", "question"}, max_bytes),
                  field_text(row, {"output", "response", "completion", "actual_output"}, max_bytes)};
}

Result<std::unique_ptr<DatasetTexts>> DatasetTexts::load(const std::string& path, std::size_t max_bytes) {
  std::unique_ptr<DatasetTexts> texts(new DatasetTexts());
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{ErrorKind::kIo, "cannot read dataset " + path};
  std::string line;
  std::int64_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (number == 1 && line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);  // a UTF-8 BOM
    if (!line.empty() && line.back() == '\r') line.pop_back();
    texts->texts_.emplace(number, texts_of_line(line, max_bytes));
  }
  if (in.bad()) return Error{ErrorKind::kIo, "cannot read dataset " + path};
  return texts;
}

const RowTexts* DatasetTexts::find(std::int64_t line) const {
  auto it = texts_.find(line);
  return it == texts_.end() ? nullptr : &it->second;
}

}  // namespace llmeval::report
