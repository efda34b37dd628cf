// FakeEventLoop: an EventLoop driven by a FakeClock, for deterministic unit tests of timers,
// retries and backoff. Nothing happens on its own: the test calls run_until_idle(),
// advance(d) or run().
//
// Timers and posts are kept in (due time, id) order; a post is a timer due now, so posted work
// runs after what is already due and never inside the caller's stack frame. Callbacks may add
// or cancel timers while running. `clock` must outlive the loop. Not thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <utility>

#include "core/common/event_loop.h"
#include "tests/fakes/fake_clock.h"

namespace llmeval::testing {

class FakeEventLoop final : public EventLoop {
 public:
  explicit FakeEventLoop(FakeClock& clock) : clock_(clock) {}
  FakeEventLoop(const FakeEventLoop&) = delete;
  FakeEventLoop& operator=(const FakeEventLoop&) = delete;

  TimerId add_timer(std::chrono::milliseconds delay, std::function<void()> fn) override {
    if (delay.count() < 0) delay = std::chrono::milliseconds(0);
    TimerId id = next_id_++;
    Clock::TimePoint due = clock_.now() + delay;
    queue_.emplace(Key{due, id}, std::move(fn));
    due_by_id_.emplace(id, due);
    return id;
  }

  void cancel_timer(TimerId id) override {
    auto it = due_by_id_.find(id);
    if (it == due_by_id_.end()) return;
    queue_.erase(Key{it->second, id});
    due_by_id_.erase(it);
  }

  void post(std::function<void()> fn) override { add_timer(std::chrono::milliseconds(0), std::move(fn)); }

  // Fires everything in time order, advancing the clock to each timer's due time, until
  // nothing is left or stop() is called. A callback that re-arms itself forever makes this
  // spin forever: such tests should use advance().
  void run() override {
    stopped_ = false;
    while (!stopped_ && !queue_.empty()) {
      Clock::TimePoint due = queue_.begin()->first.due;
      if (due > clock_.now()) clock_.advance(due - clock_.now());
      fire_next();
    }
  }

  void stop() override { stopped_ = true; }

  // Fires every timer already due (including ones those callbacks add for now), without
  // moving the clock. Returns how many fired.
  std::size_t run_until_idle() {
    std::size_t fired = 0;
    while (!queue_.empty() && queue_.begin()->first.due <= clock_.now()) {
      fire_next();
      ++fired;
    }
    return fired;
  }

  // Moves the clock forward by d, stopping at each due timer on the way to fire it in order,
  // and ends exactly d later. Returns how many fired.
  std::size_t advance(Clock::Duration d) {
    Clock::TimePoint target = clock_.now() + d;
    std::size_t fired = run_until_idle();
    while (!queue_.empty() && queue_.begin()->first.due <= target) {
      Clock::TimePoint due = queue_.begin()->first.due;
      if (due > clock_.now()) clock_.advance(due - clock_.now());
      fired += run_until_idle();
    }
    if (target > clock_.now()) clock_.advance(target - clock_.now());
    return fired;
  }

  std::size_t pending() const { return queue_.size(); }
  bool stop_requested() const { return stopped_; }
  // When the earliest pending timer is due, if any.
  std::optional<Clock::TimePoint> next_due() const {
    if (queue_.empty()) return std::nullopt;
    return queue_.begin()->first.due;
  }

 private:
  struct Key {
    Clock::TimePoint due;
    TimerId id;
    bool operator<(const Key& other) const {
      return due != other.due ? due < other.due : id < other.id;
    }
  };

  void fire_next() {
    auto node = queue_.extract(queue_.begin());
    due_by_id_.erase(node.key().id);
    node.mapped()();  // may add or cancel timers; the node is ours until it goes out of scope
  }

  FakeClock& clock_;
  TimerId next_id_ = 1;
  bool stopped_ = false;
  std::map<Key, std::function<void()>> queue_;
  std::map<TimerId, Clock::TimePoint> due_by_id_;
};

}  // namespace llmeval::testing
