#include "core/common/json_parse.h"

#include <string>

#include "core/common/json_dom.h"

namespace llmeval {

using nlohmann::json;

simdjson::dom::parser& thread_json_parser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

// Depth is bounded by the parser's max_depth, so the recursion is too.
json to_nlohmann(simdjson::dom::element element) {
  switch (element.type()) {
    case simdjson::dom::element_type::OBJECT: {
      json object = json::object();
      for (auto [key, value] : simdjson::dom::object(element)) {
        object[std::string(key)] = to_nlohmann(value);  // a repeated key: the last one wins, as in nlohmann
      }
      return object;
    }
    case simdjson::dom::element_type::ARRAY: {
      json array = json::array();
      for (simdjson::dom::element value : simdjson::dom::array(element)) array.push_back(to_nlohmann(value));
      return array;
    }
    case simdjson::dom::element_type::STRING: return std::string(std::string_view(element));
    case simdjson::dom::element_type::INT64: {
      std::int64_t value = int64_t(element);
      if (value >= 0) return static_cast<std::uint64_t>(value);
      return value;
    }
    case simdjson::dom::element_type::UINT64: return uint64_t(element);
    case simdjson::dom::element_type::DOUBLE: return double(element);
    case simdjson::dom::element_type::BOOL: return bool(element);
    case simdjson::dom::element_type::NULL_VALUE: return nullptr;
  }
  return nullptr;
}

json parse_json(std::string_view text) {
  simdjson::dom::element root;
  if (thread_json_parser().parse(text.data(), text.size()).get(root) != simdjson::SUCCESS) {
    return json::parse(text.begin(), text.end());
  }
  return to_nlohmann(root);
}

}  // namespace llmeval
