#include "cli/run_command.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/cost_budget_option.h"
#include "cli/engine_setup.h"
#include "cli/fatal_error.h"
#include "cli/flag_values.h"
#include "cli/batch_mode.h"
#include "cli/progress_display.h"
#include "cli/report_command.h"
#include "cli/shard_option.h"
#include "cli/shutdown_signals.h"
#include "core/fetch/url_stream.h"
#include "core/common/clock.h"
#include "core/common/error.h"
#include "core/common/event_loop.h"
#include "core/common/logging.h"
#include "core/dataset/jsonl_reader.h"
#include "core/metrics/engine_metrics.h"
#include "core/metrics/metrics_file.h"
#include "core/metrics/registry.h"
#include "core/output/result_writer.h"
#include "core/output/resume_index.h"
#include "core/output/summary.h"
#include "core/runner/dry_run.h"
#include "core/runner/runner.h"

namespace llmeval::cli {
namespace {

struct RunFlags {
  EngineFlags engine;
  std::string dataset;
  std::string output = "-";
  std::string summary_path;
  std::string metrics_path;
  std::optional<double> fail_under;
  std::int64_t limit = -1;
  bool resume = false;
  bool retry_errors = false;
  std::string grace = "5s";
  std::size_t max_line_bytes = 16 * 1024 * 1024;
  std::string shard;  // --shard I/N or auto
  bool no_progress = false;
  std::string progress_every = "10s";
  std::string format = "jsonl";  // --format jsonl|csv|junit
  BudgetFlags budget;
  BatchFlags batch;
  bool dry_run = false;
  bool json = false;  // with --dry-run
  int repeat = 1;
  double confidence = 0.95;
};

std::FILE* open_dataset(const std::string& path) {
  if (path == "-") return stdin;
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) {
    throw FatalError("cannot read dataset " + path + ": " + std::strerror(errno));
  }
  if (S_ISDIR(info.st_mode)) throw FatalError("dataset " + path + " is a directory; pass a .jsonl file");
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) throw FatalError("cannot read dataset " + path + ": " + std::strerror(errno));
  return file;
}

// Puts stdin in non-blocking mode while the run reads it, when it is a pipe or a socket, so
// waiting for a slow producer never stalls the event loop (the reader then reports
// would_block and the runner waits for readability). Restores the original flags on exit:
// the descriptor is shared with the parent process.
class NonBlockingStdin {
 public:
  explicit NonBlockingStdin(std::FILE* file) {
    if (file != stdin) return;
    struct stat info {};
    // Only pipes and sockets: a terminal left non-blocking by a killed process would upset the
    // shell, and regular files never block.
    if (::fstat(STDIN_FILENO, &info) != 0 || !(S_ISFIFO(info.st_mode) || S_ISSOCK(info.st_mode))) return;
    flags_ = ::fcntl(STDIN_FILENO, F_GETFL);
    if (flags_ >= 0 && !(flags_ & O_NONBLOCK)) {
      ::fcntl(STDIN_FILENO, F_SETFL, flags_ | O_NONBLOCK);
      changed_ = true;
    }
  }
  ~NonBlockingStdin() {
    if (changed_) ::fcntl(STDIN_FILENO, F_SETFL, flags_);
  }
  NonBlockingStdin(const NonBlockingStdin&) = delete;
  NonBlockingStdin& operator=(const NonBlockingStdin&) = delete;

 private:
  int flags_ = -1;
  bool changed_ = false;
};

// --metrics-file: the registry in Prometheus text format, rewritten every few seconds while
// the run goes and once at the end (for node_exporter's textfile collector, or a CI artifact).
class MetricsFileWriter {
 public:
  MetricsFileWriter(EventLoop& loop, const metrics::Registry& registry, std::string path)
      : loop_(loop), registry_(registry), path_(std::move(path)) {
    if (!path_.empty()) schedule();
  }
  ~MetricsFileWriter() { loop_.cancel_timer(timer_); }
  MetricsFileWriter(const MetricsFileWriter&) = delete;
  MetricsFileWriter& operator=(const MetricsFileWriter&) = delete;

  void write() {
    if (path_.empty()) return;
    if (auto written = metrics::write_metrics_file(path_, registry_.render()); !written) {
      logger("cli")->warn("--metrics-file: {}", written.error().message);
    }
  }

 private:
  void schedule() {
    timer_ = loop_.add_timer(std::chrono::seconds(5), [this] {
      write();
      schedule();
    });
  }
  EventLoop& loop_;
  const metrics::Registry& registry_;
  std::string path_;
  TimerId timer_ = 0;
};

// --resume: what the results file already holds (its rows go into the summary), after
// repairing a torn last line. A missing or empty file starts fresh, so manifests can always
// pass --resume.
std::optional<output::ResumeIndex> load_resume_index(const RunFlags& flags, output::Summary& summary) {
  if (flags.retry_errors && !flags.resume) throw FatalError("--retry-errors only works with --resume");
  if (!flags.resume) return std::nullopt;
  if (flags.output.empty() || flags.output == "-") {
    throw FatalError("--resume needs the results in a file: pass -o PATH (the same as the interrupted run)");
  }
  auto index = or_exit(output::ResumeIndex::load(flags.output, flags.retry_errors,
                                                 [&](const output::ResultRecord& record) { summary.add(record); }));
  auto log = logger("cli");
  if (index.torn_line_dropped()) log->warn("{}: dropped a torn last line (its row runs again)", flags.output);
  if (index.size() > 0 || index.errors_dropped() > 0) {
    log->info("resuming {}: {} rows already recorded, {} error rows to run again", flags.output, index.size(),
              index.errors_dropped());
  }
  return index;
}

// --format csv|junit: the run records its rows as JSONL in a temporary file (one write per row,
// as always), converted at the end with report's code and then removed. The file sits next to
// the output (or in TMPDIR for stdout) and is removed even when the run throws.
class ConvertedOutput {
 public:
  explicit ConvertedOutput(const RunFlags& flags) : format_(flags.format), output_(flags.output) {
    if (format_ == "jsonl") {
      jsonl_path_ = output_;
      return;
    }
    if (flags.resume) {
      throw FatalError("--resume needs --format jsonl: it reads the rows back from the results file; run with "
                       "--format jsonl and convert with `llmeval report RESULTS --format " + format_ + "`");
    }
    bool to_stdout = output_.empty() || output_ == "-";
    if (!to_stdout && !std::ofstream(output_, std::ios::app)) throw FatalError("cannot write " + output_);
    const char* tmpdir = std::getenv("TMPDIR");
    std::string pattern = to_stdout ? std::string(tmpdir && *tmpdir ? tmpdir : "/tmp") + "/llmeval-run-XXXXXX"
                                    : output_ + ".rows-XXXXXX";
    int fd = ::mkstemp(pattern.data());
    if (fd < 0) throw FatalError("cannot create a temporary file " + pattern + ": " + std::strerror(errno));
    ::close(fd);
    jsonl_path_ = pattern;
    temporary_ = true;
  }
  ~ConvertedOutput() {
    if (temporary_) ::unlink(jsonl_path_.c_str());
  }
  ConvertedOutput(const ConvertedOutput&) = delete;
  ConvertedOutput& operator=(const ConvertedOutput&) = delete;

  const std::string& jsonl_path() const { return jsonl_path_; }
  bool temporary() const { return temporary_; }
  void convert(const std::string& dataset) const {
    if (temporary_) convert_results_file(jsonl_path_, output_, format_, junit_classname(dataset));
  }

 private:
  std::string format_;
  std::string output_;
  std::string jsonl_path_;
  bool temporary_ = false;
};

ProgressOptions progress_options(const RunFlags& flags, const std::optional<Shard>& shard) {
  ProgressOptions options;
  options.mode = choose_progress_mode(flags.engine.quiet, flags.no_progress);
  const char* no_color = std::getenv("NO_COLOR");
  const char* term = std::getenv("TERM");
  options.color = (no_color == nullptr || *no_color == '\0') && !(term != nullptr && std::string(term) == "dumb");
  if (flags.dataset != "-" && !fetch::is_url(flags.dataset)) options.dataset_path = flags.dataset;
  if (shard) {
    options.shard_index = shard->index;
    options.shard_count = shard->count;
  }
  options.limit = flags.limit;
  options.log_every = duration_flag("--progress-every", flags.progress_every, ZeroDuration::kRefused);
  // Progress lines are information a person asked for by running without -q: they pass the
  // default warn level.
  if (options.mode == ProgressMode::kLogLines) logger("progress")->set_level(spdlog::level::info);
  return options;
}

// --dry-run: the estimate on stdout, nothing sent, no results file touched. Exit 1 when rows are
// invalid (a run would record them so), else 0.
int execute_dry_run(const RunFlags& flags, const EngineSettings& settings, dataset::JsonlReader& reader,
                    const output::ResumeIndex* resume) {
  SystemClock clock;
  LibeventLoop loop;
  metrics::Registry registry;
  metrics::EngineMetrics engine_metrics(registry);
  Engine engine(loop, clock, settings, engine_metrics, process_id());
  runner::DryRunOptions options;
  options.judge = settings.evaluator.judge;
  options.repeat = flags.repeat;
  options.jury = settings.evaluator.jury.method != runner::JuryMethod::kNone;
  options.cache = engine.cache();
  options.cache_mode = settings.cache.mode;
  options.resume = resume;
  options.limit = flags.limit;
  std::vector<std::string> price_sources;
  for (const auto& p : settings.providers) price_sources.push_back(p.price_source);
  // --batch (or a provider's "batch": true): the batched providers' calls at the batch price.
  std::vector<runner::ProviderSlot> chain = engine.chain();
  for (std::size_t i = 0; i < chain.size() && i < settings.providers.size(); ++i) {
    const bool batched = (options.jury || i == 0) && (flags.batch.batch || settings.providers[i].batch);
    if (!batched || !chain[i].price) continue;
    chain[i].price = provider::batch_price(*chain[i].price);
    price_sources[i] += ", batch price (half)";
  }
  runner::DryRunEstimate estimate = runner::dry_run(loop, reader, chain, price_sources, options);
  std::string text = flags.json ? estimate.to_json().dump(2) + "\n" : estimate.to_table();
  std::fputs(text.c_str(), stdout);
  return estimate.invalid > 0 ? 1 : 0;
}

int execute(RunFlags flags) {
  if (flags.json && !flags.dry_run) throw FatalError("--json only goes with --dry-run (results are JSONL already)");
  std::optional<Shard> shard;
  if (!flags.shard.empty()) shard = parse_shard(flags.shard);
  const std::string budget_key = default_budget_key(flags.output, flags.dataset);
  flags.output = expand_shard_path("-o", flags.output, shard);
  flags.summary_path = expand_shard_path("--summary", flags.summary_path, shard);
  flags.metrics_path = expand_shard_path("--metrics-file", flags.metrics_path, shard);
  setup_logging(log_level(flags.engine, spdlog::level::warn),
                flags.engine.log_format == "json" ? LogFormat::kJson : LogFormat::kText);
  EngineSettings settings = resolve_engine_settings(flags.engine);

  runner::RunnerOptions options;
  options.evaluator = settings.evaluator;
  options.evaluator.repeat = flags.repeat;
  options.limit = flags.limit;

  std::chrono::milliseconds grace = duration_flag("--grace", flags.grace, ZeroDuration::kAllowed);

  dataset::ReaderOptions reader_options = settings.reader;
  reader_options.max_line_bytes = flags.max_line_bytes;
  if (shard) {
    reader_options.shard_index = shard->index;
    reader_options.shard_count = shard->count;
  }

  // A URL streams through a pipe from a download thread (core/fetch/url_stream.h).
  std::unique_ptr<fetch::UrlStream> download;
  if (fetch::is_url(flags.dataset)) {
    logger("cli")->info("streaming the dataset from {}", fetch::to_display(flags.dataset));
    download = or_exit(fetch::UrlStream::open(flags.dataset));
  }
  std::FILE* dataset_file = download ? download->file() : open_dataset(flags.dataset);
  if (dataset_file == stdin && ::isatty(STDIN_FILENO) && !flags.engine.quiet) {
    // Someone at a terminal who typed `llmeval run -` (or forgot the file) would otherwise see
    // nothing happen.
    std::fputs("llmeval: waiting for JSONL rows on stdin (a terminal): type or paste them, one per line, then press "
               "Ctrl-D; or pass a file: llmeval run DATASET.jsonl\n",
               stderr);
  }
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> dataset_owner(
      dataset_file == stdin || download ? nullptr : dataset_file, &std::fclose);
  static char read_buffer[1 << 16];
  std::setvbuf(dataset_file, read_buffer, _IOFBF, sizeof read_buffer);
  NonBlockingStdin nonblocking_stdin(dataset_file);
  dataset::JsonlReader reader(dataset_file, reader_options);
  output::Summary summary;
  if (flags.dry_run) {
    std::optional<output::ResumeIndex> resume = flags.resume ? load_resume_index(flags, summary) : std::nullopt;
    return execute_dry_run(flags, settings, reader, resume ? &*resume : nullptr);
  }
  ConvertedOutput converted(flags);  // refuses --resume with csv/junit before reading anything
  std::optional<output::ResumeIndex> resume = load_resume_index(flags, summary);
  std::unique_ptr<output::ResultWriter> writer = or_exit(output::ResultWriter::open(converted.jsonl_path(), flags.resume));
  options.resume = resume ? &*resume : nullptr;

  SystemClock clock;
  LibeventLoop loop;
  metrics::Registry registry;
  metrics::EngineMetrics engine_metrics(registry);
  options.evaluator.metrics = &engine_metrics;
  Engine engine(loop, clock, settings, engine_metrics, process_id());
  options.evaluator.cache = engine.cache();
  options.evaluator.cache_mode = settings.cache.mode;
  RunBudget budget(loop, flags.budget, settings, budget_key);
  options.evaluator.budget = budget.get();
  MetricsFileWriter metrics_file(loop, registry, flags.metrics_path);

  summary.set_prices(settings.prices());
  summary.set_confidence(flags.confidence);
  BatchRunContext batch_context;
  batch_context.dataset = flags.dataset;
  batch_context.results_path = converted.temporary() ? std::string() : converted.jsonl_path();
  batch_context.resume = flags.resume;
  batch_context.reader = reader_options;
  batch_context.runner = options;
  batch_context.budget = budget.get();
  BatchMode batch(loop, clock, flags.batch, settings, engine.chain(), batch_context);
  batch.configure(options);
  auto started = clock.now();
  runner::Runner run(loop, clock, reader, batch.active() ? batch.chain() : engine.chain(), engine.limiter(),
                     [&](const output::ResultRecord& record) -> Result<Ok> {
                       Result<Ok> written = writer->write(record);
                       if (written.ok()) summary.add(record);
                       return written;
                     },
                     options);
  ProgressDisplay progress(loop, clock, progress_options(flags, shard), [&] {
    ProgressSnapshot snapshot;
    snapshot.done = summary.rows();
    snapshot.errors = summary.errors() + summary.invalid();
    snapshot.retries = run.live_counters().retries;
    for (const auto& slot : engine.chain()) {
      if (slot.breaker != nullptr && slot.breaker->state() == resilience::BreakerState::kOpen) ++snapshot.open_breakers;
    }
    snapshot.tokens = summary.tokens();
    snapshot.cost = summary.cost();
    snapshot.batches = batch.progress_text();
    return snapshot;
  });
  // First SIGINT/SIGTERM: finish what is in flight, record it, exit 130. Second: exit now;
  // every line already written is whole (one write each), so the file stays resumable.
  ShutdownSignals signals(loop, [&] {
    logger("cli")->warn("interrupted: finishing requests in flight (up to {}); interrupt again to stop at once",
                        flags.grace);
    batch.interrupt();
    run.interrupt(grace);
  });
  if (converted.temporary()) signals.remove_on_exit(converted.jsonl_path());
  batch.start();
  runner::RunOutcome outcome = run.run();
  batch.after_run(outcome.interrupted);
  if (!batch.fatal().empty()) {
    throw FatalError(batch.fatal() + ": the run stopped; fix it and run the same command with --resume", 1);
  }
  if (batch.budget_exhausted()) outcome.budget_exhausted = true;
  engine.flush_cache(loop, std::chrono::seconds(2));
  progress.finish();
  if (!outcome.record_error.empty()) {
    std::string advice = flags.format == "jsonl" ? "; the rows recorded before it are whole: make room and run the "
                                                   "same command with --resume to finish"
                                                 : "";
    throw FatalError(outcome.record_error + ": the run stopped" + advice, 1);
  }
  converted.convert(flags.dataset);  // the rows recorded, also after an interruption
  // A download that failed ends the dataset early: the rows read so far are recorded.
  std::string download_problem = download && reader.at_end() ? download->finish() : std::string();
  metrics_file.write();
  double wall = std::chrono::duration<double>(clock.now() - started).count();
  std::optional<std::int64_t> left;
  if (outcome.budget_exhausted) {
    std::int64_t recorded_now = summary.rows() - static_cast<std::int64_t>(resume ? resume->size() : 0);
    left = rows_left(reader, dataset_owner != nullptr, options.resume, flags.limit, outcome.rows_read,
                     outcome.rows_read - outcome.rows_skipped - recorded_now);
  }

  if (!flags.engine.quiet) {
    std::fputs((summary.to_table(outcome.counters, wall) + batch.summary_line() +
                budget.to_table_line(outcome.budget_exhausted, left)).c_str(),
               stderr);
  }
  if (!flags.summary_path.empty()) {
    nlohmann::json json = summary.to_json(outcome.counters, wall);
    json["budget"] = budget.to_json(outcome.budget_exhausted, left);
    if (batch.active()) json["batch"] = batch.summary_json();
    std::ofstream out(flags.summary_path);
    out << json.dump(2) << '\n';
    if (!out) throw FatalError("cannot write summary to " + flags.summary_path, 1);
  }

  if (!outcome.resume_mismatch.empty()) {
    throw FatalError("cannot --resume into " + flags.output + ": " + outcome.resume_mismatch +
                     "; write to a new --output, or delete this file to start over");
  }
  if (!download_problem.empty()) {
    throw FatalError("the dataset download from " + fetch::to_display(flags.dataset) + " failed after line " +
                         std::to_string(reader.lines_read()) + " (" + download_problem +
                         "); the rows before it are recorded: run the same command with --resume to finish",
                     1);
  }
  if (outcome.budget_exhausted) {
    logger("cli")->error("stopped at the cost budget (--max-cost {}) after recording {} rows{}; run the same command "
                         "with --resume and a higher --max-cost to finish",
                         *flags.budget.max_cost, summary.rows(),
                         left ? "; " + std::to_string(*left) + " rows left" : std::string());
    return 3;
  }
  if (outcome.interrupted) {
    logger("cli")->error("interrupted after recording {} rows; run the same command with --resume to finish",
                         summary.rows());
    return 130;
  }
  if (resume && flags.limit < 0 && resume->max_line() > reader.lines_read()) {
    throw FatalError("cannot --resume into " + flags.output + ": it holds a result for line " +
                     std::to_string(resume->max_line()) + " but the dataset has only " +
                     std::to_string(reader.lines_read()) + " lines: it belongs to a different dataset");
  }
  if (outcome.auth_failed) {
    logger("cli")->error("stopped early: {}", outcome.auth_message);
    return 2;
  }
  if (summary.errors() > 0 || summary.invalid() > 0) return 1;
  if (flags.fail_under) {
    auto rate = summary.pass_rate();
    if (!rate || *rate < *flags.fail_under) {
      logger("cli")->error("pass rate {} is below --fail-under {}", rate ? std::to_string(*rate) : "n/a",
                           *flags.fail_under);
      return 1;
    }
  }
  return 0;
}

}  // namespace

std::function<int()> register_run_command(CLI::App& app) {
  auto flags = std::make_shared<RunFlags>();
  CLI::App* run = app.add_subcommand("run", "Judge every row of a JSONL dataset and write one result line per input line");
  run->add_option("dataset", flags->dataset,
                  "JSONL dataset, one row per line: a file, - for stdin, or an http(s) URL (streamed)")
      ->required();
  run->add_option("-o,--output", flags->output, "Results file (default: stdout), in --format; {index} and {count} name the shard");
  run->add_option("--summary", flags->summary_path, "Write the summary as JSON to this file");
  run->add_option("--metrics-file", flags->metrics_path,
                  "Write Prometheus metrics (text format) to this file every 5 s and at the end");
  run->add_option("--fail-under", flags->fail_under, "Exit 1 when the pass rate is below X (0..1)")
      ->check(CLI::Range(0.0, 1.0));
  run->add_flag("--resume", flags->resume,
               "Skip rows already recorded in --output and append the rest (a missing or empty file starts fresh)");
  run->add_flag("--retry-errors", flags->retry_errors, "With --resume: run rows recorded as error again");
  run->add_option("--grace", flags->grace,
                  "On SIGINT/SIGTERM, how long requests in flight may take to finish (default 5s)");
  run->add_option("--limit", flags->limit, "Process only the first N rows (of this shard)")->check(CLI::NonNegativeNumber);
  run->add_option("--max-line-bytes", flags->max_line_bytes,
                  "Longest dataset line accepted; longer lines become line_too_long rows (default 16 MiB)");
  run->add_option("--shard", flags->shard,
                  "Judge only shard I of N (I/N, e.g. 0/4: lines L with (L-1) % N == I), or auto: "
                  "I from JOB_COMPLETION_INDEX, N from LLMEVAL_SHARD_COUNT; {index} and {count} in -o, "
                  "--summary and --metrics-file name the shard");
  run->add_option("--format", flags->format,
                  "Format of --output: jsonl (default), csv or junit (JUnit XML for CI); --resume needs jsonl")
      ->check(CLI::IsMember({"jsonl", "csv", "junit"}));
  run->add_flag("--no-progress", flags->no_progress,
                "No progress line on a terminal (a plain progress line every --progress-every instead)");
  run->add_option("--progress-every", flags->progress_every,
                  "When stderr is not a terminal (or --no-progress): a progress line this often (default 10s)");
  add_engine_flags(*run, flags->engine);
  add_budget_flags(*run, flags->budget);
  add_batch_flags(*run, flags->batch);
  run->add_option("--repeat", flags->repeat,
                  "Judge each LLM criterion N times: its score is the mean, with every sample and their stddev "
                  "(each sample is its own judge-cache entry)")
      ->check(CLI::Range(1, 100));
  run->add_option("--confidence", flags->confidence,
                  "Confidence level of the summary's intervals (pass rates: Wilson; mean scores: t, or clustered "
                  "by the rows' group), e.g. 0.99 (default 0.95)")
      ->check(CLI::Range(0.5, 0.9999));
  run->add_flag("--dry-run", flags->dry_run,
                "Send nothing: read the dataset, build every judge request, ask the judge cache, and print the "
                "rows, calls, cached calls, estimated tokens and cost; exit 1 if rows are invalid");
  run->add_flag("--json", flags->json, "With --dry-run: print the estimate as one JSON object");
  return [run, flags]() -> int {
    if (!run->parsed()) return -1;
    return execute(*flags);
  };
}

}  // namespace llmeval::cli
