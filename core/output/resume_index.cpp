#include "core/output/resume_index.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "core/common/error.h"
#include "core/output/result_reader.h"

namespace llmeval::output {
namespace {

Error refusal(const std::string& path, const std::string& why) {
  return Error{ErrorKind::kParse, "cannot --resume from " + path + ": " + why +
                                      "; write to a new --output, or delete this file to start over"};
}

// errno says why `what` failed.
Error io_error(const std::string& what) {
  return Error{ErrorKind::kIo, "cannot --resume: " + what + ": " + std::strerror(errno)};
}

// With --retry-errors the rows kept are copied to a temporary file that replaces the original.
class Rewrite {
 public:
  Rewrite(const std::string& path, bool enabled) : path_(path), temp_(path + ".resume-tmp"), enabled_(enabled) {}
  ~Rewrite() {
    if (out_.is_open()) {
      out_.close();
      std::remove(temp_.c_str());
    }
  }
  Rewrite(const Rewrite&) = delete;
  Rewrite& operator=(const Rewrite&) = delete;

  Result<Ok> open() {
    if (!enabled_) return Ok{};
    out_.open(temp_, std::ios::binary | std::ios::trunc);
    if (!out_) return io_error("cannot write " + temp_);
    return Ok{};
  }
  void keep(const std::string& line) {
    if (out_.is_open()) out_ << line << '\n';
  }
  Result<Ok> commit() {
    out_.close();
    if (!out_ || std::rename(temp_.c_str(), path_.c_str()) != 0) return io_error("cannot replace " + path_);
    return Ok{};
  }

 private:
  std::string path_;
  std::string temp_;
  bool enabled_;
  std::ofstream out_;
};

}  // namespace

std::uint64_t id_fingerprint(const nlohmann::json& id) {
  std::uint64_t hash = 1469598103934665603ULL;
  for (unsigned char c : id.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)) {
    hash = (hash ^ c) * 1099511628211ULL;
  }
  return hash;
}

Result<ResumeIndex> ResumeIndex::load(const std::string& path, bool retry_errors,
                                      const std::function<void(const ResultRecord&)>& kept) {
  ResumeIndex index;
  std::ifstream in(path, std::ios::binary);
  if (!in) return index;  // nothing recorded yet
  Rewrite rewrite(path, retry_errors);
  if (auto opened = rewrite.open(); !opened.ok()) return opened.error();
  std::string line;
  std::int64_t number = 0;
  std::streamoff complete_bytes = 0;  // up to the end of the last whole line
  while (std::getline(in, line)) {
    ++number;
    if (in.eof()) {  // no newline after it: the run died while writing this line
      index.torn_ = true;
      break;
    }
    Result<ResultRecord> record = parse_result_line(line);
    if (!record.ok()) return refusal(path, "line " + std::to_string(number) + " is " + record.error().message);
    complete_bytes += static_cast<std::streamoff>(line.size()) + 1;
    if (retry_errors && record.value().status == Status::kError) {
      ++index.errors_dropped_;
      continue;
    }
    rewrite.keep(line);
    index.entries_.emplace_back(record.value().line, id_fingerprint(record.value().id));
    kept(record.value());
  }
  in.close();
  if (retry_errors && (index.errors_dropped_ > 0 || index.torn_)) {
    if (auto committed = rewrite.commit(); !committed.ok()) return committed.error();
  } else if (index.torn_ && ::truncate(path.c_str(), complete_bytes) != 0) {
    return io_error("cannot cut the torn last line of " + path);
  }
  std::sort(index.entries_.begin(), index.entries_.end());
  auto twice = std::adjacent_find(index.entries_.begin(), index.entries_.end(),
                                  [](const auto& a, const auto& b) { return a.first == b.first; });
  if (twice != index.entries_.end()) {
    return refusal(path, "it holds two results for dataset line " + std::to_string(twice->first));
  }
  return index;
}

ResumeIndex::Match ResumeIndex::check(std::int64_t line, const nlohmann::json& id) const {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), std::make_pair(line, std::uint64_t{0}));
  if (it == entries_.end() || it->first != line) return Match::kNotRecorded;
  return it->second == id_fingerprint(id) ? Match::kRecorded : Match::kDifferentId;
}

}  // namespace llmeval::output
