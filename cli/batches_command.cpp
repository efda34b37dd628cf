#include "cli/batches_command.h"

#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/engine_setup.h"
#include "cli/fatal_error.h"
#include "core/batch/batch_api.h"
#include "core/batch/batch_journal.h"
#include "core/common/event_loop.h"
#include "core/provider/curl_http_client.h"

namespace llmeval::cli {
namespace {

struct BatchesFlags {
  std::string output;
  std::string config_path;
  std::vector<std::string> providers;
  bool json = false;
  bool cancel = false;
};

// One recorded batch and, once asked, what its provider says.
struct Row {
  const batch::BatchState* state = nullptr;
  std::string window;
  std::int64_t first_line = 0, last_line = 0;
  std::optional<batch::BatchStatus> status;
  std::string problem;  // why the provider could not be asked
};

int list(const BatchesFlags& flags) {
  const std::string journal_path = flags.output + ".batches.jsonl";
  if (!std::filesystem::exists(journal_path)) {
    throw FatalError("no batches are recorded for " + flags.output + " (" + journal_path +
                         " does not exist): it was not written by run --batch",
                     2);
  }
  std::unique_ptr<batch::BatchJournal> journal = or_exit(batch::BatchJournal::open(journal_path));
  EngineFlags engine;
  engine.config_path = flags.config_path;
  engine.providers = flags.providers;
  EngineSettings settings = resolve_engine_settings(engine);

  LibeventLoop loop;
  provider::CurlHttpClientOptions http_options;
  http_options.max_connections = 4;
  std::unique_ptr<provider::HttpClient> http = provider::make_curl_http_client(loop, http_options);
  std::map<std::string, std::unique_ptr<batch::BatchApi>> apis;  // by provider name
  for (const auto& config : settings.providers) apis[config.name] = batch::make_batch_api(*http, config);

  std::vector<Row> rows;
  for (const auto& window : journal->windows()) {
    for (const auto& state : window.batches)
      rows.push_back(Row{&state, window.id, window.first_line, window.last_line, {}, {}});
  }
  int outstanding = 1;
  auto one_done = [&] {
    if (--outstanding == 0) loop.stop();
  };
  for (auto& row : rows) {
    if (!row.state->submitted()) continue;
    auto api = apis.find(row.state->provider);
    if (api == apis.end() || api->second == nullptr) {
      row.problem = "provider " + row.state->provider + " is not configured here (give the run's -c / -p)";
      continue;
    }
    ++outstanding;
    auto answer = [&row, one_done](Result<batch::BatchStatus> status) {
      if (status.ok()) {
        row.status = std::move(status.value());
      } else {
        row.problem = status.error().message;
      }
      one_done();
    };
    const bool open = row.state->ended.empty();
    if (flags.cancel && open) {
      api->second->cancel(row.state->batch_id, answer);
    } else {
      api->second->retrieve(row.state->batch_id, answer);
    }
  }
  loop.post(one_done);
  loop.run();

  int failed = 0;
  nlohmann::json out = nlohmann::json::array();
  if (!flags.json) {
    std::printf("%-22s %-10s %-13s %-28s %9s %-12s %-12s %s\n", "batch", "provider", "lines", "provider id", "requests",
                "recorded", "provider", "done/failed");
  }
  for (const auto& row : rows) {
    const batch::BatchState& s = *row.state;
    const std::string recorded = !s.ended.empty() ? s.ended : s.submitted() ? "submitted" : "prepared";
    const std::string now = row.status ? row.status->provider_status : row.problem.empty() ? "-" : "unknown";
    if (!row.problem.empty()) ++failed;
    if (flags.json) {
      nlohmann::json entry = {{"batch", s.local_id},
                              {"provider", s.provider},
                              {"window", row.window},
                              {"first_line", row.first_line},
                              {"last_line", row.last_line},
                              {"batch_id", s.batch_id.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.batch_id)},
                              {"requests", s.requests},
                              {"recorded", recorded},
                              {"provider_status", row.status ? nlohmann::json(row.status->provider_status) : nullptr},
                              {"requests_done", row.status ? nlohmann::json(row.status->requests_done) : nullptr},
                              {"requests_failed", row.status ? nlohmann::json(row.status->requests_failed) : nullptr}};
      if (!row.problem.empty()) entry["problem"] = row.problem;
      out.push_back(entry);
      continue;
    }
    const std::string lines = std::to_string(row.first_line) + "-" + std::to_string(row.last_line);
    const std::string counts = row.status ? std::to_string(row.status->requests_done) + "/" +
                                                std::to_string(row.status->requests_failed)
                                          : "-";
    std::printf("%-22s %-10s %-13s %-28s %9lld %-12s %-12s %s\n", s.local_id.c_str(), s.provider.c_str(), lines.c_str(),
                s.batch_id.empty() ? "-" : s.batch_id.c_str(), static_cast<long long>(s.requests), recorded.c_str(),
                now.c_str(), counts.c_str());
    if (!row.problem.empty()) std::printf("  %s: %s\n", s.local_id.c_str(), row.problem.c_str());
  }
  if (flags.json) std::printf("%s\n", out.dump(2).c_str());
  return failed > 0 ? 1 : 0;
}

}  // namespace

std::function<int()> register_batches_command(CLI::App& app) {
  auto flags = std::make_shared<BatchesFlags>();
  CLI::App* command = app.add_subcommand(
      "batches", "List the provider batches a run --batch recorded for a results file, with their status now");
  command
      ->add_option("output", flags->output, "The results file the run wrote (-o); its batches are in OUT.batches.jsonl")
      ->required();
  command->add_option("-c,--config", flags->config_path, "JSON config file (also LLMEVAL_CONFIG), as for the run");
  command->add_option("-p,--provider", flags->providers, "Providers as for the run (TYPE:MODEL[@URL]), for their keys");
  command->add_flag("--json", flags->json, "Print a JSON array");
  command->add_flag("--cancel", flags->cancel,
                    "Cancel the batches still open (a run interrupted without --cancel-batches left them running)");
  return [command, flags]() -> int {
    if (!command->parsed()) return -1;
    return list(*flags);
  };
}

}  // namespace llmeval::cli
