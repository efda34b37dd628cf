// BatchSpooler: the first phase of run --batch (docs/batch.md). It reads the dataset as a run
// does (shard, --limit, --resume) and, instead of calling, writes every judge call the run
// would make to a batch-capable provider into that provider's spool file: the request line
// Provider::batch_request gives, under the call's custom_id. Calls the judge cache already
// answers are left out (the second phase gets them from the cache).
//
// Rows go into windows: consecutive dataset lines whose calls fill one batch per provider up to
// the API's limits or --batch-size. A row's calls never straddle two windows. When a window is
// sealed, its spool files are synced, the window is recorded in the journal (`prepared`) and
// handed to `sealed` to submit. So memory holds one window's counters and the rows waiting for
// their cache lookups, never the dataset or a batch.
//
// With a cost budget, each row's calls reserve their worst case at the batch price before they
// are spooled; they stay counted as spent (a submitted batch is committed). A refused
// reservation seals what was spooled before it and stops reading (budget_exhausted).
// stop() (SIGINT) stops reading and drops the window not yet sealed: its rows are in no batch,
// so a --resume spools them again.
//
// All collaborators are borrowed. Loop thread only.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/batch/batch_api.h"
#include "core/batch/batch_journal.h"
#include "core/batch/batch_packer.h"
#include "core/cache/judge_cache.h"
#include "core/common/event_loop.h"
#include "core/dataset/jsonl_reader.h"
#include "core/judge/judge_prompt.h"
#include "core/output/resume_index.h"
#include "core/provider/provider.h"
#include "core/provider/provider_config.h"
#include "core/resilience/cost_budget.h"

namespace llmeval::runner {

// One provider whose calls go into batches: a juror (its chain index), or chain[0] without a jury.
struct BatchTarget {
  std::size_t juror = 0;  // the custom_id's juror: its chain index with a jury, else 0
  provider::Provider* provider = nullptr;
  batch::BatchApi* api = nullptr;
  std::string api_name;                  // "openai" or "anthropic", for the journal
  std::optional<provider::Price> price;  // online; reservations are at the batch price
};

struct BatchSpoolOptions {
  judge::JudgeOptions judge;
  cache::JudgeCache* cache = nullptr;  // optional
  cache::CacheMode cache_mode = cache::CacheMode::kReadWrite;
  int repeat = 1;
  bool jury = false;  // the targets are jurors: every LLM call goes to each
  const output::ResumeIndex* resume = nullptr;
  std::int64_t limit = -1;
  std::size_t batch_size = 0;  // --batch-size: most requests a batch; 0: the API's limit
  std::string dir;             // spool files: <dir>/<batch local id>.jsonl
  resilience::CostBudget* budget = nullptr;
  std::size_t lookups_in_flight = 256;
};

struct SpoolOutcome {
  std::int64_t rows_read = 0;
  std::int64_t calls_spooled = 0;
  std::int64_t calls_cached = 0;
  std::int64_t windows = 0;
  bool budget_exhausted = false;
  bool stopped = false;
  std::string error;  // a spool file or the journal could not be written: the run stops
};

class BatchSpooler {
 public:
  using Sealed = std::function<void(const batch::WindowState&)>;
  // Lines up to journal.last_line() are already in windows (a resumed run): read past, not spooled.
  BatchSpooler(LibeventLoop& loop, dataset::JsonlReader& reader, std::vector<BatchTarget> targets,
               batch::BatchJournal& journal, BatchSpoolOptions options, Sealed sealed);
  ~BatchSpooler();
  BatchSpooler(const BatchSpooler&) = delete;
  BatchSpooler& operator=(const BatchSpooler&) = delete;

  // Reads the dataset to its end (or until stopped); done runs once, on the loop, when the last
  // window was sealed.
  void start(std::function<void(const SpoolOutcome&)> done);
  void stop();
  const SpoolOutcome& outcome() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The spool file of a batch.
std::string spool_path(const std::string& dir, const std::string& local_id);

// Appends text to a spool file (nothing for empty text: fwrite must not be given a null
// pointer, which an empty string_view may hold). Errors show at the flush that seals the file.
void write_spool_text(std::FILE* file, std::string_view text);

}  // namespace llmeval::runner
