// simdjson's DOM for code that reads JSON it knows the shape of (result lines) and wants it fast
// and in document order: the per-thread parser parse_json uses, and the copy of a DOM value
// into a nlohmann::json. Only .cpp files include this (it brings in simdjson.h).
#pragma once

#include <simdjson.h>

#include <nlohmann/json.hpp>

namespace llmeval {

// One parser per thread, reused: its buffers grow to the largest text parsed (~6 bytes a byte).
simdjson::dom::parser& thread_json_parser();

// The same value as nlohmann::json, typed as nlohmann's own parser would type it (non-negative
// integers unsigned; a repeated key: the last one wins).
nlohmann::json to_nlohmann(simdjson::dom::element element);

}  // namespace llmeval
