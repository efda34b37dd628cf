// BatchApi: one provider's batch endpoints (OpenAI's Batch API and Files API, Anthropic's
// Message Batches API), driven asynchronously on the loop through an HttpClient. The run's
// batch mode (batch_run.h) spools a batch's requests into a file, submits it with submit(),
// polls it with retrieve() until it has ended, and streams its results to a file with
// download(); parse_result_line() then reads each result back. Nothing is ever held in memory
// whole: bodies go out from the spool file and results come in to disk.
//
// Every callback runs exactly once on the loop thread, possibly before the call returns when
// the request could not even be started. Errors are classified like a provider's
// (provider.h): kAuth, kRateLimited, kServer, kBadRequest, kTimeout, kConnect, kIo.
// Never logs or returns the API key.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/batch/batch_limits.h"
#include "core/common/error.h"
#include "core/provider/http_client.h"
#include "core/provider/provider_config.h"

namespace llmeval::batch {

// A submitted batch as the provider describes it now.
struct BatchStatus {
  std::string batch_id;
  // The provider's own word: OpenAI validating | in_progress | finalizing | completed | failed |
  // expired | cancelling | cancelled; Anthropic in_progress | canceling | ended.
  std::string provider_status;
  // No more results will come: every result there is can be downloaded (an expired, failed or
  // cancelled batch may still have some; the rest are missing and go to the fallback).
  bool ended = false;
  // Why nothing will come at all (OpenAI failed: its validation errors), for the log; else empty.
  std::string failure;
  std::int64_t requests_total = 0;
  std::int64_t requests_done = 0;    // succeeded so far
  std::int64_t requests_failed = 0;  // errored, expired or cancelled so far
  // OpenAI: output_file_id and error_file_id, once there are any. Anthropic: results_url.
  std::string output_file_id;
  std::string error_file_id;
  std::string results_url;
};

struct Submitted {
  std::string file_id;   // OpenAI: the uploaded input file; Anthropic: empty
  std::string batch_id;  // the provider's batch id
};

// One result line of a downloaded results file.
struct BatchResult {
  std::string custom_id;
  // The body an online call would have had as its 2xx reply (a chat completion, a message),
  // for Provider::batch_result; or why this request has no answer (an error inside the batch,
  // a non-2xx status, expired, cancelled), as the kind a provider would give it.
  Result<std::string> body = Error{ErrorKind::kServer, "no result"};
};

class BatchApi {
 public:
  virtual ~BatchApi() = default;
  virtual const BatchLimits& limits() const = 0;

  // How the spool file is laid out: an OpenAI batch input file is the request lines
  // (Provider::batch_request) one per line; an Anthropic create body is {"requests": [...]}
  // with the same elements comma-separated. The runner writes prefix, the elements joined by
  // separator, then suffix.
  virtual std::string_view spool_prefix() const = 0;
  virtual std::string_view spool_separator() const = 0;
  virtual std::string_view spool_suffix() const = 0;

  // Sends the spooled batch at spool_path (OpenAI: uploads it to the files endpoint, purpose
  // "batch", then creates a batch for /v1/chat/completions (Azure: /chat/completions) with a
  // 24h window; Anthropic: POSTs it as the create body). `local_id` goes in the batch's
  // metadata where the API has one, so a run that crashed before recording the batch id can
  // find its batch again. When file_id is given (OpenAI: a file uploaded before a crash), it is
  // used instead of uploading again.
  using SubmitCallback = std::function<void(Result<Submitted>)>;
  virtual void submit(const std::string& spool_path, const std::string& local_id, const std::string& file_id,
                      SubmitCallback done) = 0;

  // A crash can come after the provider accepted a batch and before the journal recorded it.
  // Looks among the provider's most recent batches (one page of 100) for the one submitted
  // under local_id, by the metadata submit() gave it: its id, or empty when there is none.
  // Anthropic's batches carry no metadata, so there it always answers empty (docs/batch.md
  // says what that risks).
  using FindCallback = std::function<void(Result<std::string>)>;
  virtual void find_submitted(const std::string& local_id, FindCallback done) = 0;

  using StatusCallback = std::function<void(Result<BatchStatus>)>;
  virtual void retrieve(const std::string& batch_id, StatusCallback done) = 0;
  virtual void cancel(const std::string& batch_id, StatusCallback done) = 0;

  // Streams every result of an ended batch to path (created or truncated), one JSON line each,
  // in the provider's own format (OpenAI: the output file, then the error file; Anthropic: the
  // results JSONL). Returns the bytes written.
  using DownloadCallback = std::function<void(Result<std::int64_t>)>;
  virtual void download(const BatchStatus& status, const std::string& path, DownloadCallback done) = 0;

  // One line of a downloaded file; nullopt when the line is not a result (blank, not JSON, no
  // custom_id).
  virtual std::optional<BatchResult> parse_result_line(std::string_view line) const = 0;
};

// The batch API of the provider `config` describes, or nullptr when it has none (sim; an
// OpenAI-compatible server is assumed to implement OpenAI's). `http` must outlive it.
std::unique_ptr<BatchApi> make_batch_api(provider::HttpClient& http, const provider::ProviderConfig& config);

}  // namespace llmeval::batch
