// File helpers for tests: a temporary directory that cleans up after itself, and whole-file
// write/read helpers. Failures throw std::runtime_error (a test cannot go on without its files).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace llmeval::testing {

// mkdtemp under /tmp ("/tmp/llmeval-test-XXXXXX"); the destructor removes it recursively.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // path() / name, as a string (handy for argv).
  std::string file(std::string_view name) const;

 private:
  std::filesystem::path path_;
};

// Creates or truncates path and writes content; creates missing parent directories.
void write_file(const std::filesystem::path& path, std::string_view content);
std::string read_file(const std::filesystem::path& path);
// Lines without their '\n' (and without a trailing '\r'); a final unterminated line counts.
std::vector<std::string> read_lines(const std::filesystem::path& path);

}  // namespace llmeval::testing
