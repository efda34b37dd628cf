// Where the binaries under test and the source tree are, as CMake configured them. Only
// build_paths.cpp sees the absolute paths, so no other test file's compile command depends on
// where the checkout lives (a compiler cache then serves any clone of the same code).
#pragma once

#include <string>

namespace llmeval::testing {

const std::string& llmeval_binary();        // build/cli/llmeval
const std::string& fake_provider_binary();  // build/tests/llmeval_fake_provider
const std::string& source_dir();            // the repository root

}  // namespace llmeval::testing
