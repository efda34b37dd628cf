#include "core/server/http_server.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include <nlohmann/json.hpp>

#include "core/common/logging.h"

namespace llmeval::server {
namespace {

// How often deadlines are checked: they hold to about this.
constexpr std::chrono::milliseconds kSweepEvery{100};

timeval to_timeval(std::chrono::milliseconds ms) {
  return {static_cast<time_t>(ms.count() / 1000), static_cast<suseconds_t>((ms.count() % 1000) * 1000)};
}

// libevent 2.1 ends every error page it sends by itself (evhttp_send_error) with this.
constexpr std::string_view kEvhttpPageEnd = "</BODY></HTML>\n";

// The error kind and message of an answer evhttp made by itself: it only does so for a request
// it could not read, before any handler saw it.
std::pair<const char*, std::string> evhttp_error(int status, std::size_t max_body) {
  switch (status) {
    case 413:
      return {"body_too_large", "the request body is over the limit of " + std::to_string(max_body) +
                                    " bytes (--max-body), or its chunked encoding is broken"};
    case 400: return {"bad_request", "the request is not valid HTTP/1.1 (its request line, a header or its framing)"};
    default: return {"http_error", "the request could not be read (HTTP " + std::to_string(status) + ")"};
  }
}

}  // namespace

struct HttpServer::Impl {
  // One client connection: when it became ready for a request, and when that request's first
  // byte came. `busy` from the moment a request was read until its answer is written.
  struct Connection {
    Impl* server = nullptr;
    bufferevent* bev = nullptr;
    evbuffer_cb_entry* watch = nullptr;
    evbuffer_cb_entry* output_watch = nullptr;
    bool rewriting = false;  // on_output is replacing the output (its own changes call it again)
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
  evconnlistener* listener = nullptr;  // freed by evhttp_free
  bool accepts_paused = false;         // accept() failed (out of descriptors); the sweep retries
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
    listener = evconnlistener_new(loop.base(), nullptr, nullptr, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, fd);
    if (listener == nullptr || evhttp_bind_listener(http, listener) == nullptr) {
      if (listener != nullptr) evconnlistener_free(listener);
      throw std::runtime_error("cannot serve HTTP on the listening socket");
    }
    // Without an error callback libevent prints a line to stderr for every failed accept(), and
    // the listening socket stays readable: out of descriptors, that is thousands a second.
    // evhttp owns the listener's callback argument, so the server is found through its evhttp.
    {
      std::lock_guard lock(servers_mutex());
      servers_by_http()[http] = this;
    }
    evconnlistener_set_error_cb(listener, &Impl::on_accept_error);
    schedule_sweep();
  }

  // Every server of the process by its evhttp. A server is built on one thread and runs on its
  // loop's, hence the lock.
  static std::unordered_map<const evhttp*, Impl*>& servers_by_http() {
    static std::unordered_map<const evhttp*, Impl*> servers;
    return servers;
  }
  static std::mutex& servers_mutex() {
    static std::mutex mutex;
    return mutex;
  }
  static Impl* server_of(const evhttp* http) {
    std::lock_guard lock(servers_mutex());
    auto found = servers_by_http().find(http);
    return found == servers_by_http().end() ? nullptr : found->second;
  }

  ~Impl() {
    loop.cancel_timer(sweep_timer);
    // evhttp_free frees the requests still open: their exchanges must not answer them later.
    for (auto& [bev, connection] : connections) {
      if (auto exchange = connection->exchange.lock()) exchange->detach();
    }
    if (http != nullptr) {
      {
        std::lock_guard lock(servers_mutex());
        servers_by_http().erase(http);
      }
      evhttp_free(http);
    }
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
    connection->output_watch = evbuffer_add_cb(bufferevent_get_output(bev), &Impl::on_output, connection.get());
    self->connections.emplace(bev, std::move(connection));
    if (self->options.open_connections != nullptr) self->options.open_connections->add(1);
    if (self->accepts_paused) {
      self->accepts_paused = false;
      self->log->info("accepting connections again ({} open)", self->connections.size());
    }
    return bev;
  }

  // accept() failed, and not for a passing reason (EMFILE, ENFILE, ENOBUFS): stop listening
  // until the next sweep instead of failing again at once, with one warning until it works.
  static void on_accept_error(evconnlistener* listener, void* http) {
    const int error = EVUTIL_SOCKET_ERROR();
    Impl* self = server_of(static_cast<const evhttp*>(http));
    if (self == nullptr) return;  // not ours: cannot happen, the server registers first
    evconnlistener_disable(listener);
    if (self->accepts_paused) return;
    self->accepts_paused = true;
    self->log->warn("cannot accept connections: {} ({} open); retrying every {} ms", std::strerror(error),
                    self->connections.size(), kSweepEvery.count());
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
    evbuffer_remove_cb_entry(bufferevent_get_output(connection.bev), connection.output_watch);
    bufferevent_decref(connection.bev);
    if (options.open_connections != nullptr) options.open_connections->add(-1);
  }

  static void on_input(evbuffer*, const evbuffer_cb_info* info, void* arg) {
    auto* connection = static_cast<Connection*>(arg);
    if (info->n_added == 0 || connection->busy || connection->first_byte) return;
    connection->first_byte = connection->server->clock.now();
  }

  // evhttp answers a request it cannot read (a body over max_body, a malformed request) by
  // itself, with an HTML page: libevent 2.1 has no hook for it (2.2's evhttp_set_errorcb). Such
  // an answer is the only output written while no exchange of ours is open, and it is complete
  // in the output buffer before anything is sent (the socket is written from the loop), so it is
  // replaced there, whole, by the JSON error every other answer of serve uses. A "100 Continue"
  // evhttp writes in the same state is left alone.
  static void on_output(evbuffer* buffer, const evbuffer_cb_info* info, void* arg) {
    auto* connection = static_cast<Connection*>(arg);
    if (info->n_added == 0 || connection->busy || connection->rewriting) return;
    const std::size_t length = evbuffer_get_length(buffer);
    if (length < kEvhttpPageEnd.size() + 12) return;
    const char* text = reinterpret_cast<const char*>(evbuffer_pullup(buffer, -1));
    const std::string_view page(text, length);
    if (page.rfind("HTTP/1.", 0) != 0 || page.substr(length - kEvhttpPageEnd.size()) != kEvhttpPageEnd) return;
    const int status = std::atoi(std::string(page.substr(9, 3)).c_str());
    if (status < 400) return;
    connection->rewriting = true;
    const std::string answer = connection->server->json_error_page(page.substr(0, 8), status);
    evbuffer_drain(buffer, length);
    evbuffer_add(buffer, answer.data(), answer.size());
    connection->rewriting = false;
  }

  // The answer respond_error() would give, as bytes: the connection closes after it (evhttp
  // closes it, as after any page it sends by itself).
  std::string json_error_page(std::string_view version, int status) {
    const auto [kind, message] = evhttp_error(status, options.max_body);
    const std::string body = nlohmann::json({{"error", {{"kind", kind}, {"message", message}}}}).dump() + "\n";
    const char* phrase = status == 413 ? "Payload Too Large" : status == 400 ? "Bad Request" : "Error";
    log->debug("answered {} {} to a request that could not be read", status, kind);
    return std::string(version) + " " + std::to_string(status) + " " + phrase +
           "\r\nContent-Type: application/json\r\nX-Request-Id: " + new_request_id() +
           "\r\nConnection: close\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
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
    if (accepts_paused) evconnlistener_enable(listener);  // on_accept_error stops it again if need be
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
      if (connection->busy) tell_if_client_gone(*connection);
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

  // While a request is being worked on, evhttp does not read its connection, so it would see a
  // client that hung up only when the answer fails to go out. A peek at the socket sees the end
  // of the stream now, and the exchange's gone function lets the work for it stop.
  static void tell_if_client_gone(Connection& connection) {
    auto exchange = connection.exchange.lock();
    if (exchange == nullptr || exchange->answered()) return;
    char byte;
    ssize_t n = ::recv(bufferevent_getfd(connection.bev), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) exchange->client_gone();
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
