#include "core/redis/redis_client.h"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
// The adapter is a header of static functions; including it in this one file is its intended use.
#include <hiredis/adapters/libevent.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <unordered_map>
#include <utility>

#include "core/common/logging.h"

namespace llmeval::redis {
namespace {

Result<RedisValue> convert(const redisReply* reply) {
  RedisValue value;
  switch (reply->type) {
    case REDIS_REPLY_ERROR: return Error{ErrorKind::kIo, "redis: " + std::string(reply->str, reply->len)};
    case REDIS_REPLY_NIL: return value;
    case REDIS_REPLY_INTEGER:
      value.type = RedisValue::Type::kInteger;
      value.integer = reply->integer;
      return value;
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_STRING:
      value.type = reply->type == REDIS_REPLY_STATUS ? RedisValue::Type::kStatus : RedisValue::Type::kString;
      value.text.assign(reply->str, reply->len);
      return value;
    case REDIS_REPLY_ARRAY:
      value.type = RedisValue::Type::kArray;
      for (std::size_t i = 0; i < reply->elements; ++i) {
        Result<RedisValue> element = convert(reply->element[i]);
        if (!element.ok()) return element.error();
        value.elements.push_back(std::move(element).value());
      }
      return value;
    default: return Error{ErrorKind::kIo, "redis: unexpected reply type " + std::to_string(reply->type)};
  }
}

}  // namespace

struct RedisClient::Impl {
  enum class State { kDisconnected, kConnecting, kConnected };
  struct Pending {
    RedisCallback done;
    TimerId deadline = 0;
  };

  LibeventLoop& loop;
  RedisUrl url;
  RedisClientOptions options;
  redisAsyncContext* context = nullptr;
  State state = State::kDisconnected;
  std::unordered_map<std::uint64_t, Pending> pending;
  std::uint64_t next_id = 1;
  std::chrono::milliseconds backoff;
  TimerId reconnect_timer = 0;
  bool destroying = false;
  std::mt19937 random{std::random_device{}()};
  std::shared_ptr<spdlog::logger> log = logger("redis");

  Impl(LibeventLoop& l, RedisUrl u, RedisClientOptions o)
      : loop(l), url(std::move(u)), options(o), backoff(o.reconnect_min) {}

  void connect() {
    reconnect_timer = 0;
    redisAsyncContext* ac = redisAsyncConnect(url.host.c_str(), url.port);
    if (ac == nullptr || ac->err != 0) {
      log->debug("cannot connect to {}: {}", url.to_display(), ac != nullptr ? ac->errstr : "out of memory");
      if (ac != nullptr) redisAsyncFree(ac);
      schedule_reconnect();
      return;
    }
    ac->data = this;
    redisLibeventAttach(ac, loop.base());
    redisAsyncSetConnectCallback(ac, &Impl::on_connect);
    redisAsyncSetDisconnectCallback(ac, &Impl::on_disconnect);
    context = ac;
    state = State::kConnecting;
    // Queued ahead of every other command, so they run authenticated and on the right db.
    if (!url.password.empty()) {
      std::vector<std::string> auth{"AUTH"};
      if (!url.user.empty()) auth.push_back(url.user);
      auth.push_back(url.password);
      send(std::move(auth), [this](Result<RedisValue> reply) { check_setup(reply, "AUTH"); });
    }
    if (url.db != 0) {
      send({"SELECT", std::to_string(url.db)}, [this](Result<RedisValue> reply) { check_setup(reply, "SELECT"); });
    }
  }

  void check_setup(const Result<RedisValue>& reply, const char* what) {
    if (reply.ok() || reply.error().kind != ErrorKind::kIo) return;
    // A wrong password or db is a configuration problem: say so, whatever the log level.
    log->error("{} {} failed: {}", url.to_display(), what, reply.error().message);
  }

  static Impl* owner(const redisAsyncContext* ac) { return static_cast<Impl*>(ac->data); }

  static void on_connect(const redisAsyncContext* ac, int status) {
    Impl* self = owner(ac);
    if (self->destroying || ac != self->context) return;
    if (status != REDIS_OK) {
      self->log->debug("cannot connect to {}: {}", self->url.to_display(), ac->errstr);
      self->lost_connection();  // hiredis frees the context after this callback
      return;
    }
    self->state = State::kConnected;
    self->log->debug("connected to {}", self->url.to_display());
  }

  static void on_disconnect(const redisAsyncContext* ac, int /*status*/) {
    Impl* self = owner(ac);
    if (self->destroying || ac != self->context) return;  // our own drop_connection()
    self->log->debug("connection to {} closed: {}", self->url.to_display(), ac->errstr != nullptr ? ac->errstr : "");
    self->lost_connection();
  }

  // hiredis is freeing the context itself: forget it and fail what was waiting.
  void lost_connection() {
    context = nullptr;
    state = State::kDisconnected;
    fail_pending("connection to redis lost");
    schedule_reconnect();
  }

  // We give up on a stalled connection: free it (hiredis answers its callbacks with no reply).
  void drop_connection() {
    redisAsyncContext* ac = context;
    context = nullptr;
    state = State::kDisconnected;
    if (ac != nullptr) redisAsyncFree(ac);
    fail_pending("connection to redis dropped");
    schedule_reconnect();
  }

  void fail_pending(const std::string& why) {
    auto failed = std::move(pending);
    pending.clear();
    for (auto& [id, p] : failed) {
      loop.cancel_timer(p.deadline);
      loop.post([done = std::move(p.done), why] { done(Error{ErrorKind::kConnect, why}); });
    }
  }

  void schedule_reconnect() {
    if (reconnect_timer != 0 || destroying) return;
    std::uniform_int_distribution<std::int64_t> jitter(backoff.count() / 2, backoff.count());
    auto delay = std::chrono::milliseconds(jitter(random));
    backoff = std::min(backoff * 2, options.reconnect_max);
    reconnect_timer = loop.add_timer(delay, [this] { connect(); });
  }

  void send(std::vector<std::string> argv, RedisCallback done) {
    if (context == nullptr) {
      loop.post([done = std::move(done), where = url.to_display()] {
        done(Error{ErrorKind::kConnect, "not connected to redis at " + where});
      });
      return;
    }
    std::vector<const char*> pointers;
    std::vector<std::size_t> lengths;
    pointers.reserve(argv.size());
    lengths.reserve(argv.size());
    for (const auto& arg : argv) {
      pointers.push_back(arg.data());
      lengths.push_back(arg.size());
    }
    std::uint64_t id = next_id++;
    int rc = redisAsyncCommandArgv(context, &Impl::on_reply, reinterpret_cast<void*>(static_cast<std::uintptr_t>(id)),
                                   static_cast<int>(argv.size()), pointers.data(), lengths.data());
    if (rc != REDIS_OK) {
      loop.post([done = std::move(done)] { done(Error{ErrorKind::kConnect, "redis connection is closing"}); });
      return;
    }
    TimerId deadline = loop.add_timer(options.command_timeout, [this, id] { on_timeout(id); });
    pending.emplace(id, Pending{std::move(done), deadline});
  }

  static void on_reply(redisAsyncContext* ac, void* reply, void* privdata) {
    Impl* self = owner(ac);
    if (self->destroying) return;
    auto it = self->pending.find(static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(privdata)));
    if (it == self->pending.end()) return;  // already timed out or failed
    Pending p = std::move(it->second);
    self->pending.erase(it);
    self->loop.cancel_timer(p.deadline);
    if (reply == nullptr) {  // the context is being freed: answer from the loop, not from inside hiredis
      self->loop.post([done = std::move(p.done)] { done(Error{ErrorKind::kConnect, "connection to redis lost"}); });
      return;
    }
    self->backoff = self->options.reconnect_min;  // Redis answers: the next outage starts over
    p.done(convert(static_cast<redisReply*>(reply)));
  }

  void on_timeout(std::uint64_t id) {
    auto it = pending.find(id);
    if (it == pending.end()) return;
    RedisCallback done = std::move(it->second.done);
    pending.erase(it);
    // One command late means the server (or the path to it) is stalled for every command.
    log->debug("{} did not answer within {}ms; reconnecting", url.to_display(), options.command_timeout.count());
    drop_connection();
    done(Error{ErrorKind::kTimeout,
               "redis did not answer within " + std::to_string(options.command_timeout.count()) + "ms"});
  }
};

RedisClient::RedisClient(LibeventLoop& loop, RedisUrl url, RedisClientOptions options)
    : impl_(std::make_unique<Impl>(loop, std::move(url), options)) {
  impl_->connect();
}

RedisClient::~RedisClient() {
  impl_->destroying = true;
  for (auto& [id, p] : impl_->pending) impl_->loop.cancel_timer(p.deadline);
  impl_->pending.clear();
  if (impl_->reconnect_timer != 0) impl_->loop.cancel_timer(impl_->reconnect_timer);
  if (impl_->context != nullptr) redisAsyncFree(impl_->context);
}

void RedisClient::command(std::vector<std::string> argv, RedisCallback done) {
  impl_->send(std::move(argv), std::move(done));
}

bool RedisClient::connected() const { return impl_->state == Impl::State::kConnected; }

const RedisUrl& RedisClient::url() const { return impl_->url; }

}  // namespace llmeval::redis
