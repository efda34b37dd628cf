// Subprocess helpers for integration tests: run a binary to completion with captured output
// (run_process), or keep one running in the background and read its stdout line by line
// (BackgroundProcess). Built on posix_spawn and pipes; nothing here uses a shell.
//
// Children start with default signal dispositions and an empty signal mask, whatever the test
// process has set. Not thread-safe: use one helper object from one thread.
// Errors that mean the test cannot proceed (spawn failed, pipe failed) throw std::runtime_error.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace llmeval::testing {

struct ProcessResult {
  int exit_code = -1;  // exit status, or 128 + signal number when killed by a signal
  std::string out;     // everything the child wrote to stdout
  std::string err;     // everything the child wrote to stderr
  bool timed_out = false;  // the child outlived the timeout and was killed with SIGKILL
};

// Runs argv (argv[0] is a path, or a name looked up in PATH), feeds stdin_data to its stdin
// then closes it, and waits. extra_env is added to (and overrides) the test's environment.
ProcessResult run_process(const std::vector<std::string>& argv, const std::string& stdin_data = "",
                          std::map<std::string, std::string> extra_env = {},
                          std::chrono::seconds timeout = std::chrono::seconds(60));

// A child that keeps running while the test talks to it (a server). Its stdin is /dev/null,
// its stderr is the test's stderr (or a file), and its stdout is a pipe read by read_line_with_prefix().
// Once the child has said what the test needed, the rest of its stdout is not read; a child
// that then writes more than a pipe's buffer (64 KiB) would block. The destructor sends
// SIGTERM, waits up to 5 s, then SIGKILLs.
class BackgroundProcess {
 public:
  // stderr_path: a file for the child's stderr (created or truncated); empty = the test's stderr.
  explicit BackgroundProcess(const std::vector<std::string>& argv,
                             std::map<std::string, std::string> extra_env = {}, const std::string& stderr_path = "");
  ~BackgroundProcess();
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;

  // Reads stdout lines until one starts with prefix and returns it (without the newline).
  // Lines before it are skipped. nullopt when the deadline passes or stdout closes first.
  std::optional<std::string> read_line_with_prefix(const std::string& prefix,
                                                   std::chrono::milliseconds deadline);

  pid_t pid() const { return pid_; }
  bool running() const { return !exit_code_.has_value(); }
  // Sends sig to the child (no-op once it has been reaped).
  void signal(int sig);
  // Waits for the child to exit; returns its exit code (128 + signal when signalled).
  // Gives up after timeout, SIGKILLs the child and returns 128 + SIGKILL.
  int wait(std::chrono::milliseconds timeout = std::chrono::seconds(30));

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::string buffer_;  // stdout read but not yet returned as a line
  std::optional<int> exit_code_;
};

}  // namespace llmeval::testing
