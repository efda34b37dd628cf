#include "core/batch/batch_journal.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include <nlohmann/json.hpp>

namespace llmeval::batch {
namespace {

Error io_error(const std::string& what, const std::string& path) {
  return Error{ErrorKind::kIo, what + " " + path + ": " + std::strerror(errno)};
}

bool string_field(const nlohmann::json& event, const char* key, std::string& out) {
  auto it = event.find(key);
  if (it == event.end() || !it->is_string() || it->get_ref<const std::string&>().empty()) return false;
  out = it->get<std::string>();
  return true;
}

bool int_field(const nlohmann::json& event, const char* key, std::int64_t& out) {
  auto it = event.find(key);
  if (it == event.end() || !it->is_number_integer()) return false;
  out = it->get<std::int64_t>();
  return true;
}

}  // namespace

BatchJournal::BatchJournal(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}

BatchJournal::~BatchJournal() {
  if (fd_ >= 0) ::close(fd_);
}

Result<std::unique_ptr<BatchJournal>> BatchJournal::open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return io_error("cannot open the batch journal", path);
  std::unique_ptr<BatchJournal> journal(new BatchJournal(path, fd));
  std::ifstream in(path, std::ios::binary);
  if (!in) return io_error("cannot read the batch journal", path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::size_t start = 0, number = 0;
  while (start < text.size()) {
    const std::size_t end = text.find('\n', start);
    ++number;
    if (end == std::string::npos) {
      // A torn last line: the crash came mid-append, so the step it recorded was never taken
      // further. Cut it, so the next event starts on a line of its own.
      if (::ftruncate(fd, static_cast<off_t>(start)) != 0) return io_error("cannot repair the batch journal", path);
      break;
    }
    if (!journal->apply(text.substr(start, end - start))) {
      return Error{ErrorKind::kParse, path + ":" + std::to_string(number) +
                                          ": not a batch journal event; the file is not one llmeval wrote, or was "
                                          "edited: move it away to start the batches afresh"};
    }
    start = end + 1;
  }
  return journal;
}

bool WindowState::ended() const {
  for (const auto& batch : batches) {
    if (batch.ended.empty()) return false;
  }
  return true;
}

bool BatchJournal::apply(const std::string& line) {
  nlohmann::json event = nlohmann::json::parse(line, nullptr, false);
  std::string kind, local_id;
  if (!event.is_object() || !string_field(event, "event", kind)) return false;
  if (kind == "prepared") return apply_prepared(event);
  if (!string_field(event, "batch", local_id)) return false;
  BatchState* batch = find(local_id);
  if (batch == nullptr) return false;
  if (kind == "uploaded") return string_field(event, "file_id", batch->file_id);
  if (kind == "submitted") return string_field(event, "batch_id", batch->batch_id);
  if (kind == "ended") return string_field(event, "status", batch->ended);
  return false;
}

bool BatchJournal::apply_prepared(const nlohmann::json& event) {
  WindowState window;
  auto batches = event.find("batches");
  if (!string_field(event, "window", window.id) || !int_field(event, "first_line", window.first_line) ||
      !int_field(event, "last_line", window.last_line) || window.first_line > window.last_line ||
      window.first_line <= last_line() || batches == event.end() || !batches->is_array()) {
    return false;
  }
  for (const auto& window_seen : windows_) {
    if (window_seen.id == window.id) return false;
  }
  for (const auto& entry : *batches) {
    BatchState batch;
    if (!entry.is_object() || !string_field(entry, "batch", batch.local_id) ||
        !string_field(entry, "provider", batch.provider) || !string_field(entry, "api", batch.api) ||
        !int_field(entry, "requests", batch.requests) || find(batch.local_id) != nullptr) {
      return false;
    }
    window.batches.push_back(std::move(batch));
  }
  batch_count_ += window.batches.size();
  windows_.push_back(std::move(window));
  return true;
}

BatchState* BatchJournal::find(const std::string& local_id) {
  for (auto& window : windows_) {
    for (auto& batch : window.batches) {
      if (batch.local_id == local_id) return &batch;
    }
  }
  return nullptr;
}

const BatchState* BatchJournal::batch(const std::string& local_id) const {
  return const_cast<BatchJournal*>(this)->find(local_id);
}

std::string BatchJournal::next_window_id() const { return "w" + std::to_string(windows_.size() + 1); }

std::string BatchJournal::next_local_id() const { return "b" + std::to_string(batch_count_ + 1); }

Result<Ok> BatchJournal::append(const std::string& line) {
  if (!apply(line)) return Error{ErrorKind::kIo, "batch journal " + path_ + ": an event that does not apply: " + line};
  const std::string text = line + "\n";
  std::size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(fd_, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return io_error("cannot write the batch journal", path_);
    written += static_cast<std::size_t>(n);
  }
  // Durable before the step goes further: a batch the provider accepted must never be
  // forgotten, and calls in a prepared batch must never go out twice.
  if (::fdatasync(fd_) != 0) return io_error("cannot sync the batch journal", path_);
  return Ok{};
}

Result<Ok> BatchJournal::prepared(const WindowState& window) {
  nlohmann::ordered_json batches = nlohmann::ordered_json::array();
  for (const auto& batch : window.batches) {
    batches.push_back(
        {{"batch", batch.local_id}, {"provider", batch.provider}, {"api", batch.api}, {"requests", batch.requests}});
  }
  nlohmann::ordered_json event = {{"event", "prepared"},
                                  {"window", window.id},
                                  {"first_line", window.first_line},
                                  {"last_line", window.last_line},
                                  {"batches", std::move(batches)}};
  return append(event.dump());
}

Result<Ok> BatchJournal::uploaded(const std::string& local_id, const std::string& file_id) {
  return append(nlohmann::ordered_json{{"event", "uploaded"}, {"batch", local_id}, {"file_id", file_id}}.dump());
}

Result<Ok> BatchJournal::submitted(const std::string& local_id, const std::string& batch_id) {
  return append(nlohmann::ordered_json{{"event", "submitted"}, {"batch", local_id}, {"batch_id", batch_id}}.dump());
}

Result<Ok> BatchJournal::ended(const std::string& local_id, const std::string& status) {
  return append(nlohmann::ordered_json{{"event", "ended"}, {"batch", local_id}, {"status", status}}.dump());
}

}  // namespace llmeval::batch
