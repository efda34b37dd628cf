#include "cli/probe_command.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/engine_setup.h"
#include "core/common/ascii.h"
#include "core/common/clock.h"
#include "core/common/event_loop.h"
#include "core/common/logging.h"
#include "core/dataset/criterion.h"
#include "core/dataset/eval_item.h"
#include "core/judge/judge_parser.h"
#include "core/judge/judge_prompt.h"
#include "core/metrics/engine_metrics.h"
#include "core/metrics/registry.h"

namespace llmeval::cli {
namespace {

using json = nlohmann::ordered_json;  // the fields in the order of the table

struct ProbeFlags {
  EngineFlags engine;
  bool json_output = false;
};

// What one provider's call showed.
struct Probe {
  std::string name;
  std::string model;
  bool done = false;
  bool reachable = false;
  bool key_accepted = false;  // meaningful only when reachable
  bool can_judge = false;
  bool truncated = false;
  std::int64_t latency_ms = 0;
  std::string json_mode;
  std::vector<std::string> adaptations;
  std::vector<std::string> rate_limit_headers;  // names, as the reply sent them
  std::optional<std::string> remaining_requests;
  std::optional<std::string> remaining_tokens;
  std::string error_kind;  // empty when it can judge
  std::string error;
};

// The one judge call: a row any judge scores, on the default 1-5 scale.
dataset::EvalItem probe_item() {
  dataset::Criterion criterion;
  criterion.name = "correct";
  criterion.rubric = "The answer is arithmetically correct.";
  criterion.scale = dataset::Scale::k1to5;
  criterion.threshold = dataset::default_threshold(criterion.scale);
  dataset::EvalItem item;
  item.id = "probe";
  item.line = 1;
  item.prompt = "What is 2 + 2?";
  item.output = "4";
  item.criteria.push_back(std::move(criterion));
  return item;
}

void record(Probe& probe, const Result<provider::CompletionResponse>& result, const dataset::Criterion& criterion,
            int max_tokens) {
  if (!result.ok()) {
    const Error& error = result.error();
    probe.reachable = error.kind != ErrorKind::kTimeout && error.kind != ErrorKind::kConnect &&
                      error.kind != ErrorKind::kIo;
    probe.key_accepted = probe.reachable && error.kind != ErrorKind::kAuth;
    probe.error_kind = std::string(to_string(error.kind));
    probe.error = error.message;
    return;
  }
  const provider::CompletionResponse& response = result.value();
  probe.reachable = true;
  probe.key_accepted = true;
  probe.truncated = response.truncated;
  for (const auto& [name, value] : response.rate_limit_headers) {
    probe.rate_limit_headers.push_back(name);
    std::string key = ascii_lower(name);
    if (key == "x-ratelimit-remaining-requests" || key == "anthropic-ratelimit-requests-remaining") {
      probe.remaining_requests = value;
    } else if (key == "x-ratelimit-remaining-tokens" || key == "anthropic-ratelimit-tokens-remaining") {
      probe.remaining_tokens = value;
    }
  }
  Result<judge::Verdict> verdict = judge::parse_judge_reply(response.text, criterion.scale);
  probe.can_judge = verdict.ok();
  if (verdict.ok()) return;
  if (response.truncated) {
    probe.error_kind = "truncated";
    probe.error = "the reply was cut off by the token cap (max_tokens " + std::to_string(max_tokens) +
                  "); raise judge.max_tokens or the provider's max_tokens, or lower its reasoning_effort";
  } else {
    probe.error_kind = "parse";
    probe.error = "the reply is not a verdict: " + verdict.error().message;
  }
}

std::string joined(const std::vector<std::string>& parts, const char* separator, const char* empty) {
  if (parts.empty()) return empty;
  std::string out;
  for (const auto& part : parts) out += (out.empty() ? "" : separator) + part;
  return out;
}

std::string rate_limits_cell(const Probe& probe) {
  if (probe.rate_limit_headers.empty()) return "none";
  std::string cell = std::to_string(probe.rate_limit_headers.size()) + " headers";
  if (probe.remaining_requests) cell += ", requests left " + *probe.remaining_requests;
  if (probe.remaining_tokens) cell += ", tokens left " + *probe.remaining_tokens;
  return cell;
}

std::string table(const std::vector<Probe>& probes) {
  std::vector<std::vector<std::string>> rows = {
      {"PROVIDER", "MODEL", "REACHABLE", "KEY", "CAN JUDGE", "JSON MODE", "LATENCY", "ADAPTED", "RATE LIMITS"}};
  for (const auto& p : probes) {
    rows.push_back({p.name, p.model, p.reachable ? "yes" : "no", !p.reachable ? "-" : p.key_accepted ? "ok" : "rejected",
                    p.can_judge ? "yes" : p.truncated ? "no (truncated)" : "no", p.json_mode,
                    std::to_string(p.latency_ms) + " ms", joined(p.adaptations, "; ", "none"), rate_limits_cell(p)});
  }
  std::vector<std::size_t> widths(rows.front().size(), 0);
  for (const auto& row : rows) {
    for (std::size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 2, ' ');
    }
    out += line + "\n";
  }
  for (const auto& p : probes) {
    if (!p.can_judge) out += "\n" + p.name + ": " + p.error;
  }
  if (std::any_of(probes.begin(), probes.end(), [](const Probe& p) { return !p.can_judge; })) out += "\n";
  return out;
}

json to_json(const std::vector<Probe>& probes) {
  json out = json::array();
  for (const auto& p : probes) {
    json row = {{"provider", p.name},
                {"model", p.model},
                {"reachable", p.reachable},
                {"key_accepted", p.reachable ? json(p.key_accepted) : json(nullptr)},
                {"can_judge", p.can_judge},
                {"truncated", p.truncated},
                {"json_mode", p.json_mode},
                {"latency_ms", p.latency_ms},
                {"adaptations", p.adaptations},
                {"rate_limit_headers", p.rate_limit_headers},
                {"remaining_requests", p.remaining_requests ? json(*p.remaining_requests) : json(nullptr)},
                {"remaining_tokens", p.remaining_tokens ? json(*p.remaining_tokens) : json(nullptr)},
                {"error_kind", p.can_judge ? json(nullptr) : json(p.error_kind)},
                {"error", p.can_judge ? json(nullptr) : json(p.error)}};
    out.push_back(std::move(row));
  }
  return out;
}

int execute(const ProbeFlags& flags) {
  setup_logging(log_level(flags.engine, spdlog::level::warn),
                flags.engine.log_format == "json" ? LogFormat::kJson : LogFormat::kText);
  EngineSettings settings = resolve_engine_settings(flags.engine);
  settings.cache.mode = cache::CacheMode::kOff;  // a probe is about the provider now: always a real call

  SystemClock clock;
  LibeventLoop loop;
  metrics::Registry registry;
  metrics::EngineMetrics engine_metrics(registry);
  Engine engine(loop, clock, settings, engine_metrics, process_id());

  const dataset::EvalItem item = probe_item();
  const dataset::Criterion& criterion = item.criteria.front();
  const provider::CompletionRequest request =
      judge::build_judge_request(item, criterion, settings.evaluator.judge);
  const int max_tokens = settings.evaluator.judge.max_tokens;

  const auto& chain = engine.chain();
  std::vector<Probe> probes(chain.size());
  std::size_t pending = chain.size();
  bool running = false;
  for (std::size_t i = 0; i < chain.size(); ++i) {
    provider::Provider* target = chain[i].provider;
    probes[i].name = target->name();
    probes[i].model = target->model();
    auto started = std::chrono::steady_clock::now();
    // The callback may run before complete() returns; it runs exactly once.
    target->complete(request, [&, i, target, started](Result<provider::CompletionResponse> result) {
      Probe& probe = probes[i];
      probe.latency_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                               started).count();
      record(probe, result, criterion, max_tokens);
      // Read after the call: a provider that adapted itself has resent by now.
      probe.json_mode = target->json_mode();
      probe.adaptations = target->adaptations();
      probe.done = true;
      if (--pending == 0 && running) loop.stop();
    });
  }
  if (pending > 0) {
    running = true;
    loop.run();
  }

  if (flags.json_output) {
    std::fputs((to_json(probes).dump(2) + "\n").c_str(), stdout);
  } else {
    std::fputs(table(probes).c_str(), stdout);
  }
  std::fflush(stdout);
  bool all_judge = std::all_of(probes.begin(), probes.end(), [](const Probe& p) { return p.done && p.can_judge; });
  return all_judge ? 0 : 1;
}

}  // namespace

std::function<int()> register_probe_command(CLI::App& app) {
  auto flags = std::make_shared<ProbeFlags>();
  CLI::App* probe = app.add_subcommand(
      "probe",
      "Check each judge provider with one tiny judge call: reachable, key accepted, can judge, JSON mode, "
      "latency, parameters adapted, rate-limit headers");
  probe->add_flag("--json", flags->json_output, "Print a JSON array, one object per provider, instead of the table");
  add_engine_flags(*probe, flags->engine);
  probe->footer(
      "Sends one small judge request (\"What is 2 + 2?\" / \"4\", one criterion on the 1-5 scale) to every "
      "provider of the chain (-p, repeatable, or the config's), all at once, with no retries and no fallback; "
      "then prints one row per provider and, for each that cannot judge, its error. API keys come from the "
      "environment as in `run` and are never printed.\n\n"
      "Exit codes: 0 every provider can judge; 1 some provider cannot (unreachable, key refused, error reply, "
      "or a reply that is not a verdict); 2 usage or configuration error.");
  return [probe, flags]() -> int {
    if (!probe->parsed()) return -1;
    return execute(*flags);
  };
}

}  // namespace llmeval::cli
