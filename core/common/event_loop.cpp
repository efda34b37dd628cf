#include "core/common/event_loop.h"

#include <event2/event.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace llmeval {

// Each timer owns a libevent timer event; the map keeps it alive until it fires or is
// cancelled, so cancel_timer() on a fired id finds nothing and does nothing.
struct LibeventLoop::Impl {
  struct Timer {
    LibeventLoop::Impl* owner;
    TimerId id;
    event* ev;
    std::function<void()> fn;
  };

  struct SignalWatch {
    event* ev = nullptr;
    std::function<void()> fn;
  };

  event_base* base = nullptr;
  TimerId next_id = 1;
  // post_from_any_thread(): functions from other threads, and the eventfd that wakes the loop.
  std::mutex foreign_mutex;
  std::vector<std::function<void()>> foreign;
  int wake_fd = -1;
  event* wake_event = nullptr;

  static void on_wake(evutil_socket_t fd, short, void* arg) {
    auto* self = static_cast<Impl*>(arg);
    std::uint64_t count = 0;
    [[maybe_unused]] auto ignored = ::read(fd, &count, sizeof count);
    std::vector<std::function<void()>> batch;
    {
      std::lock_guard lock(self->foreign_mutex);
      batch.swap(self->foreign);
    }
    for (auto& fn : batch) fn();
  }

  std::map<TimerId, std::unique_ptr<Timer>> timers;
  std::vector<std::unique_ptr<SignalWatch>> signals;

  static void on_timer(evutil_socket_t, short, void* arg) {
    auto* timer = static_cast<Timer*>(arg);
    Impl* self = timer->owner;
    auto node = self->timers.extract(timer->id);  // keep it alive while fn runs
    auto fn = std::move(timer->fn);
    event_free(timer->ev);
    timer->ev = nullptr;
    fn();
  }
};

LibeventLoop::LibeventLoop() : impl_(std::make_unique<Impl>()) {
  impl_->base = event_base_new();
  if (impl_->base == nullptr) throw std::runtime_error("event_base_new failed");
}

void LibeventLoop::open_cross_thread_queue() {
  if (impl_->wake_event != nullptr) return;
  impl_->wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (impl_->wake_fd < 0) throw std::runtime_error("eventfd failed");
  impl_->wake_event = event_new(impl_->base, impl_->wake_fd, EV_READ | EV_PERSIST, &Impl::on_wake, impl_.get());
  if (impl_->wake_event == nullptr || event_add(impl_->wake_event, nullptr) != 0) {
    throw std::runtime_error("cannot watch the loop's eventfd");
  }
}

LibeventLoop::~LibeventLoop() {
  for (auto& [id, timer] : impl_->timers) {
    if (timer->ev != nullptr) event_free(timer->ev);
  }
  impl_->timers.clear();
  for (auto& watch : impl_->signals) event_free(watch->ev);
  impl_->signals.clear();
  if (impl_->wake_event != nullptr) event_free(impl_->wake_event);
  if (impl_->wake_fd >= 0) ::close(impl_->wake_fd);
  event_base_free(impl_->base);
}

TimerId LibeventLoop::add_timer(std::chrono::milliseconds delay, std::function<void()> fn) {
  auto timer = std::make_unique<Impl::Timer>();
  timer->owner = impl_.get();
  timer->id = impl_->next_id++;
  timer->fn = std::move(fn);
  timer->ev = evtimer_new(impl_->base, &Impl::on_timer, timer.get());
  auto ms = delay.count() < 0 ? 0 : delay.count();
  timeval tv{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>((ms % 1000) * 1000)};
  evtimer_add(timer->ev, &tv);
  TimerId id = timer->id;
  impl_->timers.emplace(id, std::move(timer));
  return id;
}

void LibeventLoop::cancel_timer(TimerId id) {
  auto it = impl_->timers.find(id);
  if (it == impl_->timers.end()) return;
  if (it->second->ev != nullptr) event_free(it->second->ev);
  impl_->timers.erase(it);
}

void LibeventLoop::post(std::function<void()> fn) { add_timer(std::chrono::milliseconds(0), std::move(fn)); }

void LibeventLoop::when_readable(int fd, std::function<void()> fn) {
  auto* owned = new std::function<void()>(std::move(fn));
  // event_base_once frees its event after the one callback; the trampoline frees fn.
  int rc = event_base_once(
      impl_->base, fd, EV_READ,
      [](evutil_socket_t, short, void* arg) {
        std::unique_ptr<std::function<void()>> callback(static_cast<std::function<void()>*>(arg));
        (*callback)();
      },
      owned, nullptr);
  if (rc != 0) {
    delete owned;
    throw std::runtime_error("cannot watch file descriptor " + std::to_string(fd));
  }
}

void LibeventLoop::on_signal(int signal, std::function<void()> fn) {
  auto watch = std::make_unique<Impl::SignalWatch>();
  watch->fn = std::move(fn);
  watch->ev = evsignal_new(
      impl_->base, signal, [](evutil_socket_t, short, void* arg) { static_cast<Impl::SignalWatch*>(arg)->fn(); },
      watch.get());
  if (watch->ev == nullptr || evsignal_add(watch->ev, nullptr) != 0) {
    if (watch->ev != nullptr) event_free(watch->ev);
    throw std::runtime_error("cannot watch signal " + std::to_string(signal));
  }
  impl_->signals.push_back(std::move(watch));
}

void LibeventLoop::post_from_any_thread(std::function<void()> fn) {
  {
    std::lock_guard lock(impl_->foreign_mutex);
    impl_->foreign.push_back(std::move(fn));
  }
  std::uint64_t one = 1;
  [[maybe_unused]] auto ignored = ::write(impl_->wake_fd, &one, sizeof one);
}

void LibeventLoop::run() { event_base_dispatch(impl_->base); }

void LibeventLoop::stop() { event_base_loopbreak(impl_->base); }

event_base* LibeventLoop::base() const { return impl_->base; }

}  // namespace llmeval
