// FollowUpBatches: under run --batch --batch-fallback error nothing is judged online, so the
// repair turn of a batch's unparseable reply (or the retry with a wider token cap of a cut-off
// one) goes into a follow-up batch of its provider instead (docs/batch.md). Calls are collected
// for `wait` after the first one comes, then the batch is sealed, submitted, polled every
// `poll_interval` until it ends, its results streamed to disk, and each call answered from its
// result by custom_id (one that has none gets an error).
//
// Follow-up batches are not in the journal: a crash loses them, and a --resume sends those
// repairs again. All collaborators are borrowed. Loop thread only.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "core/batch/batch_api.h"
#include "core/common/event_loop.h"
#include "core/runner/batch_answers.h"

namespace llmeval::runner {

struct FollowUpOptions {
  std::string dir;  // spool and results files, as the run's batches
  std::chrono::milliseconds wait{500};
  std::chrono::milliseconds poll_interval{30'000};
};

class FollowUpBatches {
 public:
  // apis: by provider name.
  FollowUpBatches(LibeventLoop& loop, std::map<std::string, batch::BatchApi*> apis, FollowUpOptions options);
  ~FollowUpBatches();
  FollowUpBatches(const FollowUpBatches&) = delete;
  FollowUpBatches& operator=(const FollowUpBatches&) = delete;

  // Adds one call (its batch line, Provider::batch_request) to the provider's collecting
  // follow-up batch; done runs once with its result's body and the batch's id, or why not.
  void add(const std::string& provider, const std::string& custom_id, std::string line,
           BatchAnswers::FollowUpDone done);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace llmeval::runner
