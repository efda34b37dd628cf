// BatchJournal: the durable record of a --batch run's batches, next to its output
// (OUT.batches.jsonl), so that a run killed at any moment can be resumed without submitting a
// call twice and without losing a batch the provider is already working on.
//
// One JSON object per line, appended and fdatasync'd before the step it records is taken
// further:
//   {"event":"prepared","batch":"b3","provider":"openai","api":"openai","calls":["l1c0s0j0o0",...]}
//       written before anything of batch b3 is sent: these calls are now in a batch;
//   {"event":"uploaded","batch":"b3","file_id":"file-..."}   OpenAI: its input file was accepted;
//   {"event":"submitted","batch":"b3","batch_id":"batch_..."}  the provider accepted the batch;
//   {"event":"ended","batch":"b3","status":"completed"}      its results were collected (or it
//       expired, failed or was cancelled, and its calls went to the fallback).
// A crash between sending a request and writing its line leaves the state one step behind;
// the resume step re-attaches from there (issue 18: for OpenAI by the batch's metadata, which
// names the local batch id). A torn last line (a crash mid-append) is dropped when the journal
// is reopened; any other line that is not a journal event is an error, never skipped.
//
// Not thread-safe; one writer (the run's loop thread).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "core/common/error.h"

namespace llmeval::batch {

struct BatchState {
  std::string local_id;            // "b<n>": unique within the journal
  std::string provider;            // the provider's name in the run (-p / config)
  std::string api;                 // "openai" or "anthropic"
  std::vector<std::string> calls;  // custom_ids (custom_id.h), in submission order
  std::string file_id;             // OpenAI's input file, once uploaded
  std::string batch_id;            // the provider's id, once it accepted the batch
  std::string ended;               // empty while open; else the status it ended with

  bool submitted() const { return !batch_id.empty(); }
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

  const std::vector<BatchState>& batches() const { return batches_; }
  // A local id not used yet in this journal.
  std::string next_local_id() const;

  // Each records its step durably (written and fdatasync'd) before returning.
  Result<Ok> prepared(const BatchState& batch);
  Result<Ok> uploaded(const std::string& local_id, const std::string& file_id);
  Result<Ok> submitted(const std::string& local_id, const std::string& batch_id);
  Result<Ok> ended(const std::string& local_id, const std::string& status);

 private:
  BatchJournal(std::string path, int fd);
  // Applies one event line to batches_; false when it is not a journal event.
  bool apply(const std::string& line);
  Result<Ok> append(const std::string& line);
  BatchState* find(const std::string& local_id);

  std::string path_;
  int fd_;
  std::vector<BatchState> batches_;
};

}  // namespace llmeval::batch
