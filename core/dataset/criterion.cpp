#include "core/dataset/criterion.h"

namespace llmeval::dataset {

ScaleRange range_of(Scale scale) {
  switch (scale) {
    case Scale::k1to5: return {1, 5};
    case Scale::k1to10: return {1, 10};
    case Scale::kBinary: return {0, 1};
  }
  return {1, 5};
}

const char* to_string(Scale scale) {
  switch (scale) {
    case Scale::k1to5: return "1-5";
    case Scale::k1to10: return "1-10";
    case Scale::kBinary: return "binary";
  }
  return "1-5";
}

double default_threshold(Scale scale) {
  switch (scale) {
    case Scale::k1to5: return 4;
    case Scale::k1to10: return 7;
    case Scale::kBinary: return 1;
  }
  return 4;
}

const char* to_string(CheckType type) {
  switch (type) {
    case CheckType::kContains: return "contains";
    case CheckType::kNotContains: return "not_contains";
    case CheckType::kEquals: return "equals";
    case CheckType::kRegex: return "regex";
    case CheckType::kJson: return "json";
    case CheckType::kMaxChars: return "max_chars";
    case CheckType::kMinChars: return "min_chars";
  }
  return "contains";
}

}  // namespace llmeval::dataset
