#include "core/runner/follow_up_batches.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <optional>
#include <random>
#include <utility>
#include <vector>

#include "core/common/logging.h"
#include "core/runner/batch_spooler.h"
#include "core/runner/batch_tracker.h"

namespace llmeval::runner {

struct FollowUpBatches::Impl {
  LibeventLoop& loop;
  std::map<std::string, batch::BatchApi*> apis;
  FollowUpOptions options;
  bool polling = false;
  std::shared_ptr<spdlog::logger> log = logger("batch");
  std::shared_ptr<char> alive = std::make_shared<char>();

  Impl(LibeventLoop& l, std::map<std::string, batch::BatchApi*> a, FollowUpOptions o)
      : loop(l), apis(std::move(a)), options(std::move(o)) {}

  ~Impl() {
    for (auto& [provider, batch] : collecting) {
      if (batch->spool != nullptr) std::fclose(batch->spool);
    }
  }

  template <typename F>
  auto guarded(F fn) {
    return [token = std::weak_ptr<char>(alive), fn = std::move(fn)](auto&&... args) mutable {
      if (token.expired()) return;
      fn(std::forward<decltype(args)>(args)...);
    };
  }

  void schedule_poll() {
    if (polling) return;
    polling = true;
    loop.add_timer(options.poll_interval, guarded([this] {
                     polling = false;
                     poll();
                     if (!follow_ups_out.empty()) schedule_poll();
                   }));
  }

  struct FollowUpBatch {
    std::string provider;
    std::string local_id;
    std::FILE* spool = nullptr;
    std::int64_t requests = 0;
    std::map<std::string, BatchAnswers::FollowUpDone> waiting;  // by custom_id
    std::string batch_id;
    batch::BatchStatus status;
    bool busy = false;
  };
  std::map<std::string, std::shared_ptr<FollowUpBatch>> collecting;  // by provider
  std::vector<std::shared_ptr<FollowUpBatch>> follow_ups_out;        // submitted, not ended
  int follow_up_count = 0;
  std::string follow_up_token = std::to_string(std::random_device{}());

  void add(const std::string& provider, const std::string& custom_id, std::string line,
           BatchAnswers::FollowUpDone done) {
    auto endpoint = apis.find(provider);
    if (endpoint == apis.end() || endpoint->second == nullptr) {
      done(Error{ErrorKind::kBadRequest, "provider " + provider + " has no batch API here"}, "");
      return;
    }
    batch::BatchApi& api = *endpoint->second;
    std::shared_ptr<FollowUpBatch>& batch = collecting[provider];
    if (batch == nullptr) {
      batch = std::make_shared<FollowUpBatch>();
      batch->provider = provider;
      batch->local_id = "f" + std::to_string(++follow_up_count) + "-" + follow_up_token;
      batch->spool = std::fopen(spool_path(options.dir, batch->local_id).c_str(), "wb");
      if (batch->spool == nullptr) {
        collecting.erase(provider);
        done(Error{ErrorKind::kIo, "cannot write a follow-up batch in " + options.dir}, "");
        return;
      }
      write_spool_text(batch->spool, api.spool_prefix());
      loop.add_timer(options.wait, guarded([this, provider] { seal_follow_up(provider); }));
    }
    if (batch->requests > 0) write_spool_text(batch->spool, api.spool_separator());
    write_spool_text(batch->spool, line);
    ++batch->requests;
    batch->waiting[custom_id] = std::move(done);
  }

  void seal_follow_up(const std::string& provider) {
    auto it = collecting.find(provider);
    if (it == collecting.end()) return;
    std::shared_ptr<FollowUpBatch> batch = it->second;
    collecting.erase(it);
    batch::BatchApi& api = *apis.at(provider);
    write_spool_text(batch->spool, api.spool_suffix());
    const bool written = std::fclose(batch->spool) == 0;
    batch->spool = nullptr;
    if (!written) {
      answer_all(*batch, Error{ErrorKind::kIo, "cannot write its spool file"});
      return;
    }
    log->info("follow-up batch {}: {} repair turns", batch->local_id, batch->requests);
    api.submit(spool_path(options.dir, batch->local_id), batch->local_id, "",
               guarded([this, batch](Result<batch::Submitted> submitted) {
                 ::unlink(spool_path(options.dir, batch->local_id).c_str());
                 if (!submitted.ok()) {
                   answer_all(*batch, submitted.error());
                   return;
                 }
                 batch->batch_id = submitted.value().batch_id;
                 follow_ups_out.push_back(batch);
                 schedule_poll();
               }));
  }

  void poll() {
    for (const auto& batch : follow_ups_out) {
      if (batch->busy) continue;
      batch->busy = true;
      apis.at(batch->provider)->retrieve(batch->batch_id, guarded([this, batch](Result<batch::BatchStatus> status) {
                                           if (!status.ok() || !status.value().ended) {
                                             batch->busy = false;
                                             return;
                                           }
                                           batch->status = std::move(status.value());
                                           collect_follow_up(batch);
                                         }));
    }
  }

  void collect_follow_up(const std::shared_ptr<FollowUpBatch>& batch) {
    batch::BatchApi& api = *apis.at(batch->provider);
    const std::string path = results_path(options.dir, batch->local_id);
    auto answer = [this, batch, path, &api](Result<std::int64_t> bytes) {
      batch->busy = false;
      if (!bytes.ok()) return;  // tried again at the next poll
      std::erase(follow_ups_out, batch);
      std::ifstream in(path);
      std::string line;
      while (std::getline(in, line)) {
        std::optional<batch::BatchResult> result = api.parse_result_line(line);
        if (!result) continue;
        auto waiting = batch->waiting.find(result->custom_id);
        if (waiting == batch->waiting.end()) continue;
        auto done = std::move(waiting->second);
        batch->waiting.erase(waiting);
        done(std::move(result->body), batch->batch_id);
      }
      answer_all(*batch, Error{ErrorKind::kServer,
                               "no result for this request (the batch ended " + batch->status.provider_status + ")"});
    };
    if (batch->status.output_file_id.empty() && batch->status.error_file_id.empty() &&
        batch->status.results_url.empty()) {
      std::FILE* empty = std::fopen(path.c_str(), "wb");
      if (empty != nullptr) std::fclose(empty);
      answer(std::int64_t{0});
      return;
    }
    api.download(batch->status, path, guarded(std::move(answer)));
  }

  void answer_all(FollowUpBatch& batch, const Error& error) {
    auto waiting = std::move(batch.waiting);
    batch.waiting.clear();
    for (auto& [custom_id, done] : waiting) done(error, batch.batch_id.empty() ? batch.local_id : batch.batch_id);
  }
};

FollowUpBatches::FollowUpBatches(LibeventLoop& loop, std::map<std::string, batch::BatchApi*> apis,
                                 FollowUpOptions options)
    : impl_(std::make_unique<Impl>(loop, std::move(apis), std::move(options))) {}

FollowUpBatches::~FollowUpBatches() = default;

void FollowUpBatches::add(const std::string& provider, const std::string& custom_id, std::string line,
                          BatchAnswers::FollowUpDone done) {
  impl_->add(provider, custom_id, std::move(line), std::move(done));
}

}  // namespace llmeval::runner
