#include "core/runner/batch_answers.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "core/batch/custom_id.h"

namespace llmeval::runner {

BatchAnswers::BatchAnswers(provider::Provider& online, const batch::BatchApi& api, BatchFallback fallback)
    : online_(online), api_(api), fallback_(fallback) {}

BatchAnswers::~BatchAnswers() {
  for (auto& file : files_) {
    if (file.fd >= 0) ::close(file.fd);
  }
}

Result<std::int64_t> BatchAnswers::load(const std::string& window, const std::string& results_path,
                                        const std::string& batch_id) {
  const int fd = ::open(results_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error{ErrorKind::kIo, "cannot read batch results " + results_path + ": " + std::strerror(errno)};
  const auto file_index = static_cast<std::uint32_t>(files_.size());
  files_.push_back(File{window, batch_id, fd});
  // One pass in large reads; only each line's custom_id and place are kept.
  std::int64_t indexed = 0;
  std::string carry;
  std::uint64_t carry_offset = 0, offset = 0;
  std::string buffer(1 << 20, '\0');
  for (;;) {
    const ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error{ErrorKind::kIo, "cannot read batch results " + results_path + ": " + std::strerror(errno)};
    if (n == 0) break;
    std::size_t start = 0;
    for (std::size_t i = 0; i < static_cast<std::size_t>(n); ++i) {
      if (buffer[i] != '\n') continue;
      carry.append(buffer, start, i - start);
      if (auto result = api_.parse_result_line(carry); result && batch::parse_custom_id(result->custom_id)) {
        index_[result->custom_id] = Place{file_index, static_cast<std::uint32_t>(carry.size()), carry_offset,
                                          result->body.ok()};
        ++indexed;
      }
      carry.clear();
      start = i + 1;
      carry_offset = offset + start;
    }
    carry.append(buffer, start, static_cast<std::size_t>(n) - start);
    offset += static_cast<std::uint64_t>(n);
  }
  if (auto result = api_.parse_result_line(carry); result && batch::parse_custom_id(result->custom_id)) {
    index_[result->custom_id] = Place{file_index, static_cast<std::uint32_t>(carry.size()), carry_offset,
                                      result->body.ok()};
    ++indexed;
  }
  return indexed;
}

void BatchAnswers::set_missing_reason(std::int64_t first_line, std::int64_t last_line, std::string reason) {
  missing_reasons_.push_back(MissingReason{first_line, last_line, std::move(reason)});
}

void BatchAnswers::forget(const std::string& window) {
  for (std::uint32_t i = 0; i < files_.size(); ++i) {
    File& file = files_[i];
    if (file.window != window || file.fd < 0) continue;
    ::close(file.fd);
    file.fd = -1;
    for (auto it = index_.begin(); it != index_.end();) {
      it = it->second.file == i ? index_.erase(it) : std::next(it);
    }
  }
}

// Only a reply is prepaid: a call whose batch result is an error goes online from complete(),
// so it must take its limiter grant, breaker slot and budget reservation like any online call.
bool BatchAnswers::prepaid(const provider::CompletionRequest& request) const {
  if (request.custom_id.empty()) return false;
  auto it = index_.find(request.custom_id);
  return it != index_.end() && it->second.answered;
}

Result<provider::CompletionResponse> BatchAnswers::answer_at(const Place& place) const {
  const File& file = files_[place.file];
  std::string line(place.length, '\0');
  std::size_t got = 0;
  while (got < line.size()) {
    const ssize_t n = ::pread(file.fd, line.data() + got, line.size() - got, static_cast<off_t>(place.offset + got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Error{ErrorKind::kIo, "cannot read the result of batch " + file.batch_id};
    got += static_cast<std::size_t>(n);
  }
  std::optional<batch::BatchResult> result = api_.parse_result_line(line);
  if (!result) return Error{ErrorKind::kServer, "batch " + file.batch_id + " result changed on disk"};
  if (!result->body.ok()) {
    Error error = result->body.error();
    error.message = "failed in batch " + file.batch_id + ": " + error.message;
    return error;
  }
  Result<provider::CompletionResponse> response = online_.batch_result(std::move(result->body.value()));
  if (!response.ok()) {
    Error error = response.error();
    error.message = "batch " + file.batch_id + ": " + error.message;
    return error;
  }
  response.value().batch_id = file.batch_id;
  return response;
}

void BatchAnswers::complete(const provider::CompletionRequest& request, provider::CompletionCallback callback) {
  if (request.custom_id.empty()) {
    online_.complete(request, std::move(callback));
    return;
  }
  const bool later_turn = request.messages.size() > 1 || request.cap_scale > 1;  // a repair, a wider cap
  if (later_turn && fallback_ == BatchFallback::kError && follow_up_) {
    send_in_follow_up(request, std::move(callback));
    return;
  }
  std::string why;
  if (auto it = index_.find(request.custom_id); it != index_.end()) {
    const Place place = it->second;
    index_.erase(it);  // handed out once: a later attempt of this call is not the batch's
    Result<provider::CompletionResponse> answer = answer_at(place);
    if (answer.ok()) {
      callback(std::move(answer));
      return;
    }
    why = answer.error().message;
    failed_[request.custom_id] = why;
  } else if (auto failed = failed_.find(request.custom_id); failed != failed_.end()) {
    why = failed->second;
  } else if (request.messages.size() > 1) {
    why = "the repair turn of a batch's unparseable reply";
  } else if (request.cap_scale > 1) {
    why = "the retry with a wider token cap of a batch's cut-off reply";
  } else {
    why = "no result in its batch";
    if (auto key = batch::parse_custom_id(request.custom_id)) {
      for (const auto& missing : missing_reasons_) {
        if (key->line >= missing.first_line && key->line <= missing.last_line) why = missing.reason;
      }
    }
  }
  go_online(request, std::move(why), std::move(callback));
}

void BatchAnswers::send_in_follow_up(const provider::CompletionRequest& request,
                                     provider::CompletionCallback callback) {
  follow_up_(request.custom_id, online_.batch_request(request, request.custom_id),
             [this, callback = std::move(callback)](Result<std::string> body, const std::string& batch_id) {
               if (!body.ok()) {
                 Error error = body.error();
                 error.message = "follow-up batch " + batch_id + ": " + error.message;
                 callback(error);
                 return;
               }
               Result<provider::CompletionResponse> response = online_.batch_result(std::move(body.value()));
               if (response.ok()) response.value().batch_id = batch_id;
               callback(std::move(response));
             });
}

void BatchAnswers::go_online(const provider::CompletionRequest& request, std::string why,
                             provider::CompletionCallback callback) {
  if (fallback_ == BatchFallback::kError) {
    // kBadRequest: not retried and not sent to another provider — this call was the batch's.
    callback(Error{ErrorKind::kBadRequest, why + " (--batch-fallback error: not judged online)"});
    return;
  }
  online_.complete(request, [why = std::move(why),
                             callback = std::move(callback)](Result<provider::CompletionResponse> reply) mutable {
    if (reply.ok()) reply.value().batch_fallback = why;
    callback(std::move(reply));
  });
}

}  // namespace llmeval::runner
