#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdlib>

int main(int argc, char* argv[]) {
  // Every llmeval a test spawns inherits this. With the judge cache on, verdicts would carry
  // over from one test to the next (fake providers reuse ports, so requests repeat); the cache
  // tests turn it on themselves, each with a cache directory of its own.
  ::setenv("LLMEVAL_CACHE", "off", 1);
  return Catch::Session().run(argc, argv);
}
