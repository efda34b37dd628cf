#include "core/server/http_server.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <optional>
#include <random>
#include <stdexcept>
#include <unordered_map>

#include "core/common/logging.h"

namespace llmeval::server {
namespace {

// How often deadlines are checked: they hold to about this.
constexpr std::chrono::milliseconds kSweepEvery{100};

timeval to_timeval(std::chrono::milliseconds ms) {
  return {static_cast<time_t>(ms.count() / 1000), static_cast<suseconds_t>((ms.count() % 1000) * 1000)};
}

}  // namespace

struct HttpServer::Impl {
  // One client connection: when it became ready for a request, and when that request's first
  // byte came. `busy` from the moment a request was read until its answer is written.
  struct Connection {
    Impl* server = nullptr;
    bufferevent* bev = nullptr;
    evbuffer_cb_entry* watch = nullptr;
    Clock::TimePoint ready_since;
    std::optional<Clock::TimePoint> first_byte;
    bool busy = false;
    bool closing = false;
    std::weak_ptr<HttpExchange> exchange;
  };

  LibeventLoop& loop;
  Clock& clock;
  HttpServerOptions options;
  HttpHandler handler;
  HttpExchange::AnsweredFn observer;
  evhttp* http = nullptr;
  std::unordered_map<bufferevent*, std::unique_ptr<Connection>> connections;
  TimerId sweep_timer = 0;
  std::mt19937_64 random{std::random_device{}()};
  std::shared_ptr<spdlog::logger> log = logger("server");

  Impl(LibeventLoop& l, Clock& c, HttpServerOptions o, HttpHandler h, HttpExchange::AnsweredFn obs)
      : loop(l), clock(c), options(o), handler(std::move(h)), observer(std::move(obs)) {}

  void listen(int fd) {
    http = evhttp_new(loop.base());
    if (http == nullptr) {
      ::close(fd);
      throw std::runtime_error("evhttp_new failed");
    }
    evhttp_set_max_body_size(http, static_cast<ev_ssize_t>(options.max_body));
    evhttp_set_max_headers_size(http, static_cast<ev_ssize_t>(options.max_headers));
    // evhttp's inactivity timeout stays as a backstop, for a client that stops reading its answer.
    timeval inactivity = to_timeval(std::max(options.read_timeout, options.idle_timeout));
    evhttp_set_timeout_tv(http, &inactivity);
    // Every method reaches the handler, which answers 405 in JSON.
    evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT |
                                         EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
    evhttp_set_bevcb(http, &Impl::on_new_connection, this);
    evhttp_set_gencb(http, &Impl::on_request, this);
    // Backlog 0: the socket is listening already.
    evconnlistener* listener =
        evconnlistener_new(loop.base(), nullptr, nullptr, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, fd);
    if (listener == nullptr || evhttp_bind_listener(http, listener) == nullptr) {
      if (listener != nullptr) evconnlistener_free(listener);
      throw std::runtime_error("cannot serve HTTP on the listening socket");
    }
    schedule_sweep();
  }

  ~Impl() {
    loop.cancel_timer(sweep_timer);
    // evhttp_free frees the requests still open: their exchanges must not answer them later.
    for (auto& [bev, connection] : connections) {
      if (auto exchange = connection->exchange.lock()) exchange->detach();
    }
    if (http != nullptr) evhttp_free(http);
    for (auto& [bev, connection] : connections) forget(*connection);
    connections.clear();
  }

  // ---- connections -----------------------------------------------------------------------

  // evhttp asks for the bufferevent of each new connection: ours watches the input buffer, and
  // holds a reference of its own. evhttp does not always tell when it frees a connection (its
  // close callback can only be set once the connection exists, and a client may be gone by then),
  // so the sweep finds dead connections instead: evhttp's bufferevent_free() clears the
  // callbacks, and our reference keeps the memory valid until we have seen that.
  static bufferevent* on_new_connection(event_base* base, void* arg) {
    auto* self = static_cast<Impl*>(arg);
    bufferevent* bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (bev == nullptr) return nullptr;  // evhttp makes its own; that connection has no deadlines
    bufferevent_incref(bev);
    auto connection = std::make_unique<Connection>();
    connection->server = self;
    connection->bev = bev;
    connection->ready_since = self->clock.now();
    connection->watch = evbuffer_add_cb(bufferevent_get_input(bev), &Impl::on_input, connection.get());
    self->connections.emplace(bev, std::move(connection));
    if (self->options.open_connections != nullptr) self->options.open_connections->add(1);
    return bev;
  }

  // evhttp has freed the connection when its bufferevent has no event callback any more (evhttp
  // sets one for as long as it uses the connection).
  static bool freed_by_evhttp(bufferevent* bev) {
    bufferevent_event_cb event_cb = nullptr;
    bufferevent_getcb(bev, nullptr, nullptr, &event_cb, nullptr);
    return event_cb == nullptr;
  }

  // Drops our hold on a connection evhttp is done with; the last reference closes the socket.
  void forget(Connection& connection) {
    if (auto exchange = connection.exchange.lock()) exchange->detach();
    evbuffer_remove_cb_entry(bufferevent_get_input(connection.bev), connection.watch);
    bufferevent_decref(connection.bev);
    if (options.open_connections != nullptr) options.open_connections->add(-1);
  }

  static void on_input(evbuffer*, const evbuffer_cb_info* info, void* arg) {
    auto* connection = static_cast<Connection*>(arg);
    if (info->n_added == 0 || connection->busy || connection->first_byte) return;
    connection->first_byte = connection->server->clock.now();
  }

  void schedule_sweep() {
    sweep_timer = loop.add_timer(kSweepEvery, [this] {
      sweep();
      schedule_sweep();
    });
  }

  // Closes connections past their read or idle deadline. shutdown() makes evhttp see the end of
  // the stream and free the connection itself, the way it does when a client hangs up.
  void sweep() {
    auto now = clock.now();
    for (auto it = connections.begin(); it != connections.end();) {
      if (freed_by_evhttp(it->first)) {
        forget(*it->second);
        it = connections.erase(it);
      } else {
        ++it;
      }
    }
    for (auto& [bev, connection] : connections) {
      if (connection->busy || connection->closing) continue;
      const char* reason = nullptr;
      if (connection->first_byte && now - *connection->first_byte >= options.read_timeout) {
        reason = "request not read within the read timeout";
      } else if (!connection->first_byte && now - connection->ready_since >= options.idle_timeout) {
        reason = "idle";
      }
      if (reason == nullptr) continue;
      connection->closing = true;
      log->debug("closing a connection: {}", reason);
      ::shutdown(bufferevent_getfd(bev), SHUT_RDWR);
    }
  }

  // ---- requests --------------------------------------------------------------------------

  std::string new_request_id() {
    char id[17];
    std::snprintf(id, sizeof id, "%016llx", static_cast<unsigned long long>(random()));
    return id;
  }

  static void on_request(evhttp_request* request, void* arg) {
    auto* self = static_cast<Impl*>(arg);
    Connection* connection = nullptr;
    if (evhttp_connection* evcon = evhttp_request_get_connection(request)) {
      auto it = self->connections.find(evhttp_connection_get_bufferevent(evcon));
      if (it != self->connections.end()) connection = it->second.get();
    }
    const char* given = evhttp_find_header(evhttp_request_get_input_headers(request), "X-Request-Id");
    std::string id = given != nullptr && acceptable_request_id(given) ? given : self->new_request_id();
    auto exchange = std::make_shared<HttpExchange>(request, std::move(id), self->clock.now(), self->observer);
    if (connection != nullptr) {
      connection->busy = true;
      connection->first_byte.reset();
      connection->exchange = exchange;
      evhttp_request_set_on_complete_cb(request, &Impl::on_answer_written, connection);
    }
    self->handler(std::move(exchange));
  }

  // The answer is written: the connection waits for its next request (which may have started
  // arriving already, pipelined).
  static void on_answer_written(evhttp_request*, void* arg) {
    auto* connection = static_cast<Connection*>(arg);
    auto now = connection->server->clock.now();
    connection->busy = false;
    connection->ready_since = now;
    connection->first_byte.reset();
    if (evbuffer_get_length(bufferevent_get_input(connection->bev)) > 0) connection->first_byte = now;
  }
};

HttpServer::HttpServer(LibeventLoop& loop, Clock& clock, int listen_fd, HttpServerOptions options,
                       HttpHandler handler, HttpExchange::AnsweredFn observer)
    : impl_(std::make_unique<Impl>(loop, clock, options, std::move(handler), std::move(observer))) {
  impl_->listen(listen_fd);
}

HttpServer::~HttpServer() = default;

std::size_t HttpServer::open_connections() const { return impl_->connections.size(); }

}  // namespace llmeval::server
