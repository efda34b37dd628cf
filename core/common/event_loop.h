// EventLoop: the single loop that carries everything that waits (timers, posted work, and in
// LibeventLoop also libcurl's sockets and, later, hiredis and the HTTP server).
//
// Single-threaded: every method except post_from_any_thread() must be called on the loop
// thread. Callbacks run on the loop thread. Timers are one-shot; cancel_timer() on an id that
// already fired or was cancelled is a no-op.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

struct event_base;

namespace llmeval {

using TimerId = std::uint64_t;

class EventLoop {
 public:
  virtual ~EventLoop() = default;
  virtual TimerId add_timer(std::chrono::milliseconds delay, std::function<void()> fn) = 0;
  virtual void cancel_timer(TimerId id) = 0;
  // Runs fn on the next loop iteration (never inside the caller's stack frame).
  virtual void post(std::function<void()> fn) = 0;
  // Runs fn once, on the loop, when fd has bytes to read (or is at end of file). The default,
  // for fakes, treats fd as readable at once.
  virtual void when_readable(int fd, std::function<void()> fn) {
    (void)fd;
    post(std::move(fn));
  }
  // Runs until stop() is called or nothing is left to wait for.
  virtual void run() = 0;
  virtual void stop() = 0;
};

// The real loop: one libevent event_base. Owns the base; base() is for components that
// register their own events on it (CurlHttpClient, hiredis' adapter, evhttp).
class LibeventLoop final : public EventLoop {
 public:
  LibeventLoop();
  ~LibeventLoop() override;
  LibeventLoop(const LibeventLoop&) = delete;
  LibeventLoop& operator=(const LibeventLoop&) = delete;

  TimerId add_timer(std::chrono::milliseconds delay, std::function<void()> fn) override;
  void cancel_timer(TimerId id) override;
  void post(std::function<void()> fn) override;
  void when_readable(int fd, std::function<void()> fn) override;
  void run() override;
  void stop() override;

  // Runs fn on the loop each time the process receives `signal` (SIGINT, SIGTERM), from the
  // time of this call until the loop is destroyed. libevent turns the signal into an event, so
  // fn may do anything a loop callback may.
  void on_signal(int signal, std::function<void()> fn);

  // Lets other threads post to this loop: registers an eventfd that wakes it. Call once, on the
  // loop thread, before run(); from then on run() lasts until stop(), as the eventfd is always
  // watched.
  void open_cross_thread_queue();
  // Runs fn on this loop's thread, soon; callable from any thread once the queue is open. The
  // caller must know the loop still exists.
  void post_from_any_thread(std::function<void()> fn);

  event_base* base() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace llmeval
