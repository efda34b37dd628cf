#include "tests/support/redis_server.h"

#include <arpa/inet.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <thread>
#include <utility>

namespace llmeval::testing {
namespace {

using Clock = std::chrono::steady_clock;

constexpr auto kStartDeadline = std::chrono::seconds(10);
constexpr int kPortAttempts = 5;
constexpr const char* kNotInstalled = "is redis-server installed? bin/setup installs it";

// A port that was free a moment ago: bind port 0, read it back, close. Another process may take
// it before redis-server binds it; start() notices and the caller tries another.
int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
            ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  int error = errno;
  ::close(fd);
  if (!ok) throw std::runtime_error(std::string("cannot find a free port: ") + std::strerror(error));
  return ntohs(addr.sin_port);
}

// Whether the child has exited, without reaping it: BackgroundProcess::wait() does that.
bool has_exited(pid_t pid) {
  siginfo_t info{};
  return ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid;
}

// Blocks SIGPIPE on this thread while hiredis writes, so a server that goes away under a
// command gives EPIPE instead of killing the test binary; a SIGPIPE raised meanwhile is
// consumed before the old mask comes back.
class SigpipeBlock {
 public:
  SigpipeBlock() {
    sigemptyset(&pipe_set_);
    sigaddset(&pipe_set_, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set_, &old_);
  }
  ~SigpipeBlock() {
    timespec zero{0, 0};
    while (sigtimedwait(&pipe_set_, nullptr, &zero) > 0) {
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  SigpipeBlock(const SigpipeBlock&) = delete;
  SigpipeBlock& operator=(const SigpipeBlock&) = delete;

 private:
  sigset_t pipe_set_;
  sigset_t old_;
};

std::string reply_text(const redisReply& reply) {
  switch (reply.type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS: return std::string(reply.str, reply.len);
    case REDIS_REPLY_INTEGER: return std::to_string(reply.integer);
    case REDIS_REPLY_NIL: return "(nil)";
    case REDIS_REPLY_ERROR: throw std::runtime_error("redis error reply: " + std::string(reply.str, reply.len));
    case REDIS_REPLY_ARRAY: {
      std::string text;
      for (std::size_t i = 0; i < reply.elements; ++i) {
        if (i > 0) text += '\n';
        text += reply_text(*reply.element[i]);
      }
      return text;
    }
    default: throw std::runtime_error("redis: unexpected reply type " + std::to_string(reply.type));
  }
}

timeval to_timeval(std::chrono::milliseconds timeout) {
  auto ms = timeout.count();
  return timeval{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>((ms % 1000) * 1000)};
}

}  // namespace

RedisServer::RedisServer() {
  std::string why;
  for (int attempt = 0; attempt < kPortAttempts; ++attempt) {
    int port = free_port();
    why = start(port);
    if (why.empty()) {
      port_ = port;
      return;
    }
  }
  throw std::runtime_error("redis-server did not come up on 127.0.0.1 (" + std::to_string(kPortAttempts) +
                           " ports tried): " + why + " (" + kNotInstalled + ")");
}

RedisServer::~RedisServer() { stop(); }

std::string RedisServer::url() const { return "redis://127.0.0.1:" + std::to_string(port_) + "/0"; }

void RedisServer::pause() {
  if (!process_) return;
  process_->signal(SIGSTOP);
  paused_ = true;
}

void RedisServer::resume() {
  if (!process_) return;
  process_->signal(SIGCONT);
  paused_ = false;
}

void RedisServer::kill() {
  if (!process_) return;
  process_->signal(SIGKILL);  // a stopped process dies of SIGKILL too
  process_->wait();
  paused_ = false;
}

void RedisServer::restart() {
  stop();
  std::string why = start(port_);
  if (!why.empty()) {
    throw std::runtime_error("redis-server did not come back on 127.0.0.1:" + std::to_string(port_) + ": " + why);
  }
}

void RedisServer::stop() {
  if (paused_) resume();
  process_.reset();  // SIGTERM, wait, SIGKILL after 5 s; nothing when already reaped
}

std::string RedisServer::start(int port) {
  // Logs (warnings only) go to stdout, a pipe nobody reads until start-up fails: then they say why.
  std::vector<std::string> argv{"redis-server", "--port", std::to_string(port), "--bind", "127.0.0.1",
                                "--save", "", "--appendonly", "no", "--protected-mode", "no",
                                "--daemonize", "no", "--loglevel", "warning"};
  try {
    process_ = std::make_unique<BackgroundProcess>(argv);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(std::string("cannot start redis-server (") + kNotInstalled + "): " + e.what());
  }
  paused_ = false;
  int previous_port = std::exchange(port_, port);  // command() talks to port_
  auto deadline = Clock::now() + kStartDeadline;
  for (auto nap = std::chrono::milliseconds(2); Clock::now() < deadline;
       nap = std::min(nap * 2, std::chrono::milliseconds(50))) {
    if (has_exited(process_->pid())) {
      std::string output;
      while (auto line = process_->read_line_with_prefix("", std::chrono::milliseconds(200))) output += *line + " | ";
      int code = process_->wait();
      port_ = previous_port;
      return "redis-server exited with " + std::to_string(code) + ": " + output;
    }
    try {
      if (command({"PING"}, std::chrono::milliseconds(200)) == "PONG") {
        // Another test's server may have taken the port first; ours would then have exited.
        std::string info = command({"INFO", "server"});
        if (info.find("process_id:" + std::to_string(process_->pid()) + "\r") != std::string::npos) return "";
      }
    } catch (const std::runtime_error&) {
      // not listening yet
    }
    std::this_thread::sleep_for(nap);
  }
  process_.reset();
  port_ = previous_port;
  return "no answer to PING within 10 s";
}

std::string RedisServer::command(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) const {
  if (argv.empty()) throw std::invalid_argument("RedisServer::command: empty argv");
  SigpipeBlock sigpipe_block;
  timeval tv = to_timeval(timeout);
  std::unique_ptr<redisContext, decltype(&redisFree)> context(redisConnectWithTimeout("127.0.0.1", port_, tv),
                                                              &redisFree);
  std::string where = "redis 127.0.0.1:" + std::to_string(port_) + ": ";
  if (!context) throw std::runtime_error(where + "cannot allocate a context");
  if (context->err != 0) throw std::runtime_error(where + "connect: " + context->errstr);
  redisSetTimeout(context.get(), tv);

  std::vector<const char*> args;
  std::vector<std::size_t> lengths;
  for (const auto& arg : argv) {
    args.push_back(arg.data());
    lengths.push_back(arg.size());
  }
  void* raw = redisCommandArgv(context.get(), static_cast<int>(args.size()), args.data(), lengths.data());
  if (raw == nullptr) throw std::runtime_error(where + argv[0] + ": " + context->errstr);
  std::unique_ptr<redisReply, decltype(&freeReplyObject)> reply(static_cast<redisReply*>(raw), &freeReplyObject);
  return reply_text(*reply);
}

}  // namespace llmeval::testing
