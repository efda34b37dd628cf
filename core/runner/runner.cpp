#include "core/runner/runner.h"

#include <optional>
#include <utility>
#include <variant>

namespace llmeval::runner {
namespace {

using std::chrono::milliseconds;

// Rows read in one pump before yielding to the loop, so a long run of rows without LLM
// criteria cannot starve replies that are waiting.
constexpr int kRowsPerPump = 256;

}  // namespace

struct Runner::Impl {
  EventLoop& loop;
  dataset::JsonlReader& reader;
  ResultSink sink;
  RunnerOptions options;
  Evaluator evaluator;

  RunOutcome outcome;
  std::int64_t rows_read = 0;
  bool reader_done = false;
  bool pumping = false;
  bool pump_scheduled = false;
  bool waiting_for_input = false;
  std::optional<dataset::ReadItem> held;  // read, waiting for the gate
  bool waiting_for_gate = false;
  bool interrupted = false;

  Impl(EventLoop& l, Clock& clock, dataset::JsonlReader& r, std::vector<ProviderSlot> chain,
       resilience::RateLimiter& limiter, ResultSink s, RunnerOptions o)
      : loop(l), reader(r), sink(std::move(s)), options(o),
        evaluator(l, clock, std::move(chain), limiter, stopping_at_budget(o.evaluator)) {
    if (options.max_rows_ahead == 0) {
      options.max_rows_ahead = 2 * static_cast<std::size_t>(options.evaluator.concurrency) + 16;
    }
  }

  // The evaluator's options, with the budget's stop wired to interrupt(): the requests in
  // flight (already paid for) get their attempt timeouts to come back.
  EvaluatorOptions stopping_at_budget(EvaluatorOptions evaluator_options) {
    evaluator_options.budget_exhausted = [this] {
      outcome.budget_exhausted = true;
      interrupt(3 * options.evaluator.judge.timeout + milliseconds(1000));
    };
    return evaluator_options;
  }

  // Reads rows until max_rows_ahead are unfinished, the reader has nothing more for now, or
  // the burst is used up. The rows' calls are sent together when the batch ends, after
  // `pumping` is cleared: a reply that finishes a row there (a provider may answer inside
  // complete()) then reads on in a nested pump instead of being lost.
  void pump() {
    if (pumping) return;  // a row finished inside pump(): the outer loop goes on reading
    {
      Evaluator::Batch batch = evaluator.batch();
      pumping = true;
      read_rows();
      pumping = false;
    }
    finish_if_done();
  }

  void read_rows() {
    int budget = kRowsPerPump;
    while (!reader_done && evaluator.rows_active() < options.max_rows_ahead) {
      if (budget-- == 0) {
        schedule_pump();
        break;
      }
      std::optional<dataset::ReadItem> next;
      if (held) {
        next = std::move(held);
        held.reset();
      } else {
        if (options.limit >= 0 && rows_read >= options.limit) {
          reader_done = true;
          break;
        }
        next = reader.next();
        if (!next && reader.would_block()) {
          // A pipe with no complete line yet: come back when it has bytes, never wait here.
          wait_for_input();
          break;
        }
        if (!next) {
          reader_done = true;
          break;
        }
        ++rows_read;
        if (already_recorded(*next)) continue;
      }
      if (!passes_gate(next)) break;
      if (auto* invalid = std::get_if<dataset::InvalidLine>(&*next)) {
        record_invalid(*invalid);
      } else {
        // Runs inside evaluate() for a row without LLM criteria; pump() is then a no-op.
        evaluator.evaluate(std::move(std::get<dataset::EvalItem>(*next)), [this](output::ResultRecord record) {
          this->record(record);
          pump();
        });
      }
    }
  }

  // --resume: true for a row the results file already holds. A row recorded under another id
  // means the file is not this dataset's: stop before judging anything more.
  bool already_recorded(const dataset::ReadItem& next) {
    if (options.resume == nullptr) return false;
    const auto* invalid = std::get_if<dataset::InvalidLine>(&next);
    std::int64_t line = invalid != nullptr ? invalid->line : std::get<dataset::EvalItem>(next).line;
    const nlohmann::json& id = invalid != nullptr ? invalid->id : std::get<dataset::EvalItem>(next).id;
    switch (options.resume->check(line, id)) {
      case output::ResumeIndex::Match::kNotRecorded: return false;
      case output::ResumeIndex::Match::kRecorded: ++outcome.rows_skipped; return true;
      case output::ResumeIndex::Match::kDifferentId: break;
    }
    outcome.resume_mismatch = "line " + std::to_string(line) + " of the dataset has id " + id.dump() +
                              ", but the results file recorded another id for that line: it holds results of a " +
                              "different dataset (or the dataset changed)";
    interrupt(milliseconds(0));
    return true;
  }

  // run --batch: false when the row must wait (it is held) or the gate ended the reading.
  bool passes_gate(std::optional<dataset::ReadItem>& next) {
    if (options.gate == nullptr) return true;
    if (waiting_for_gate) {  // a pump from a finished row while the gate is shut
      held = std::move(next);
      return false;
    }
    const auto* invalid = std::get_if<dataset::InvalidLine>(&*next);
    const std::int64_t line = invalid != nullptr ? invalid->line : std::get<dataset::EvalItem>(*next).line;
    switch (options.gate->check(line, [this] {
      waiting_for_gate = false;
      pump();
    })) {
      case RowGate::Verdict::kGo: return true;
      case RowGate::Verdict::kWait:
        held = std::move(next);
        waiting_for_gate = true;
        return false;
      case RowGate::Verdict::kEnd:
        outcome.gate_ended = true;
        reader_done = true;
        return false;
    }
    return true;
  }

  void wait_for_input() {
    if (waiting_for_input) return;
    waiting_for_input = true;
    loop.when_readable(reader.fd(), [this] {
      waiting_for_input = false;
      pump();
    });
  }

  void schedule_pump() {
    if (pump_scheduled) return;
    pump_scheduled = true;
    loop.post([this] {
      pump_scheduled = false;
      pump();
    });
  }

  void record_invalid(const dataset::InvalidLine& invalid) {
    output::ResultRecord record;
    record.id = invalid.id;
    record.line = invalid.line;
    record.status = output::Status::kInvalid;
    record.error = output::ResultError{invalid.kind, invalid.message};
    evaluator.count_invalid();
    this->record(record);
  }

  // Hands a row to the sink; once the sink has failed, nothing more is recorded or read.
  void record(const output::ResultRecord& row) {
    if (!outcome.record_error.empty()) return;
    if (options.gate != nullptr) options.gate->done(row.line);
    Result<Ok> recorded = sink(row);
    if (recorded.ok()) return;
    outcome.record_error = recorded.error().message;
    interrupt(milliseconds(0));
  }

  void finish_if_done() {
    if (reader_done && evaluator.rows_active() == 0) loop.stop();
  }

  void interrupt(milliseconds grace) {
    if (interrupted) return;
    interrupted = true;
    reader_done = true;
    // Nothing to wait for: stop now rather than on the next turn, so nothing else runs first.
    if (evaluator.requests_out() == 0) {
      evaluator.stop(nullptr);
      loop.stop();
      return;
    }
    evaluator.stop([this] { loop.stop(); });
    loop.add_timer(grace, [this] { loop.stop(); });
  }
};

Runner::Runner(EventLoop& loop, Clock& clock, dataset::JsonlReader& reader, std::vector<ProviderSlot> chain,
               resilience::RateLimiter& limiter, ResultSink sink, RunnerOptions options)
    : impl_(std::make_unique<Impl>(loop, clock, reader, std::move(chain), limiter, std::move(sink), options)) {}

Runner::~Runner() = default;

void Runner::interrupt(std::chrono::milliseconds grace) { impl_->interrupt(grace); }

const output::RunCounters& Runner::live_counters() const { return impl_->evaluator.counters(); }

RunOutcome Runner::run() {
  impl_->loop.post([this] { impl_->pump(); });
  impl_->loop.run();
  RunOutcome outcome = impl_->outcome;
  outcome.counters = impl_->evaluator.counters();
  outcome.auth_failed = impl_->evaluator.auth_failed();
  outcome.auth_message = impl_->evaluator.auth_message();
  outcome.rows_read = impl_->rows_read;
  outcome.interrupted = impl_->interrupted;
  return outcome;
}

}  // namespace llmeval::runner
