// BatchAnswers: how a run --batch judges its rows once their batches have ended (batch_run.h).
// It stands in the chain for a provider whose calls went into batches: a call whose custom_id
// a downloaded batch result answers gets that answer at once, mapped by the real provider's
// batch_result exactly as an online reply would be, and marked with the batch's id. Every
// other call of that provider goes online, marked with why (batch_fallback), or with
// --batch-fallback error fails instead:
//   - its request errored, expired or was cancelled in the batch, or has no result in it;
//   - a later attempt of the same call: a repair turn, a retry with a widened token cap, a
//     retry after an online failure.
// Each answer is handed out once: a second attempt of the same call never gets it again.
// Under --batch-fallback error a repair turn (or a widened retry) is not failed but sent in a
// follow-up batch (set_follow_up), as nothing may be judged online.
//
// Results stay on disk: the index keeps each custom_id's place in its results file (a few
// dozen bytes a call), and only the windows still being judged are indexed (forget()).
// Loop thread only; `online` and `api` are borrowed.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/batch/batch_api.h"
#include "core/provider/provider.h"

namespace llmeval::runner {

enum class BatchFallback { kOnline, kError };

class BatchAnswers final : public provider::Provider {
 public:
  BatchAnswers(provider::Provider& online, const batch::BatchApi& api, BatchFallback fallback);
  ~BatchAnswers() override;

  // Indexes a downloaded results file of the batch the provider calls batch_id, under the
  // window `window`. Lines that are not results of ours are skipped. Returns the results
  // indexed; kIo when the file cannot be read.
  Result<std::int64_t> load(const std::string& window, const std::string& results_path, const std::string& batch_id);
  // A batch for lines first..last ended without answering everything (it expired, failed or
  // was cancelled): why, for the calls of those lines it has no result for.
  void set_missing_reason(std::int64_t first_line, std::int64_t last_line, std::string reason);
  // Drops the window's answers not asked for (rows recorded before a resume) and closes its files.
  void forget(const std::string& window);
  std::size_t indexed() const { return index_.size(); }

  // --batch-fallback error: where a repair turn goes instead of online. `line` is the request's
  // batch line (Provider::batch_request); `done` gets the result's body and the batch's id, or
  // why there is none.
  using FollowUpDone = std::function<void(Result<std::string> body, const std::string& batch_id)>;
  using FollowUp = std::function<void(const std::string& custom_id, std::string line, FollowUpDone done)>;
  void set_follow_up(FollowUp follow_up) { follow_up_ = std::move(follow_up); }

  const std::string& name() const override { return online_.name(); }
  const std::string& model() const override { return online_.model(); }
  void complete(const provider::CompletionRequest& request, provider::CompletionCallback callback) override;
  std::string json_mode() const override { return online_.json_mode(); }
  std::vector<std::string> adaptations() const override { return online_.adaptations(); }
  std::string request_identity(const provider::CompletionRequest& request) const override {
    return online_.request_identity(request);
  }
  int token_cap(const provider::CompletionRequest& request) const override { return online_.token_cap(request); }
  // True when the call's batch result is a reply (not an error, not missing).
  bool prepaid(const provider::CompletionRequest& request) const override;

 private:
  struct Place {
    std::uint32_t file = 0;  // index in files_
    std::uint32_t length = 0;
    std::uint64_t offset = 0;
    bool answered = false;  // the result is a reply, not an error: the call is prepaid
  };
  struct File {
    std::string window;
    std::string batch_id;
    int fd = -1;
  };
  // The answer at `place`, or why there is none.
  Result<provider::CompletionResponse> answer_at(const Place& place) const;
  void go_online(const provider::CompletionRequest& request, std::string why, provider::CompletionCallback callback);
  void send_in_follow_up(const provider::CompletionRequest& request, provider::CompletionCallback callback);

  provider::Provider& online_;
  const batch::BatchApi& api_;
  BatchFallback fallback_;
  std::vector<File> files_;
  std::unordered_map<std::string, Place> index_;  // by custom_id; erased when handed out
  struct MissingReason {
    std::int64_t first_line, last_line;
    std::string reason;
  };
  std::vector<MissingReason> missing_reasons_;
  // custom_ids whose batch result was an error: why, for their later attempts' marks.
  std::unordered_map<std::string, std::string> failed_;
  FollowUp follow_up_;
};

}  // namespace llmeval::runner
