#include "tests/support/process.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <thread>
#include <utility>

extern char** environ;

namespace llmeval::testing {
namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void fail(const std::string& what, int error) {
  throw std::runtime_error(what + ": " + std::strerror(error));
}

// A pipe whose ends close on exec; posix_spawn dup2s the child's end onto 0/1/2, and the
// dup2ed copy does not inherit O_CLOEXEC.
struct Pipe {
  int read = -1;
  int write = -1;
  Pipe() {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) fail("pipe2", errno);
    read = fds[0];
    write = fds[1];
  }
};

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

void set_nonblocking(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

// The test's environment with extra_env laid over it, as "K=V" strings.
std::vector<std::string> build_env(const std::map<std::string, std::string>& extra_env) {
  std::map<std::string, std::string> merged;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    std::string item = *entry;
    auto eq = item.find('=');
    if (eq != std::string::npos) merged[item.substr(0, eq)] = item.substr(eq + 1);
  }
  for (const auto& [key, value] : extra_env) merged[key] = value;
  std::vector<std::string> env;
  env.reserve(merged.size());
  for (const auto& [key, value] : merged) env.push_back(key + "=" + value);
  return env;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (auto& s : strings) pointers.push_back(s.data());
  pointers.push_back(nullptr);
  return pointers;
}

// Spawns argv with fds stdin_fd/stdout_fd/stderr_fd as 0/1/2 (-1 = inherit the test's).
pid_t spawn(const std::vector<std::string>& argv, const std::map<std::string, std::string>& extra_env,
            int stdin_fd, int stdout_fd, int stderr_fd) {
  if (argv.empty()) throw std::invalid_argument("spawn: empty argv");
  std::vector<std::string> args = argv;
  std::vector<std::string> env = build_env(extra_env);
  auto arg_ptrs = c_strings(args);
  auto env_ptrs = c_strings(env);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (stdin_fd >= 0) posix_spawn_file_actions_adddup2(&actions, stdin_fd, STDIN_FILENO);
  if (stdout_fd >= 0) posix_spawn_file_actions_adddup2(&actions, stdout_fd, STDOUT_FILENO);
  if (stderr_fd >= 0) posix_spawn_file_actions_adddup2(&actions, stderr_fd, STDERR_FILENO);

  // The test process may ignore or block signals (SIGPIPE around our own writes); the child
  // must see the defaults, or a server would shrug off SIGTERM.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t defaults;
  sigemptyset(&defaults);
  for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2, SIGALRM}) {
    sigaddset(&defaults, sig);
  }
  sigset_t empty_mask;
  sigemptyset(&empty_mask);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setsigmask(&attr, &empty_mask);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

  pid_t pid = -1;
  int rc = posix_spawnp(&pid, args[0].c_str(), &actions, &attr, arg_ptrs.data(), env_ptrs.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) fail("posix_spawn " + argv[0], rc);
  return pid;
}

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// Reaps pid if it exits before deadline. Polls with short naps: a helper for integration
// tests, where a millisecond of slack does not matter and a SIGCHLD handler would.
std::optional<int> wait_until(pid_t pid, Clock::time_point deadline) {
  auto nap = std::chrono::milliseconds(1);
  for (;;) {
    int status = 0;
    pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) return decode_status(status);
    if (done < 0 && errno != EINTR) return -1;  // not our child any more: nothing to wait for
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(nap);
    nap = std::min(nap * 2, std::chrono::milliseconds(20));
  }
}

int kill_and_reap(pid_t pid) {
  kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return decode_status(status);
}

int poll_timeout_ms(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left <= 0 ? 0 : static_cast<int>(std::min<long long>(left, 1000));
}

// Reads what is available from fd into out; returns false at EOF or on a hard error.
bool drain(int fd, std::string& out) {
  char chunk[65536];
  for (;;) {
    ssize_t n = ::read(fd, chunk, sizeof(chunk));
    if (n > 0) {
      out.append(chunk, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }
}

// Blocks SIGPIPE on this thread while we feed a child's stdin, so a child that exits without
// reading gives us EPIPE instead of killing the test binary; any SIGPIPE raised meanwhile is
// consumed before the old mask comes back.
class SigpipeGuard {
 public:
  SigpipeGuard() {
    sigemptyset(&pipe_set_);
    sigaddset(&pipe_set_, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set_, &old_);
  }
  ~SigpipeGuard() {
    timespec zero{0, 0};
    while (sigtimedwait(&pipe_set_, nullptr, &zero) > 0) {
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;

 private:
  sigset_t pipe_set_;
  sigset_t old_;
};

}  // namespace

ProcessResult run_process(const std::vector<std::string>& argv, const std::string& stdin_data,
                          std::map<std::string, std::string> extra_env, std::chrono::seconds timeout) {
  SigpipeGuard sigpipe_guard;
  Pipe in, out, err;
  pid_t pid = -1;
  try {
    pid = spawn(argv, extra_env, in.read, out.write, err.write);
  } catch (...) {
    for (int fd : {in.read, in.write, out.read, out.write, err.read, err.write}) ::close(fd);
    throw;
  }
  close_fd(in.read);
  close_fd(out.write);
  close_fd(err.write);
  for (int fd : {in.write, out.read, err.read}) set_nonblocking(fd);

  ProcessResult result;
  auto deadline = Clock::now() + timeout;
  std::size_t written = 0;
  if (stdin_data.empty()) close_fd(in.write);

  // Feed stdin and collect stdout/stderr together, so that neither side can fill a pipe
  // and wait forever on the other.
  while ((out.read >= 0 || err.read >= 0) && Clock::now() < deadline) {
    pollfd fds[3] = {{in.write, POLLOUT, 0}, {out.read, POLLIN, 0}, {err.read, POLLIN, 0}};
    int ready = ::poll(fds, 3, poll_timeout_ms(deadline));
    if (ready < 0 && errno != EINTR) fail("poll", errno);
    if (ready <= 0) continue;
    if (in.write >= 0 && fds[0].revents != 0) {
      ssize_t n = ::write(in.write, stdin_data.data() + written, stdin_data.size() - written);
      if (n > 0) written += static_cast<std::size_t>(n);
      if ((n < 0 && errno != EAGAIN && errno != EINTR) || written == stdin_data.size()) close_fd(in.write);
    }
    if (out.read >= 0 && fds[1].revents != 0 && !drain(out.read, result.out)) close_fd(out.read);
    if (err.read >= 0 && fds[2].revents != 0 && !drain(err.read, result.err)) close_fd(err.read);
  }
  close_fd(in.write);
  close_fd(out.read);
  close_fd(err.read);

  if (auto code = wait_until(pid, deadline)) {
    result.exit_code = *code;
  } else {
    result.timed_out = true;
    result.exit_code = kill_and_reap(pid);
  }
  return result;
}

BackgroundProcess::BackgroundProcess(const std::vector<std::string>& argv,
                                     std::map<std::string, std::string> extra_env, const std::string& stderr_path) {
  Pipe out;
  int dev_null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  int err = -1;
  if (!stderr_path.empty()) {
    err = ::open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (err < 0) throw std::runtime_error("cannot open " + stderr_path + ": " + std::strerror(errno));
  }
  try {
    pid_ = spawn(argv, extra_env, dev_null, out.write, err);
  } catch (...) {
    ::close(dev_null);
    if (err >= 0) ::close(err);
    ::close(out.read);
    ::close(out.write);
    throw;
  }
  ::close(dev_null);
  if (err >= 0) ::close(err);
  ::close(out.write);
  stdout_fd_ = out.read;
  set_nonblocking(stdout_fd_);
}

BackgroundProcess::~BackgroundProcess() {
  if (running()) {
    signal(SIGTERM);
    wait(std::chrono::seconds(5));
  }
  close_fd(stdout_fd_);
}

std::optional<std::string> BackgroundProcess::read_line_with_prefix(const std::string& prefix,
                                                                    std::chrono::milliseconds deadline) {
  auto until = Clock::now() + deadline;
  for (;;) {
    for (auto newline = buffer_.find('\n'); newline != std::string::npos; newline = buffer_.find('\n')) {
      std::string line = buffer_.substr(0, newline);
      buffer_.erase(0, newline + 1);
      if (line.rfind(prefix, 0) == 0) return line;
    }
    if (stdout_fd_ < 0) {
      // EOF: an unterminated last line still counts.
      std::string tail = std::exchange(buffer_, {});
      if (!tail.empty() && tail.rfind(prefix, 0) == 0) return tail;
      return std::nullopt;
    }
    if (Clock::now() >= until) return std::nullopt;
    pollfd fd{stdout_fd_, POLLIN, 0};
    int ready = ::poll(&fd, 1, poll_timeout_ms(until));
    if (ready < 0 && errno != EINTR) fail("poll", errno);
    if (ready > 0 && !drain(stdout_fd_, buffer_)) close_fd(stdout_fd_);  // EOF: keep the tail
  }
}

void BackgroundProcess::signal(int sig) {
  if (running()) ::kill(pid_, sig);
}

int BackgroundProcess::wait(std::chrono::milliseconds timeout) {
  if (exit_code_) return *exit_code_;
  auto code = wait_until(pid_, Clock::now() + timeout);
  exit_code_ = code ? *code : kill_and_reap(pid_);
  return *exit_code_;
}

}  // namespace llmeval::testing
