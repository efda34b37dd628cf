// llmeval_limiter_bench: decision latency of the shared rate limiter (RedisRateLimiter over a
// real RedisClient on a LibeventLoop with the SystemClock) against a Redis given by URL.
//
// Not a test: it prints figures (tests/bench/limiter.py starts a fresh redis-server and runs
// it). The limits are set so high (rpm 1e9, tpm 1e12) that Redis never refuses, so what is
// timed is the decision itself: acquire() to its callback, in microseconds, on the loop thread.
// A warm-up first takes one decision on every key (a bucket Redis does not have starts empty,
// so the very first decision of a key waits about 1 ms) and reports the stored levels, to show
// that the script keeps such large numbers exact enough. The limiter's heartbeat (one EVAL per
// key a second) runs meanwhile, as in `llmeval run`.
//
// Rows of the report (N decisions each):
//   ping        plain PING through the same RedisClient: the floor (loopback + hiredis + loop)
//   limiter     acquire() -> callback. With C callers on ONE key the limiter queues them in
//               this process and only the head asks Redis, so that row is queueing + round
//               trip; with C callers on C keys the decisions really overlap (pipelined).
//   eval        the limiter's script sent by hand with EVAL, same arguments (what acquire costs
//               without the limiter's bookkeeping)
//   evalsha     the same script with EVALSHA: Redis skips hashing the ~2 KB body per call and
//               the client sends 40 bytes instead of it
// Each row also gives Redis' own time per call (usec_per_call of its command in INFO
// commandstats, reset before the row): what the server spends, without the round trip.
// eval/evalsha read the script from core/resilience/redis_rate_limiter.cpp (the bench is built
// in the source tree); --script-from PATH reads it elsewhere, and they are left out when it
// cannot be found.
//
// Exit codes: 0 done; 1 a decision failed, was refused or waited after warm-up, or the limiter
// degraded (then the figures are not the shared limiter's); 2 usage or no Redis.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <unistd.h>

#include "core/common/clock.h"
#include "core/common/event_loop.h"
#include "core/redis/redis_client.h"
#include "core/redis/redis_url.h"
#include "core/resilience/redis_rate_limiter.h"

namespace {

using llmeval::LibeventLoop;
using llmeval::Result;
using llmeval::redis::RedisClient;
using llmeval::redis::RedisValue;
using llmeval::resilience::Admission;
using llmeval::resilience::RedisRateLimiter;
using nlohmann::json;
using Steady = std::chrono::steady_clock;

constexpr const char* kUsage = R"(usage: llmeval_limiter_bench --redis URL [options]
  --redis URL              redis://127.0.0.1:PORT/DB (required; use a scratch Redis)
  --decisions N            decisions per row (default 20000)
  --concurrency C          callers in flight for the concurrent rows (default 64)
  --tokens N               estimated tokens per decision (default 500)
  --command-timeout-ms N   RedisClient's deadline per command (default 50, as `llmeval run`)
  --script-from PATH       source file holding the limiter's Lua script, for the eval rows
  --json                   one JSON object on stdout instead of the table
)";

constexpr std::int64_t kRpm = 1'000'000'000;
constexpr std::int64_t kTpm = 1'000'000'000'000;

struct Options {
  std::string redis;
  int decisions = 20000;
  int concurrency = 64;
  std::int64_t tokens = 500;
  int command_timeout_ms = 50;
  std::string script_from = std::string(LLMEVAL_SOURCE_DIR) + "/core/resilience/redis_rate_limiter.cpp";
  bool json = false;
};

[[noreturn]] void usage_error(const std::string& message) {
  std::cerr << "llmeval_limiter_bench: " << message << "\n" << kUsage;
  std::exit(2);
}

int positive(const std::string& flag, const std::string& text) {
  try {
    std::size_t used = 0;
    int value = std::stoi(text, &used);
    if (used == text.size() && value > 0) return value;
  } catch (const std::exception&) {
  }
  usage_error("bad value for " + flag + ": '" + text + "' (a positive integer)");
}

Options parse_args(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "-h" || flag == "--help") {
      std::cout << kUsage;
      std::exit(0);
    }
    if (flag == "--json") {
      o.json = true;
      continue;
    }
    if (i + 1 >= argc) usage_error(flag + " needs a value");
    std::string value = argv[++i];
    if (flag == "--redis") o.redis = value;
    else if (flag == "--decisions") o.decisions = positive(flag, value);
    else if (flag == "--concurrency") o.concurrency = positive(flag, value);
    else if (flag == "--tokens") o.tokens = positive(flag, value);
    else if (flag == "--command-timeout-ms") o.command_timeout_ms = positive(flag, value);
    else if (flag == "--script-from") o.script_from = value;
    else usage_error("unknown flag " + flag);
  }
  if (o.redis.empty()) usage_error("--redis is required");
  return o;
}

// The body between R"lua( and )lua" in the limiter's source; empty when not found.
std::string read_script(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  std::string source = text.str();
  auto begin = source.find("R\"lua(");
  auto end = source.find(")lua\"", begin);
  if (begin == std::string::npos || end == std::string::npos) return "";
  begin += 6;
  return source.substr(begin, end - begin);
}

// How one decision ended.
enum class Outcome { kGranted, kWaited, kRefused, kFailed };
using Done = std::function<void(Outcome)>;
// Starts one decision for caller `caller` (0..C-1); calls done once, on the loop.
using Issue = std::function<void(int caller, Done done)>;

struct Row {
  std::string name;
  int in_flight = 1;
  int keys = 1;
  std::vector<double> latencies_us;
  double seconds = 0;
  int waited = 0, refused = 0, failed = 0;
  bool aborted = false;
  std::string command;          // the Redis command the row sends: ping, eval or evalsha
  double server_us_per_call = -1;  // Redis' own time per call (INFO commandstats); -1 unknown
};

// Closed loop: `in_flight` callers, each starting its next decision when the last one ends,
// until `decisions` have ended. Once `stop_early` is set (the limiter degraded) no decision
// starts and the row ends when those under way have: their callbacks refer to this frame.
void run_row(LibeventLoop& loop, Row& row, int decisions, const Issue& issue, const bool& stop_early) {
  row.latencies_us.reserve(static_cast<std::size_t>(decisions));
  int issued = 0, ended = 0;
  Steady::time_point started;
  auto end_if_done = [&] {
    if (ended < issued || (ended < decisions && !row.aborted)) return;
    row.seconds = std::chrono::duration<double>(Steady::now() - started).count();
    loop.stop();
  };
  std::function<void(int)> next = [&](int caller) {
    if (issued == decisions) return;
    if (stop_early) {
      row.aborted = true;
      return;
    }
    ++issued;
    auto t0 = Steady::now();
    issue(caller, [&, caller, t0](Outcome outcome) {
      row.latencies_us.push_back(std::chrono::duration<double, std::micro>(Steady::now() - t0).count());
      if (outcome == Outcome::kWaited) ++row.waited;
      if (outcome == Outcome::kRefused) ++row.refused;
      if (outcome == Outcome::kFailed) ++row.failed;
      ++ended;
      next(caller);
      end_if_done();
    });
  };
  loop.post([&] {
    started = Steady::now();
    for (int c = 0; c < row.in_flight; ++c) next(c);
    end_if_done();
  });
  loop.run();
}

double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
  return sorted[std::min(sorted.size(), std::max<std::size_t>(rank, 1)) - 1];
}

json summarize(Row& row) {
  std::sort(row.latencies_us.begin(), row.latencies_us.end());
  const auto& l = row.latencies_us;
  double mean = l.empty() ? 0 : std::accumulate(l.begin(), l.end(), 0.0) / static_cast<double>(l.size());
  return json{{"name", row.name},       {"in_flight", row.in_flight},   {"keys", row.keys},
              {"decisions", l.size()},  {"p50_us", percentile(l, 50)},  {"p90_us", percentile(l, 90)},
              {"p99_us", percentile(l, 99)}, {"p999_us", percentile(l, 99.9)}, {"max_us", l.empty() ? 0 : l.back()},
              {"mean_us", mean},        {"per_s", row.seconds > 0 ? static_cast<double>(l.size()) / row.seconds : 0},
              {"waited", row.waited},   {"refused", row.refused},       {"failed", row.failed},
              {"aborted", row.aborted}, {"command", row.command},
              {"server_us_per_call", row.server_us_per_call}};
}

Outcome outcome_of(const Result<Admission>& admission) {
  if (!admission.ok()) return Outcome::kFailed;
  if (!admission.value().granted) return Outcome::kRefused;
  return admission.value().waited ? Outcome::kWaited : Outcome::kGranted;
}

Outcome outcome_of_script(const Result<RedisValue>& reply) {
  if (!reply.ok() || reply.value().elements.size() != 2) return Outcome::kFailed;
  return reply.value().elements[0].integer == 1 ? Outcome::kGranted : Outcome::kRefused;
}

void print_table(const Options& o, const json& report) {
  std::printf("llmeval_limiter_bench: %s, %d decisions per row, rpm %lld, tpm %lld (never refused)\n",
              report["redis"].get<std::string>().c_str(), o.decisions, static_cast<long long>(kRpm),
              static_cast<long long>(kTpm));
  std::printf("bucket after warm-up: %s\n\n", report["bucket_after_warmup"].dump().c_str());
  std::printf("| row | in flight | keys | p50 µs | p90 µs | p99 µs | p99.9 µs | max µs | decisions/s "
              "| Redis µs/call |\n");
  std::printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (const auto& r : report["rows"]) {
    int keys = r["keys"];
    std::string key_count = keys > 0 ? std::to_string(keys) : "-";
    std::printf("| %s | %d | %s | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %.1f |",
                r["name"].get<std::string>().c_str(), r["in_flight"].get<int>(), key_count.c_str(),
                r["p50_us"].get<double>(), r["p90_us"].get<double>(),
                r["p99_us"].get<double>(), r["p999_us"].get<double>(), r["max_us"].get<double>(),
                r["per_s"].get<double>(), r["server_us_per_call"].get<double>());
    int waited = r["waited"], refused = r["refused"], failed = r["failed"];
    if (waited + refused + failed > 0 || r["aborted"].get<bool>()) {
      std::printf(" waited %d, refused %d, failed %d%s", waited, refused, failed,
                  r["aborted"].get<bool>() ? ", ABORTED (limiter degraded)" : "");
    }
    std::printf("\n");
  }
  if (!report["notes"].empty()) {
    std::printf("\n");
    for (const auto& note : report["notes"]) std::printf("note: %s\n", note.get<std::string>().c_str());
  }
}

// Runs the loop until `client` is connected, for up to 3 s.
bool wait_connected(LibeventLoop& loop, RedisClient& client) {
  auto deadline = Steady::now() + std::chrono::seconds(3);
  std::function<void()> poll = [&] {
    if (client.connected() || Steady::now() > deadline) {
      loop.stop();
      return;
    }
    loop.add_timer(std::chrono::milliseconds(1), poll);
  };
  loop.post(poll);
  loop.run();
  return client.connected();
}

// One command, run to its reply (setup and checks, not timed).
Result<RedisValue> call(LibeventLoop& loop, RedisClient& client, std::vector<std::string> argv) {
  Result<RedisValue> out = llmeval::Error{llmeval::ErrorKind::kIo, "no reply"};
  client.command(std::move(argv), [&](Result<RedisValue> reply) {
    out = std::move(reply);
    loop.stop();
  });
  loop.run();
  return out;
}

// usec_per_call of `command` in INFO commandstats ("cmdstat_eval:calls=3,usec=90,usec_per_call=30.00,...").
double server_us_per_call(const Result<RedisValue>& info, const std::string& command) {
  if (!info.ok()) return -1;
  const std::string& text = info.value().text;
  auto line = text.find("cmdstat_" + command + ":");
  if (line == std::string::npos) return -1;
  auto field = text.find("usec_per_call=", line);
  if (field == std::string::npos) return -1;
  return std::strtod(text.c_str() + field + 14, nullptr);
}

json hash_fields(const Result<RedisValue>& reply) {
  json fields = json::object();
  if (!reply.ok()) return json{{"error", reply.error().message}};
  const auto& e = reply.value().elements;
  for (std::size_t i = 0; i + 1 < e.size(); i += 2) fields[e[i].text] = e[i + 1].text;
  return fields;
}


// The rows of the report, on one connection and one limiter. Keys are this process's own
// (`llmeval-bench:<pid>:`), so a rerun against the same Redis starts from empty buckets.
class Bench {
 public:
  Bench(const Options& o, LibeventLoop& loop, llmeval::Clock& clock, RedisClient& client)
      : o_(o), loop_(loop), client_(client), prefix_("llmeval-bench:" + std::to_string(::getpid()) + ":"),
        limiter_(loop, clock, client, limiter_options()) {
    for (int i = 0; i < o.concurrency; ++i) {
      keys_.push_back("k" + std::to_string(i));
      limiter_.set_limits(keys_.back(), {kRpm, kTpm});
    }
  }

  json run() {
    const int c = o_.concurrency;
    // Warm-up: every key gets its bucket (the first decision of each waits ~1 ms), the
    // heartbeat has run, and hiredis' buffers have grown. Not reported.
    measure("warm-up", c, c, acquire_on(true), std::max(1000, 4 * c), "eval");
    measure("warm-up", c, 0, ping(), 1000, "ping");
    rows_.clear();
    json bucket = hash_fields(call(loop_, client_, {"HGETALL", bucket_of(keys_[0])}));

    measure("ping", 1, 0, ping(), o_.decisions, "ping");
    measure("ping", c, 0, ping(), o_.decisions, "ping");
    measure("limiter", 1, 1, acquire_on(false), o_.decisions, "eval");
    measure("limiter", c, 1, acquire_on(false), o_.decisions, "eval");
    measure("limiter", c, c, acquire_on(true), o_.decisions, "eval");
    std::string script = read_script(o_.script_from);
    measure_scripts(script);
    return report(bucket, script.size());
  }

  // Leaves the Redis as it was.
  void clean_up() {
    for (const auto& key : keys_) call(loop_, client_, {"DEL", bucket_of(key), prefix_ + "{" + key + "}:procs"});
  }

 private:
  llmeval::resilience::RedisLimiterOptions limiter_options() {
    llmeval::resilience::RedisLimiterOptions options;
    options.prefix = prefix_;
    options.process_id = "bench:" + std::to_string(::getpid());
    options.on_degraded = [this](bool now_degraded) { degraded_ = degraded_ || now_degraded; };
    return options;
  }

  // The limiter's bucket hash for key (bucket_key() in its .cpp).
  std::string bucket_of(const std::string& key) const { return prefix_ + "{" + key + "}:bucket"; }

  Issue ping() {
    return [this](int, Done done) {
      client_.command({"PING"}, [done](Result<RedisValue> r) { done(r.ok() ? Outcome::kGranted : Outcome::kFailed); });
    };
  }

  Issue acquire_on(bool distinct_keys) {
    return [this, distinct_keys](int caller, Done done) {
      limiter_.acquire(keys_[distinct_keys ? caller : 0], o_.tokens,
                       [done](Result<Admission> a) { done(outcome_of(a)); });
    };
  }

  // The arguments RedisRateLimiter sends for an acquire (bucket_args() in its .cpp).
  Issue script_on(const std::string& verb, const std::string& body_or_sha, bool distinct_keys) {
    return [this, verb, body_or_sha, distinct_keys](int caller, Done done) {
      client_.command({verb, body_or_sha, "1", bucket_of(keys_[distinct_keys ? caller : 0]), "acquire",
                       std::to_string(kRpm), std::to_string(kTpm), "1000", "60000", std::to_string(o_.tokens)},
                      [done](Result<RedisValue> r) { done(outcome_of_script(r)); });
    };
  }

  void measure_scripts(const std::string& script) {
    if (script.empty()) {
      notes_.push_back("no Lua script found in " + o_.script_from + ": eval/evalsha rows left out (--script-from)");
      return;
    }
    auto loaded = call(loop_, client_, {"SCRIPT", "LOAD", script});
    if (!loaded.ok()) {
      notes_.push_back("SCRIPT LOAD failed: " + loaded.error().message);
      return;
    }
    const std::string sha = loaded.value().text;
    const int c = o_.concurrency;
    measure("eval", 1, 1, script_on("EVAL", script, false), o_.decisions, "eval");
    measure("evalsha", 1, 1, script_on("EVALSHA", sha, false), o_.decisions, "evalsha");
    measure("eval", c, c, script_on("EVAL", script, true), o_.decisions, "eval");
    measure("evalsha", c, c, script_on("EVALSHA", sha, true), o_.decisions, "evalsha");
  }

  // Redis' own time per call comes from its command statistics, reset before each row.
  void measure(std::string name, int in_flight, int keys, const Issue& issue, int decisions, std::string command) {
    Row row;
    row.name = std::move(name);
    row.in_flight = in_flight;
    row.keys = keys;
    row.command = std::move(command);
    bool stats = call(loop_, client_, {"CONFIG", "RESETSTAT"}).ok();
    run_row(loop_, row, decisions, issue, degraded_);
    if (stats) row.server_us_per_call = server_us_per_call(call(loop_, client_, {"INFO", "commandstats"}), row.command);
    rows_.push_back(std::move(row));
  }

  json report(const json& bucket, std::size_t script_bytes) {
    json out{{"redis", client_.url().to_display()},
             {"decisions", o_.decisions},
             {"concurrency", o_.concurrency},
             {"tokens", o_.tokens},
             {"rpm", kRpm},
             {"tpm", kTpm},
             {"script_bytes", script_bytes},
             {"bucket_after_warmup", bucket},
             {"rows", json::array()}};
    bool ok = !degraded_;
    for (auto& row : rows_) {
      ok = ok && !row.aborted && row.waited + row.refused + row.failed == 0;
      out["rows"].push_back(summarize(row));
    }
    if (degraded_) notes_.push_back("the limiter degraded to its local share: its rows are not the shared limiter's");
    out["notes"] = notes_;
    out["ok"] = ok;
    return out;
  }

  const Options& o_;
  LibeventLoop& loop_;
  RedisClient& client_;
  const std::string prefix_;
  bool degraded_ = false;
  RedisRateLimiter limiter_;
  std::vector<std::string> keys_;
  std::vector<Row> rows_;
  json notes_ = json::array();
};

}  // namespace

int main(int argc, char** argv) {
  Options o = parse_args(argc, argv);
  auto url = llmeval::redis::parse_redis_url(o.redis);
  if (!url) usage_error(url.error().message);

  LibeventLoop loop;
  llmeval::SystemClock clock;
  llmeval::redis::RedisClientOptions client_options;
  client_options.command_timeout = std::chrono::milliseconds(o.command_timeout_ms);
  RedisClient client(loop, url.value(), client_options);
  if (!wait_connected(loop, client)) {
    std::cerr << "llmeval_limiter_bench: cannot connect to " << url.value().to_display() << "\n";
    return 2;
  }
  Bench bench(o, loop, clock, client);
  json report = bench.run();
  bench.clean_up();
  if (o.json) {
    std::cout << report.dump() << "\n";
  } else {
    print_table(o, report);
  }
  return report["ok"].get<bool>() ? 0 : 1;
}
