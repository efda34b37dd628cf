// BatchJournal: the durable record of a --batch run's batches, next to its output
// (OUT.batches.jsonl), so that a run killed at any moment can be resumed without submitting a
// call twice and without losing a batch the provider is already working on.
//
// Batches come in windows: a window is a range of dataset lines whose judge calls were spooled
// together, one batch per provider that has calls in it (none when the cache answers them all).
// A row is judged from its batches' results once every batch of its window has ended.
//
// One JSON object per line, appended and fdatasync'd before the step it records is taken
// further:
//   {"event":"prepared","window":"w2","first_line":501,"last_line":1000,
//    "batches":[{"batch":"b3","provider":"openai","api":"openai","requests":1000}]}
//       written once the window's spool files are complete and before anything of them is
//       sent: every call of lines 501..1000 not answered by the cache is in one of these;
//   {"event":"uploaded","batch":"b3","file_id":"file-..."}   OpenAI: its input file was accepted;
//   {"event":"submitted","batch":"b3","batch_id":"batch_..."}  the provider accepted the batch;
//   {"event":"ended","batch":"b3","status":"completed"}      it ended and its results are on disk
//       (an expired, failed or cancelled batch's missing results go to the fallback).
// A crash between sending a request and writing its line leaves the state one step behind;
// the resume step re-attaches from there (issue 18: for OpenAI by the batch's metadata, which
// names the local batch id). A torn last line (a crash mid-append) is dropped when the journal
// is reopened; any other line that is not a journal event is an error, never skipped.
//
// Not thread-safe; one writer (the run's loop thread).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/common/error.h"

namespace llmeval::batch {

struct BatchState {
  std::string local_id;       // "b<n>": unique within the journal
  std::string provider;       // the provider's name in the run (-p / config)
  std::string api;            // "openai" or "anthropic"
  std::int64_t requests = 0;  // judge calls in it
  std::string file_id;        // OpenAI's input file, once uploaded
  std::string batch_id;       // the provider's id, once it accepted the batch
  std::string ended;          // empty while open; else the status it ended with

  bool submitted() const { return !batch_id.empty(); }
};

struct WindowState {
  std::string id;  // "w<n>": unique within the journal
  std::int64_t first_line = 0;
  std::int64_t last_line = 0;
  std::vector<BatchState> batches;

  // Every batch ended (a window without batches at once): its rows can be judged.
  bool ended() const;
};

class BatchJournal {
 public:
  // Opens (creating) the journal at path and replays it: batches() then says where each batch
  // recorded so far stands. kIo when the file cannot be read or written; kParse, naming the
  // line, for a line that is not a journal event (other than a torn last line).
  static Result<std::unique_ptr<BatchJournal>> open(const std::string& path);
  ~BatchJournal();
  BatchJournal(const BatchJournal&) = delete;
  BatchJournal& operator=(const BatchJournal&) = delete;

  const std::vector<WindowState>& windows() const { return windows_; }
  // The batch recorded under local_id, or nullptr.
  const BatchState* batch(const std::string& local_id) const;
  // Ids not used yet in this journal.
  std::string next_window_id() const;
  std::string next_local_id() const;  // of a batch
  // The last line of the last window: rows up to it have their calls in batches.
  std::int64_t last_line() const { return windows_.empty() ? 0 : windows_.back().last_line; }

  // Each records its step durably (written and fdatasync'd) before returning.
  Result<Ok> prepared(const WindowState& window);
  Result<Ok> uploaded(const std::string& local_id, const std::string& file_id);
  Result<Ok> submitted(const std::string& local_id, const std::string& batch_id);
  Result<Ok> ended(const std::string& local_id, const std::string& status);

 private:
  BatchJournal(std::string path, int fd);
  // Applies one event line to batches_; false when it is not a journal event.
  bool apply(const std::string& line);
  bool apply_prepared(const nlohmann::json& event);
  Result<Ok> append(const std::string& line);
  BatchState* find(const std::string& local_id);

  std::string path_;
  int fd_;
  std::vector<WindowState> windows_;
  std::size_t batch_count_ = 0;
};

}  // namespace llmeval::batch
