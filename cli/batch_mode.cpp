#include "cli/batch_mode.h"

#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>

#include "cli/fatal_error.h"
#include "cli/flag_values.h"
#include "core/batch/batch_api.h"
#include "core/batch/batch_journal.h"
#include "core/common/logging.h"
#include "core/fetch/url_stream.h"
#include "core/provider/curl_http_client.h"
#include "core/runner/batch_answers.h"
#include "core/runner/batch_spooler.h"
#include "core/runner/batch_tracker.h"
#include "core/runner/follow_up_batches.h"

namespace llmeval::cli {
namespace {

std::string compact(std::int64_t n) {
  char text[32];
  if (n >= 10'000) {
    std::snprintf(text, sizeof text, "%.1fk", static_cast<double>(n) / 1000.0);
  } else {
    std::snprintf(text, sizeof text, "%lld", static_cast<long long>(n));
  }
  return text;
}

}  // namespace

void add_batch_flags(CLI::App& command, BatchFlags& flags) {
  command.add_flag("--batch", flags.batch,
                   "Judge through the providers' batch APIs at half price (OpenAI, Azure OpenAI, Anthropic): calls are "
                   "submitted in batches as the dataset streams and rows are recorded as their batches end, "
                   "within 24h (docs/batch.md). Needs the dataset in a file and -o");
  command
      .add_option("--batch-fallback", flags.fallback,
                  "Calls a batch did not answer (expired, failed, errored requests, repairs): online (judge "
                  "them online at the full price, default) or error (record them as errors)")
      ->check(CLI::IsMember({"online", "error"}));
  command
      .add_option("--batch-size", flags.batch_size,
                  "At most N judge calls a batch (default: the API's limit: 50,000 OpenAI, 100,000 "
                  "Anthropic); smaller batches end sooner")
      ->check(CLI::PositiveNumber);
  command.add_option("--batch-poll", flags.poll, "How often to ask after open batches (default 30s)");
  command.add_flag("--cancel-batches", flags.cancel_batches,
                   "On an interrupt (SIGINT/SIGTERM), cancel the submitted batches instead of leaving them "
                   "running for a --resume to collect");
}

struct BatchMode::Parts {
  LibeventLoop& loop;
  BatchFlags flags;
  bool active = false;
  std::unique_ptr<provider::HttpClient> http;
  std::vector<std::unique_ptr<batch::BatchApi>> apis;
  std::vector<std::unique_ptr<runner::BatchAnswers>> answers;
  std::vector<runner::ProviderSlot> chain;
  std::unique_ptr<batch::BatchJournal> journal;
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> dataset{nullptr, &std::fclose};
  std::unique_ptr<dataset::JsonlReader> reader;
  std::unique_ptr<runner::BatchSpooler> spooler;
  std::unique_ptr<runner::BatchTracker> tracker;
  std::unique_ptr<runner::FollowUpBatches> follow_ups;
  runner::SpoolOutcome spooled;
  std::string fatal;

  explicit Parts(LibeventLoop& l, BatchFlags f) : loop(l), flags(std::move(f)) {}
};

BatchMode::BatchMode(LibeventLoop& loop, Clock& clock, const BatchFlags& flags, const EngineSettings& settings,
                     const std::vector<runner::ProviderSlot>& chain, BatchRunContext context)
    : parts_(std::make_unique<Parts>(loop, flags)) {
  Parts& p = *parts_;
  p.chain = chain;
  const bool jury = context.runner.evaluator.jury.method != runner::JuryMethod::kNone;
  // Which chain positions batch: chain[0] (each juror with a jury), by --batch or its config.
  std::vector<std::size_t> batched;
  for (std::size_t i = 0; i < chain.size() && i < settings.providers.size(); ++i) {
    const bool can_batch = jury || i == 0;
    if (settings.providers[i].batch && !can_batch) {
      throw FatalError("provider " + settings.providers[i].name +
                           " has \"batch\": true but is a fallback: only the first provider (or, with --jury, "
                           "each juror) can judge through a batch API",
                       2);
    }
    if (can_batch && (flags.batch || settings.providers[i].batch)) batched.push_back(i);
  }
  if (batched.empty()) {
    if (flags.cancel_batches || flags.batch_size > 0)
      throw FatalError("--cancel-batches and --batch-size need --batch", 2);
    return;
  }
  p.active = true;
  if (context.dataset == "-" || fetch::is_url(context.dataset)) {
    throw FatalError(
        "--batch reads the dataset twice (once to fill the batches, once to record the rows): give "
        "it as a file, not stdin or a URL",
        2);
  }
  if (context.results_path.empty() || context.results_path == "-") {
    throw FatalError("--batch keeps its batches next to the results: pass -o FILE.jsonl", 2);
  }
  const auto poll = duration_flag("--batch-poll", flags.poll, ZeroDuration::kRefused);

  provider::CurlHttpClientOptions http_options;
  http_options.max_connections = 8;
  p.http = provider::make_curl_http_client(loop, http_options);

  const std::string journal_path = context.results_path + ".batches.jsonl";
  const std::string dir = context.results_path + ".batches";
  if (!context.resume && std::filesystem::exists(journal_path)) {
    auto earlier = batch::BatchJournal::open(journal_path);
    if (earlier.ok()) {
      std::string open;
      for (const auto& window : earlier.value()->windows()) {
        for (const auto& b : window.batches) {
          if (b.ended.empty() && b.submitted()) open += (open.empty() ? "" : ", ") + b.batch_id;
        }
      }
      if (!open.empty()) {
        throw FatalError(journal_path + " records batches still open at the provider (" + open +
                             "): run the same command with --resume to collect them, or `llmeval batches " +
                             context.results_path + " --cancel` and delete the file to abandon them",
                         2);
      }
    }
    std::error_code ignored;
    std::filesystem::remove(journal_path, ignored);
    std::filesystem::remove_all(dir, ignored);
  }
  std::error_code made;
  std::filesystem::create_directories(dir, made);
  if (made) throw FatalError("cannot create " + dir + ": " + made.message(), 1);
  p.journal = or_exit(batch::BatchJournal::open(journal_path));

  const auto fallback = flags.fallback == "error" ? runner::BatchFallback::kError : runner::BatchFallback::kOnline;
  std::vector<runner::BatchTarget> targets;
  std::map<std::string, runner::BatchEndpoint> endpoints;
  for (std::size_t i : batched) {
    const provider::ProviderConfig& config = settings.providers[i];
    std::unique_ptr<batch::BatchApi> api = batch::make_batch_api(*p.http, config);
    if (api == nullptr) {
      throw FatalError(
          "provider " + config.name + " (" + provider::to_string(config.type) +
              ") has no batch API llmeval can use; batch mode takes OpenAI, Azure OpenAI and Anthropic providers "
              "(docs/batch.md)",
          2);
    }
    auto answers = std::make_unique<runner::BatchAnswers>(*chain[i].provider, *api, fallback);
    p.chain[i].provider = answers.get();
    runner::BatchTarget target;
    target.juror = jury ? i : 0;
    target.provider = chain[i].provider;
    target.api = api.get();
    target.api_name = config.type == provider::ProviderType::kAnthropic ? "anthropic" : "openai";
    target.price = config.price;
    targets.push_back(target);
    endpoints[config.name] = runner::BatchEndpoint{api.get(), answers.get()};
    p.apis.push_back(std::move(api));
    p.answers.push_back(std::move(answers));
  }
  // Nothing online: a failed call of the batched provider must not fall back to another.
  if (fallback == runner::BatchFallback::kError && !jury) p.chain.resize(1);

  std::FILE* file = std::fopen(context.dataset.c_str(), "rb");
  if (file == nullptr) throw FatalError("cannot open " + context.dataset + " a second time for --batch", 1);
  p.dataset.reset(file);
  // The spooler's reader skips the duplicate-id check: the Runner's reader makes it, and a second
  // set of every id would double what the run's memory grows by. A duplicate row's calls are
  // spooled all the same (docs/batch.md).
  dataset::ReaderOptions spool_reader = context.reader;
  spool_reader.check_duplicate_ids = false;
  p.reader = std::make_unique<dataset::JsonlReader>(file, spool_reader);

  runner::BatchSpoolOptions spool;
  spool.judge = context.runner.evaluator.judge;
  spool.cache = context.runner.evaluator.cache;
  spool.cache_mode = context.runner.evaluator.cache_mode;
  spool.repeat = context.runner.evaluator.repeat;
  spool.jury = jury;
  spool.resume = context.runner.resume;
  spool.limit = context.runner.limit;
  spool.batch_size = flags.batch_size;
  spool.dir = dir;
  spool.budget = context.budget;
  runner::BatchTrackerOptions tracking;
  tracking.dir = dir;
  tracking.poll_interval = poll;
  p.tracker = std::make_unique<runner::BatchTracker>(loop, clock, *p.journal, endpoints, tracking);
  if (fallback == runner::BatchFallback::kError) {
    // Nothing online: repair turns go in follow-up batches.
    std::map<std::string, batch::BatchApi*> apis;
    for (const auto& [name, endpoint] : endpoints) apis[name] = endpoint.api;
    runner::FollowUpOptions follow_up_options;
    follow_up_options.dir = dir;
    follow_up_options.poll_interval = poll;
    p.follow_ups = std::make_unique<runner::FollowUpBatches>(loop, std::move(apis), follow_up_options);
    for (const auto& [name, endpoint] : endpoints) {
      endpoint.answers->set_follow_up(
          [&p, name = name](const std::string& custom_id, std::string line, runner::BatchAnswers::FollowUpDone done) {
            p.follow_ups->add(name, custom_id, std::move(line), std::move(done));
          });
    }
  }
  p.spooler = std::make_unique<runner::BatchSpooler>(loop, *p.reader, std::move(targets), *p.journal, spool,
                                                     [&p](const batch::WindowState& window) {
                                                       p.tracker->window_sealed(window);
                                                     });
}

BatchMode::~BatchMode() = default;

bool BatchMode::active() const { return parts_->active; }

std::vector<runner::ProviderSlot> BatchMode::chain() const { return parts_->chain; }

runner::RowGate* BatchMode::gate() { return parts_->tracker.get(); }

void BatchMode::configure(runner::RunnerOptions& options) {
  if (!active()) return;
  options.evaluator.batch_custom_ids = true;
  options.gate = gate();
}

void BatchMode::start() {
  if (!active()) return;
  Parts& p = *parts_;
  p.tracker->start();
  p.spooler->start([&p](const runner::SpoolOutcome& outcome) {
    p.spooled = outcome;
    if (!outcome.error.empty() && p.fatal.empty()) p.fatal = outcome.error;
    logger("batch")->info("spooled {} judge calls in {} windows ({} answered by the cache)", outcome.calls_spooled,
                          outcome.windows, outcome.calls_cached);
    p.tracker->spooling_done();
  });
}

void BatchMode::interrupt() {
  if (active()) parts_->spooler->stop();
}

void BatchMode::after_run(bool interrupted) {
  if (!active() || !interrupted || !parts_->flags.cancel_batches) return;
  Parts& p = *parts_;
  bool done = false;
  p.tracker->cancel_open([&] {
    done = true;
    p.loop.stop();
  });
  if (!done) {
    p.loop.add_timer(std::chrono::seconds(30), [&p] { p.loop.stop(); });
    p.loop.run();
  }
}

bool BatchMode::budget_exhausted() const { return active() && parts_->spooler->outcome().budget_exhausted; }

const std::string& BatchMode::fatal() const {
  if (active() && parts_->fatal.empty()) return parts_->tracker->fatal();
  return parts_->fatal;
}

std::string BatchMode::progress_text() const {
  if (!active()) return {};
  runner::BatchProgress b = parts_->tracker->progress();
  return "batches " + compact(b.ended) + "/" + compact(b.batches) + " done (" + compact(b.submitted - b.ended) +
         " running)  requests " + compact(b.requests_done) + "/" + compact(b.requests);
}

nlohmann::json BatchMode::summary_json() const {
  if (!active()) return nullptr;
  const Parts& p = *parts_;
  runner::BatchProgress b = p.tracker->progress();
  nlohmann::json batches = nlohmann::json::array();
  for (const auto& entry : p.tracker->batches()) {
    batches.push_back(
        {{"id", entry.at("id")},
         {"provider", entry.at("provider")},
         {"batch_id", entry.at("batch_id").empty() ? nlohmann::json(nullptr) : nlohmann::json(entry.at("batch_id"))},
         {"requests", std::stoll(entry.at("requests"))},
         {"status", entry.at("status")}});
  }
  return {{"fallback", p.flags.fallback},
          {"calls_spooled", p.spooler->outcome().calls_spooled},
          {"calls_cached", p.spooler->outcome().calls_cached},
          {"waited_seconds", b.waited_seconds},
          {"batches", batches}};
}

std::string BatchMode::summary_line() const {
  if (!active()) return {};
  runner::BatchProgress b = parts_->tracker->progress();
  char waited[32];
  std::snprintf(waited, sizeof waited, "%.1fs", b.waited_seconds);
  return "  batches            " + std::to_string(b.batches) + " (" + std::to_string(b.ended) + " ended), " +
         std::to_string(b.requests) + " calls; waited " + waited + " for them\n";
}

}  // namespace llmeval::cli
