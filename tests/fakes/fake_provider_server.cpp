// llmeval_fake_provider: a real HTTP server on 127.0.0.1 (libevent evhttp, one thread) that
// speaks the OpenAI chat-completions and Anthropic messages wire APIs and answers like a
// deterministic LLM judge, with latency and fault injection. Integration tests and benchmarks
// start it on port 0 and read the `PORT=<n>` line it prints on stdout.
//
// Endpoints:
//   POST /v1/chat/completions, /chat/completions   OpenAI (auth: Authorization: Bearer K)
//   POST /v1/messages                              Anthropic (auth: x-api-key: K; needs
//                                                  anthropic-version)
//   GET  /stats, POST /stats/reset                 counters for tests (not counted themselves)
//
// The verdict: the score range comes from a `Scale: MIN-MAX` line (default 1-5; `binary` means
// 0-1); the score is FNV-1a(last user message) mod range + MIN. Markers `[[fake:key=value]]` in
// any user message script one request (see kUsage). Latency is an evtimer, never a sleep, so a
// single thread holds thousands of requests in flight.
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <simdjson.h>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

namespace {

using nlohmann::json;

constexpr const char* kUsage = R"(usage: llmeval_fake_provider [options]
  --port N          port on 127.0.0.1 (default 0: pick a free one; printed as PORT=<n>)
  --latency-ms N    latency added to every API reply (default 0)
  --jitter-ms N     extra uniform random latency in [0, N] (default 0)
  --error-rate P    fraction of API requests answered 500 (default 0)
  --rate-429 P      fraction of API requests answered 429 with retry-after: 1 (default 0)
  --seed N          seed for latency jitter and injected errors (default 1)
  --api-key K       require this key (Bearer / x-api-key); default: accept any
Markers in a user message: [[fake:score=N]] [[fake:status=NNN]] [[fake:delay_ms=N]]
  [[fake:reply=unparseable|unparseable_once|fenced|out_of_range]] [[fake:fail_first=N]]
  [[fake:body=not_json|error_object]] [[fake:exhausted=N]] (rate-limit headers: used up for N s)
)";

struct Options {
  int port = 0;
  int latency_ms = 0;
  int jitter_ms = 0;
  double error_rate = 0;
  double rate_429 = 0;
  std::uint64_t seed = 1;
  std::optional<std::string> api_key;
};

[[noreturn]] void usage_error(const std::string& message) {
  std::cerr << "llmeval_fake_provider: " << message << "\n" << kUsage;
  std::exit(2);
}

template <typename T>
T parse_number(const std::string& flag, const std::string& text) {
  T value{};
  if constexpr (std::is_floating_point_v<T>) {
    try {
      std::size_t used = 0;
      value = static_cast<T>(std::stod(text, &used));
      if (used == text.size()) return value;
    } catch (const std::exception&) {
    }
  } else {
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec == std::errc() && end == text.data() + text.size()) return value;
  }
  usage_error("bad value for " + flag + ": '" + text + "'");
}

// Accepts `--flag value` and `--flag=value`.
Options parse_args(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    std::string value;
    if (auto eq = flag.find('='); eq != std::string::npos) {
      value = flag.substr(eq + 1);
      flag.resize(eq);
    } else if (flag == "-h" || flag == "--help") {
      std::cout << kUsage;
      std::exit(0);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      usage_error("missing value for " + flag);
    }
    if (flag == "--port") options.port = parse_number<int>(flag, value);
    else if (flag == "--latency-ms") options.latency_ms = parse_number<int>(flag, value);
    else if (flag == "--jitter-ms") options.jitter_ms = parse_number<int>(flag, value);
    else if (flag == "--error-rate") options.error_rate = parse_number<double>(flag, value);
    else if (flag == "--rate-429") options.rate_429 = parse_number<double>(flag, value);
    else if (flag == "--seed") options.seed = parse_number<std::uint64_t>(flag, value);
    else if (flag == "--api-key") options.api_key = value;
    else usage_error("unknown option " + flag);
  }
  if (options.port < 0 || options.port > 65535) usage_error("--port out of range");
  if (options.latency_ms < 0 || options.jitter_ms < 0) usage_error("latencies must be >= 0");
  return options;
}

// ---- the judge's side: scale, markers, verdict text (pure) ----

// FNV-1a, 64-bit: cheap, stable across platforms, good enough to spread scores.
std::uint64_t fnv1a(std::string_view text) {
  std::uint64_t hash = 14695981039346656037ULL;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ULL;
  }
  return hash;
}

struct Scale {
  int min = 1;
  int max = 5;
};

// Finds `Scale: MIN-MAX` (or `Scale: binary`) anywhere in text.
std::optional<Scale> find_scale(std::string_view text) {
  constexpr std::string_view kKey = "Scale:";
  for (auto pos = text.find(kKey); pos != std::string_view::npos; pos = text.find(kKey, pos + 1)) {
    std::string_view rest = text.substr(pos + kKey.size());
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    if (rest.substr(0, 6) == "binary") return Scale{0, 1};
    Scale scale;
    auto [mid, ec1] = std::from_chars(rest.data(), rest.data() + rest.size(), scale.min);
    if (ec1 != std::errc() || mid == rest.data() + rest.size() || *mid != '-') continue;
    auto [end, ec2] = std::from_chars(mid + 1, rest.data() + rest.size(), scale.max);
    if (ec2 == std::errc() && scale.max > scale.min) return scale;
  }
  return std::nullopt;
}

struct Markers {
  std::optional<int> score;
  std::optional<int> status;
  std::optional<int> delay_ms;
  std::optional<int> fail_first;
  std::optional<int> exhausted_s;  // rate-limit headers: budget used up, resets in N seconds
  std::string reply;  // unparseable | unparseable_once | fenced | out_of_range
  std::string body;   // not_json | error_object
};

// Reads every `[[fake:key=value]]` in text into markers; later ones win. Unknown keys and bad
// numbers are ignored so that a typo shows up as a normal reply rather than a crash.
void read_markers(std::string_view text, Markers& markers) {
  constexpr std::string_view kOpen = "[[fake:";
  for (auto pos = text.find(kOpen); pos != std::string_view::npos; pos = text.find(kOpen, pos + 1)) {
    auto close = text.find("]]", pos);
    if (close == std::string_view::npos) return;
    std::string_view item = text.substr(pos + kOpen.size(), close - pos - kOpen.size());
    auto eq = item.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view key = item.substr(0, eq);
    std::string_view value = item.substr(eq + 1);
    int number = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), number);
    bool numeric = ec == std::errc() && end == value.data() + value.size();
    if (key == "score" && numeric) markers.score = number;
    else if (key == "status" && numeric && number >= 100 && number <= 599) markers.status = number;
    else if (key == "delay_ms" && numeric) markers.delay_ms = number;
    else if (key == "fail_first" && numeric) markers.fail_first = number;
    else if (key == "exhausted" && numeric) markers.exhausted_s = number;
    else if (key == "reply") markers.reply = value;
    else if (key == "body") markers.body = value;
  }
}

std::string verdict_text(int score, Scale scale) {
  bool pass = score >= (scale.min + scale.max) / 2.0;
  return std::string(R"({"score": )") + std::to_string(score) + R"(, "pass": )" +
         (pass ? "true" : "false") + R"(, "reason": "fake judge: deterministic score"})";
}

// ---- the wire side: requests in, vendor-shaped bodies out ----

enum class Vendor { kOpenAi, kAnthropic };

// What the judge needs from a request, whichever vendor's shape it came in.
struct Conversation {
  std::string model;
  std::string last_user;   // content of the last user message
  std::string all_user;    // every user message, in order (markers may sit in an earlier turn)
  std::string system;      // system prompt(s): a fallback place for the Scale line
  bool has_assistant = false;  // a repair attempt replays the bad reply as an assistant turn
  std::size_t total_chars = 0;
};

// Requests are read with simdjson: the fake must not be the bottleneck of the throughput
// benchmark, and nlohmann's per-character lexer made request parsing most of its CPU.
using simdjson::dom::element;

// Message content is a string or (both vendors) an array of parts; the text parts count.
std::optional<std::string> content_text(element content) {
  if (content.is_string()) return std::string(std::string_view(content));
  if (!content.is_array()) return std::nullopt;
  std::string text;
  for (element part : content.get_array()) {
    element part_text;
    if (part.is_object() && part["text"].get(part_text) == simdjson::SUCCESS && part_text.is_string()) {
      text += std::string_view(part_text);
    }
  }
  return text;
}

// Validates the request shape the way the real APIs do (so provider bugs surface here) and
// returns the conversation, or an error message for a 400.
std::variant<Conversation, std::string> read_conversation(Vendor vendor, element body) {
  if (!body.is_object()) return std::string("request body must be a JSON object");
  Conversation conv;
  element field;
  if (body["model"].get(field) != simdjson::SUCCESS || !field.is_string()) {
    return std::string("model: required string");
  }
  conv.model = std::string(std::string_view(field));
  if (vendor == Vendor::kAnthropic) {
    if (body["max_tokens"].get(field) != simdjson::SUCCESS || !(field.is_int64() || field.is_uint64())) {
      return std::string("max_tokens: Field required");
    }
    if (body["system"].get(field) == simdjson::SUCCESS) {
      auto system = content_text(field);
      if (!system) return std::string("system: must be a string or a list of text blocks");
      conv.system = *system;
    }
  }
  simdjson::dom::array messages;
  if (body["messages"].get(messages) != simdjson::SUCCESS || messages.size() == 0) {
    return std::string("messages: required non-empty array");
  }
  bool seen_user = false;
  for (element message : messages) {
    element role_field;
    if (!message.is_object() || message["role"].get(role_field) != simdjson::SUCCESS || !role_field.is_string()) {
      return std::string("messages: each message needs a string role");
    }
    std::string role{std::string_view(role_field)};
    element content;
    auto text = message["content"].get(content) == simdjson::SUCCESS ? content_text(content) : std::nullopt;
    if (!text) return std::string("messages: content must be a string or a list of parts");
    conv.total_chars += text->size();
    if (role == "user") {
      seen_user = true;
      conv.all_user += *text;
      conv.all_user += '\n';
      conv.last_user = std::move(*text);
    } else if (role == "assistant") {
      conv.has_assistant = true;
    } else if (vendor == Vendor::kAnthropic) {
      // Anthropic takes the system prompt as a top-level field, never as a message.
      return "messages: unexpected role '" + role + "' (use the top-level system field)";
    } else if (role == "system" || role == "developer") {
      conv.system += *text;
    }
  }
  if (!seen_user) return std::string("messages: at least one user message is required");
  conv.total_chars += conv.system.size();
  return conv;
}

std::string openai_error_type(int status) {
  switch (status) {
    case 400: return "invalid_request_error";
    case 401: return "invalid_request_error";
    case 403: return "permission_error";
    case 404: return "invalid_request_error";
    case 429: return "rate_limit_exceeded";
    default: return status >= 500 ? "server_error" : "invalid_request_error";
  }
}

std::string anthropic_error_type(int status) {
  switch (status) {
    case 400: return "invalid_request_error";
    case 401: return "authentication_error";
    case 403: return "permission_error";
    case 404: return "not_found_error";
    case 413: return "request_too_large";
    case 429: return "rate_limit_error";
    case 503:
    case 529: return "overloaded_error";
    default: return status >= 500 ? "api_error" : "invalid_request_error";
  }
}

std::string error_body(Vendor vendor, int status, const std::string& message) {
  if (vendor == Vendor::kAnthropic) {
    return json{{"type", "error"},
                {"error", {{"type", anthropic_error_type(status)}, {"message", message}}}}
        .dump();
  }
  json code = status == 401 ? json("invalid_api_key") : status == 429 ? json("rate_limit_exceeded") : json(nullptr);
  return json{{"error", {{"message", message}, {"type", openai_error_type(status)}, {"param", nullptr}, {"code", code}}}}
      .dump();
}

// Appends text as a JSON string literal. Success bodies are built by hand because they are the
// hot path of the benchmark: a json DOM plus dump() per reply showed up at ~25% of user time.
void append_json_string(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (unsigned char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xf];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

std::string completion_body(Vendor vendor, const std::string& id, const Conversation& conv,
                            const std::string& text) {
  auto prompt_tokens = std::to_string(conv.total_chars / 4);
  auto completion_tokens = std::to_string(text.size() / 4);
  std::string out;
  out.reserve(320 + text.size() + conv.model.size());
  if (vendor == Vendor::kAnthropic) {
    out += R"({"id":")" + id + R"(","type":"message","role":"assistant","model":)";
    append_json_string(out, conv.model);
    out += R"(,"content":[{"type":"text","text":)";
    append_json_string(out, text);
    out += R"(}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":)" + prompt_tokens +
           R"(,"output_tokens":)" + completion_tokens + "}}";
    return out;
  }
  out += R"({"id":")" + id + R"(","object":"chat.completion","created":1700000000,"model":)";
  append_json_string(out, conv.model);
  out += R"(,"choices":[{"index":0,"message":{"role":"assistant","content":)";
  append_json_string(out, text);
  out += R"(},"finish_reason":"stop"}],"usage":{"prompt_tokens":)" + prompt_tokens +
         R"(,"completion_tokens":)" + completion_tokens + R"(,"total_tokens":)" +
         std::to_string(conv.total_chars / 4 + text.size() / 4) + "}}";
  return out;
}

struct Reply {
  explicit Reply(int s = 200, std::string b = {}, const char* type = "application/json", bool after = false)
      : status(s), body(std::move(b)), content_type(type), retry_after(after) {}

  int status = 200;
  std::string body;
  const char* content_type = "application/json";
  bool retry_after = false;  // 429s tell the client to come back in 1 s
  // Vendor rate-limit headers saying the request budget is used up for this many seconds.
  std::optional<int> exhausted_s;
  Vendor vendor = Vendor::kOpenAi;
};

Reply error_reply(Vendor vendor, int status, const std::string& message) {
  return Reply{status, error_body(vendor, status, message), "application/json", status == 429};
}

// libevent knows the RFC 2616 phrases; the vendors' newer codes would read "Client Error".
const char* reason_phrase(int status) {
  switch (status) {
    case 429: return "Too Many Requests";
    case 529: return "Overloaded";
    default: return nullptr;  // evhttp fills in its own
  }
}

std::string header_or_empty(evhttp_request* req, const char* name) {
  const char* value = evhttp_find_header(evhttp_request_get_input_headers(req), name);
  return value != nullptr ? value : "";
}

std::string_view request_body(evhttp_request* req) {
  evbuffer* buffer = evhttp_request_get_input_buffer(req);
  auto size = evbuffer_get_length(buffer);
  if (size == 0) return {};
  // One contiguous copy inside libevent; the view lives as long as the request.
  auto* data = reinterpret_cast<const char*>(evbuffer_pullup(buffer, -1));
  return {data, size};
}

// ---- the server ----

struct Stats {
  std::uint64_t requests = 0;
  std::int64_t in_flight = 0;
  std::int64_t max_in_flight = 0;
  std::map<std::string, std::uint64_t> by_path;
  std::map<int, std::uint64_t> status_counts;
};

class FakeServer {
 public:
  FakeServer(const Options& options, event_base* base)
      : options_(options), base_(base), rng_(options.seed), http_(evhttp_new(base)) {
    if (http_ == nullptr) throw std::runtime_error("evhttp_new failed");
    evhttp_set_gencb(http_, &FakeServer::on_request, this);
    evhttp_set_allowed_methods(http_, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD);
    evhttp_set_timeout(http_, 120);  // idle keep-alive connections from benchmarks linger
    if (options.latency_ms > 0 && options.jitter_ms == 0) {
      // Every reply waits the same time: libevent's common-timeout queue makes each timer
      // O(1) instead of a heap insert, which matters at tens of thousands of timers a second.
      timeval tv{options.latency_ms / 1000, (options.latency_ms % 1000) * 1000};
      common_latency_ = event_base_init_common_timeout(base, &tv);
    }
  }

  ~FakeServer() {
    pending_.clear();  // their requests are freed with their connections by evhttp_free
    evhttp_free(http_);
  }

  FakeServer(const FakeServer&) = delete;
  FakeServer& operator=(const FakeServer&) = delete;

  // Binds 127.0.0.1:port with our own listener so we choose the backlog and SO_REUSEADDR
  // (evhttp_bind_socket hard-codes a backlog of 128, too small for 1000 connects at once).
  int bind(int port) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    constexpr unsigned kFlags = LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC;
    constexpr int kBacklog = 4096;
    evconnlistener* listener = evconnlistener_new_bind(
        base_, nullptr, nullptr, kFlags, kBacklog, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    if (listener == nullptr) throw std::runtime_error("cannot listen on 127.0.0.1:" + std::to_string(port));
    if (evhttp_bind_listener(http_, listener) == nullptr) {
      evconnlistener_free(listener);
      throw std::runtime_error("evhttp_bind_listener failed");
    }
    sockaddr_in bound{};
    socklen_t len = sizeof(bound);
    getsockname(evconnlistener_get_fd(listener), reinterpret_cast<sockaddr*>(&bound), &len);
    return ntohs(bound.sin_port);
  }

 private:
  // A reply waiting out its latency. evhttp keeps req alive until we answer: it stops reading
  // the connection while a request is being handled, so a client hang-up only surfaces as a
  // failed write after send().
  struct Pending {
    FakeServer* server = nullptr;
    evhttp_request* req = nullptr;
    Reply reply;
    std::unique_ptr<event, decltype(&event_free)> timer{nullptr, &event_free};
  };

  static void on_request(evhttp_request* req, void* arg) {
    auto* self = static_cast<FakeServer*>(arg);
    try {
      self->handle(req);
    } catch (const std::exception& e) {
      // Never let an exception unwind through libevent's C frames.
      std::cerr << "llmeval_fake_provider: " << e.what() << "\n";
      evhttp_send_error(req, 500, "fake provider bug");
    }
  }

  void handle(evhttp_request* req) {
    const char* raw_path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
    std::string path = raw_path != nullptr ? raw_path : "/";
    auto method = evhttp_request_get_command(req);
    if (path == "/stats" || path == "/stats/reset") return handle_stats(req, path, method);

    ++stats_.requests;
    ++stats_.by_path[path];
    stats_.max_in_flight = std::max(stats_.max_in_flight, ++stats_.in_flight);

    if (path == "/v1/chat/completions" || path == "/chat/completions") {
      return serve_api(req, Vendor::kOpenAi, method);
    }
    if (path == "/v1/messages") return serve_api(req, Vendor::kAnthropic, method);
    finish(req, error_reply(Vendor::kOpenAi, 404, "Unknown request URL: " + path));
  }

  void handle_stats(evhttp_request* req, const std::string& path, evhttp_cmd_type method) {
    if (path == "/stats/reset" && method == EVHTTP_REQ_POST) {
      stats_.requests = 0;
      stats_.by_path.clear();
      stats_.status_counts.clear();
      stats_.max_in_flight = stats_.in_flight;  // those still pending will be answered
      fail_counts_.clear();
      return send(req, Reply{200, R"({"reset":true})"});
    }
    if (path == "/stats" && method == EVHTTP_REQ_GET) {
      json status_counts = json::object();
      for (auto [status, count] : stats_.status_counts) status_counts[std::to_string(status)] = count;
      json body{{"requests", stats_.requests},
                {"in_flight", stats_.in_flight},
                {"max_in_flight", stats_.max_in_flight},
                {"by_path", stats_.by_path},
                {"status_counts", status_counts}};
      return send(req, Reply{200, body.dump()});
    }
    send(req, error_reply(Vendor::kOpenAi, 405, "use GET /stats or POST /stats/reset"));
  }

  // One API request: draw the random faults first (always, in the same order, so a seed
  // reproduces a run), then decide the reply, then hold it for the latency.
  void serve_api(evhttp_request* req, Vendor vendor, evhttp_cmd_type method) {
    int delay_ms = options_.latency_ms;
    if (options_.jitter_ms > 0) delay_ms += static_cast<int>(rng_() % (options_.jitter_ms + 1));
    double error_draw = unit_(rng_);
    double throttle_draw = unit_(rng_);

    Markers markers;
    Reply reply = decide(req, vendor, method, error_draw, throttle_draw, markers);
    if (markers.delay_ms) delay_ms += std::max(0, *markers.delay_ms);
    finish(req, std::move(reply), delay_ms);
  }

  Reply decide(evhttp_request* req, Vendor vendor, evhttp_cmd_type method, double error_draw,
               double throttle_draw, Markers& markers) {
    if (method != EVHTTP_REQ_POST) return error_reply(vendor, 405, "method not allowed; use POST");
    if (auto auth = check_auth(req, vendor)) return *auth;
    if (vendor == Vendor::kAnthropic && header_or_empty(req, "anthropic-version").empty()) {
      return error_reply(vendor, 400, "anthropic-version: header is required");
    }
    std::string_view raw = request_body(req);
    element body;
    if (parser_.parse(raw.data(), raw.size()).get(body) != simdjson::SUCCESS) {
      return error_reply(vendor, 400, "We could not parse the JSON body of your request.");
    }
    auto parsed = read_conversation(vendor, body);
    if (auto* problem = std::get_if<std::string>(&parsed)) return error_reply(vendor, 400, *problem);
    const auto& conv = std::get<Conversation>(parsed);

    read_markers(conv.all_user, markers);
    std::uint64_t hash = fnv1a(conv.last_user);
    if (markers.status) return error_reply(vendor, *markers.status, "injected status " + std::to_string(*markers.status));
    if (markers.fail_first && ++fail_counts_[hash] <= *markers.fail_first) {
      return error_reply(vendor, 500, "injected failure (fail_first)");
    }
    if (error_draw < options_.error_rate) return error_reply(vendor, 500, "injected server error");
    if (throttle_draw < options_.rate_429) return error_reply(vendor, 429, "Rate limit reached (injected)");
    if (markers.body == "not_json") return Reply{200, "<html>oops</html>", "text/html"};
    if (markers.body == "error_object") return Reply{200, R"({"error":{"message":"model overloaded"}})"};

    std::string id = (vendor == Vendor::kOpenAi ? "chatcmpl-fake-" : "msg_fake_") + std::to_string(++next_id_);
    Reply ok{200, completion_body(vendor, id, conv, judge_text(conv, markers, hash))};
    ok.exhausted_s = markers.exhausted_s;
    ok.vendor = vendor;
    return ok;
  }

  std::optional<Reply> check_auth(evhttp_request* req, Vendor vendor) const {
    if (!options_.api_key) return std::nullopt;
    std::string presented = vendor == Vendor::kOpenAi ? header_or_empty(req, "Authorization")
                                                      : header_or_empty(req, "x-api-key");
    std::string expected = vendor == Vendor::kOpenAi ? "Bearer " + *options_.api_key : *options_.api_key;
    if (presented == expected) return std::nullopt;
    return error_reply(vendor, 401, presented.empty() ? "Missing API key." : "Incorrect API key provided.");
  }

  static std::string judge_text(const Conversation& conv, const Markers& markers, std::uint64_t hash) {
    // The Scale line normally sits in the last user message; a repair turn may not repeat it.
    auto scale = find_scale(conv.last_user);
    if (!scale) scale = find_scale(conv.all_user);
    if (!scale) scale = find_scale(conv.system);
    Scale range = scale.value_or(Scale{});
    int score = markers.score.value_or(
        range.min + static_cast<int>(hash % static_cast<std::uint64_t>(range.max - range.min + 1)));
    if (markers.reply == "out_of_range") score = range.max + 5;
    std::string verdict = verdict_text(score, range);
    if (markers.reply == "unparseable" || (markers.reply == "unparseable_once" && !conv.has_assistant)) {
      return "I think it is pretty good.";
    }
    if (markers.reply == "fenced") return "Here is my verdict:\n```json\n" + verdict + "\n```\nHope this helps.";
    return verdict;
  }

  // Answers now, or after delay_ms on an evtimer.
  void finish(evhttp_request* req, Reply reply, int delay_ms = 0) {
    if (delay_ms <= 0) {
      --stats_.in_flight;
      ++stats_.status_counts[reply.status];
      return send(req, reply);
    }
    auto pending = std::make_unique<Pending>();
    pending->server = this;
    pending->req = req;
    pending->reply = std::move(reply);
    pending->timer.reset(evtimer_new(base_, &FakeServer::on_timer, pending.get()));
    timeval tv{delay_ms / 1000, (delay_ms % 1000) * 1000};
    bool common = common_latency_ != nullptr && delay_ms == options_.latency_ms;
    evtimer_add(pending->timer.get(), common ? common_latency_ : &tv);
    Pending* key = pending.get();
    pending_.emplace(key, std::move(pending));
  }

  static void on_timer(evutil_socket_t, short, void* arg) {
    auto* pending = static_cast<Pending*>(arg);
    FakeServer* self = pending->server;
    auto node = self->pending_.extract(pending);  // owns it until this callback returns
    --self->stats_.in_flight;
    ++self->stats_.status_counts[pending->reply.status];
    send(pending->req, pending->reply);
  }

  // OpenAI gives the reset as a duration, Anthropic as an RFC 3339 time.
  static void add_exhausted_headers(evkeyvalq* headers, Vendor vendor, int seconds) {
    if (vendor == Vendor::kOpenAi) {
      evhttp_add_header(headers, "x-ratelimit-remaining-requests", "0");
      evhttp_add_header(headers, "x-ratelimit-reset-requests", (std::to_string(seconds) + "s").c_str());
      return;
    }
    auto at = std::chrono::system_clock::now() + std::chrono::seconds(seconds);
    std::time_t whole = std::chrono::system_clock::to_time_t(at);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count() % 1000;
    char stamp[40];
    std::size_t n = std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", std::gmtime(&whole));
    std::snprintf(stamp + n, sizeof stamp - n, ".%03dZ", static_cast<int>(ms));
    evhttp_add_header(headers, "anthropic-ratelimit-requests-remaining", "0");
    evhttp_add_header(headers, "anthropic-ratelimit-requests-reset", stamp);
  }

  static void send(evhttp_request* req, const Reply& reply) {
    evkeyvalq* headers = evhttp_request_get_output_headers(req);
    evhttp_add_header(headers, "Content-Type", reply.content_type);
    if (reply.retry_after) evhttp_add_header(headers, "retry-after", "1");
    if (reply.exhausted_s) add_exhausted_headers(headers, reply.vendor, *reply.exhausted_s);
    evbuffer_add(evhttp_request_get_output_buffer(req), reply.body.data(), reply.body.size());
    evhttp_send_reply(req, reply.status, reason_phrase(reply.status), nullptr);
  }

  Options options_;
  event_base* base_;
  std::mt19937_64 rng_;
  std::uniform_real_distribution<double> unit_{0.0, 1.0};
  evhttp* http_;
  const timeval* common_latency_ = nullptr;
  Stats stats_;
  std::unordered_map<std::uint64_t, int> fail_counts_;  // only requests carrying fail_first
  simdjson::dom::parser parser_;  // reused: its buffers grow once to the largest request
  std::unordered_map<Pending*, std::unique_ptr<Pending>> pending_;
  std::uint64_t next_id_ = 0;
};

// Benchmarks open thousands of connections; lift the soft fd limit to the hard one.
void raise_fd_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

void on_signal(evutil_socket_t, short, void* arg) { event_base_loopbreak(static_cast<event_base*>(arg)); }

}  // namespace

int main(int argc, char** argv) {
  Options options = parse_args(argc, argv);
  std::signal(SIGPIPE, SIG_IGN);  // a client that hangs up must not kill the server
  raise_fd_limit();

  // With the changelist, epoll_ctl calls are batched per loop iteration, and evhttp's
  // disable-read/enable-write/enable-read dance around each request mostly cancels out.
  std::unique_ptr<event_config, decltype(&event_config_free)> config(event_config_new(), &event_config_free);
  event_config_set_flag(config.get(), EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
  std::unique_ptr<event_base, decltype(&event_base_free)> base(event_base_new_with_config(config.get()),
                                                               &event_base_free);
  if (!base) {
    std::cerr << "llmeval_fake_provider: event_base_new failed\n";
    return 1;
  }
  std::unique_ptr<event, decltype(&event_free)> sigterm(evsignal_new(base.get(), SIGTERM, on_signal, base.get()),
                                                        &event_free);
  std::unique_ptr<event, decltype(&event_free)> sigint(evsignal_new(base.get(), SIGINT, on_signal, base.get()),
                                                       &event_free);
  evsignal_add(sigterm.get(), nullptr);
  evsignal_add(sigint.get(), nullptr);

  try {
    FakeServer server(options, base.get());
    int port = server.bind(options.port);
    std::printf("PORT=%d\n", port);
    std::fflush(stdout);
    event_base_dispatch(base.get());
  } catch (const std::exception& e) {
    std::cerr << "llmeval_fake_provider: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
