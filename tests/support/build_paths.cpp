#include "tests/support/build_paths.h"

namespace llmeval::testing {

const std::string& llmeval_binary() {
  static const std::string path = LLMEVAL_BINARY;
  return path;
}

const std::string& fake_provider_binary() {
  static const std::string path = LLMEVAL_FAKE_PROVIDER_BINARY;
  return path;
}

const std::string& source_dir() {
  static const std::string path = LLMEVAL_SOURCE_DIR;
  return path;
}

}  // namespace llmeval::testing
