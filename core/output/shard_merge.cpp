#include "core/output/shard_merge.h"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <numeric>
#include <utility>

#include "core/common/error.h"
#include "core/dataset/jsonl_reader.h"
#include "core/fetch/url_stream.h"
#include "core/output/result_reader.h"
#include "core/output/resume_index.h"

namespace llmeval::output {
namespace {

using File = std::unique_ptr<std::FILE, int (*)(std::FILE*)>;

// The file, or an Error of `kind` saying why it cannot be opened.
Result<File> open_file(const std::string& path, const char* mode, ErrorKind kind) {
  File file(std::fopen(path.c_str(), mode), &std::fclose);
  if (!file) return Error{kind, "cannot open " + path + ": " + std::strerror(errno)};
  return file;
}

const nlohmann::json& id_of(const dataset::ReadItem& item) {
  if (const auto* valid = std::get_if<dataset::EvalItem>(&item)) return valid->id;
  return std::get<dataset::InvalidLine>(item).id;
}

}  // namespace

ShardMerge::ShardMerge(std::vector<std::string> parts, MergeOptions options)
    : parts_(std::move(parts)), options_(std::move(options)) {}

ShardMerge::~ShardMerge() = default;

Result<MergeReport> ShardMerge::check() {
  for (std::uint32_t part = 0; part < parts_.size(); ++part) {
    if (auto indexed = index_part(part); !indexed.ok()) return indexed.error();
  }
  std::sort(entries_.begin(), entries_.end(),
            [](const Entry& a, const Entry& b) { return a.line != b.line ? a.line < b.line : a.part < b.part; });
  check_strides();
  check_overlap_and_gaps();
  if (options_.dataset) {
    if (auto checked = check_dataset(); !checked.ok()) return checked.error();
  }
  report_.rows = static_cast<std::int64_t>(entries_.size());
  return report_;
}

// One pass over a part: where each row's bytes are, its line and its id's fingerprint.
Result<Ok> ShardMerge::index_part(std::uint32_t part) {
  std::ifstream in(parts_[part], std::ios::binary);
  if (!in) return Error{ErrorKind::kIo, "cannot read " + parts_[part] + ": " + std::strerror(errno)};
  std::string text;
  std::uint64_t offset = 0;
  std::int64_t number = 0;
  std::int64_t first = 0;
  std::int64_t stride = 0;
  while (std::getline(in, text)) {
    ++number;
    bool last_without_newline = in.eof();
    auto record = parse_result_line(text);
    if (!record.ok()) {
      report_.problems.push_back(
          last_without_newline
              ? parts_[part] + " ends with a torn line (its shard was stopped mid-write): run that shard again "
                               "with --resume, which repairs it, before merging"
              : parts_[part] + ":" + std::to_string(number) + ": " + record.error().message);
    } else {
      std::int64_t line = record.value().line;
      if (entries_.empty() || entries_.back().part != part) {
        first = line;
      } else {
        stride = std::gcd(stride, line > first ? line - first : first - line);
      }
      entries_.push_back({line, id_fingerprint(record.value().id), part, static_cast<std::uint32_t>(text.size()),
                          offset});
    }
    offset += text.size() + 1;
  }
  strides_.push_back(stride);
  return Ok{};
}

// The rows of shard I of N are lines I+1, I+1+N, ...: in every part the gaps between lines are
// multiples of N. Parts of one sharded run share a common stride above 1; a stride of 1 between
// several parts means they were sharded differently (their lines would interleave and overlap).
void ShardMerge::check_strides() {
  std::int64_t common = 0;
  std::size_t measured = 0;
  for (std::int64_t stride : strides_) {
    if (stride == 0) continue;
    common = std::gcd(common, stride);
    ++measured;
  }
  if (measured < 2 || common != 1) return;
  std::string strides;
  for (std::size_t i = 0; i < parts_.size(); ++i) {
    if (strides_[i] == 0) continue;
    strides += (strides.empty() ? "" : ", ") + parts_[i] + " every " + std::to_string(strides_[i]) + " lines";
  }
  report_.problems.push_back("the parts come from runs with different shard counts (" + strides +
                             "): merge the parts of one run, all made with the same --shard I/N count");
}

void ShardMerge::check_overlap_and_gaps() {
  std::size_t overlaps = 0;
  std::int64_t expected = 1;
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    const Entry& entry = entries_[i];
    if (i > 0 && entries_[i - 1].line == entry.line) {
      if (++overlaps <= 3) {
        report_.problems.push_back("line " + std::to_string(entry.line) + " is recorded in both " +
                                   parts_[entries_[i - 1].part] + " and " + parts_[entry.part] +
                                   ": the parts overlap (a shard given twice, or parts of different runs)");
      }
      continue;
    }
    for (; expected < entry.line; ++expected) {
      if (report_.missing.size() < kMaxListed) report_.missing.push_back(expected);
      ++report_.missing_count;
    }
    expected = entry.line + 1;
  }
  if (overlaps > 3) report_.problems.push_back(std::to_string(overlaps - 3) + " more lines overlap");
  report_.last_line = expected - 1;
}

// Reads the dataset (streaming) and checks each recorded row's id against the dataset row at
// its line; the lines after the last recorded one are missing rows too.
Result<Ok> ShardMerge::check_dataset() {
  const std::string& source = *options_.dataset;
  std::unique_ptr<fetch::UrlStream> download;
  File file(nullptr, &std::fclose);
  if (fetch::is_url(source)) {
    Result<std::unique_ptr<fetch::UrlStream>> opened = fetch::UrlStream::open(source);
    if (!opened.ok()) return opened.error();
    download = std::move(opened).value();
  } else {
    Result<File> opened = open_file(source, "rb", ErrorKind::kIo);
    if (!opened.ok()) return opened.error();
    file = std::move(opened).value();
  }
  const std::string shown = download ? fetch::to_display(source) : source;
  dataset::JsonlReader reader(download ? download->file() : file.get(), dataset::ReaderOptions{});
  std::size_t at = 0;  // entries_ are sorted by line
  bool mismatch_reported = false;
  for (;;) {
    auto item = reader.next();
    if (!item && reader.would_block()) {  // a download: wait for more of it (merge has no loop)
      pollfd ready{reader.fd(), POLLIN, 0};
      ::poll(&ready, 1, -1);
      continue;
    }
    if (!item) break;
    std::int64_t line = reader.lines_read();
    while (at < entries_.size() && entries_[at].line < line) ++at;
    if (at >= entries_.size() || entries_[at].line != line) continue;
    if (!mismatch_reported && entries_[at].id != id_fingerprint(id_of(*item))) {
      mismatch_reported = true;
      report_.problems.push_back("line " + std::to_string(line) + " of " + shown + " has id " +
                                 id_of(*item).dump() + ", but " + parts_[entries_[at].part] +
                                 " recorded another id for it: the parts come from a different dataset (or it "
                                 "changed since)");
    }
  }
  if (download) {
    std::string problem = download->finish();
    if (!problem.empty()) {
      report_.problems.push_back("the dataset download from " + shown + " failed (" + problem +
                                 "): the parts could not be checked against it");
      return Ok{};
    }
  }
  std::int64_t lines = reader.lines_read();
  if (!entries_.empty() && entries_.back().line > lines) {
    report_.problems.push_back(parts_[entries_.back().part] + " records line " + std::to_string(entries_.back().line) +
                               ", but " + shown + " has only " + std::to_string(lines) +
                               " lines: the parts come from a different dataset");
  }
  for (std::int64_t line = report_.last_line + 1; line <= lines; ++line) {
    if (report_.missing.size() < kMaxListed) report_.missing.push_back(line);
    ++report_.missing_count;
  }
  report_.last_line = std::max(report_.last_line, lines);
  report_.end_checked = true;
  return Ok{};
}

Result<Ok> ShardMerge::write(const std::string& path, Summary& summary) {
  std::vector<File> inputs;
  for (const auto& part : parts_) {
    Result<File> input = open_file(part, "rb", ErrorKind::kParse);
    if (!input.ok()) return input.error();
    inputs.push_back(std::move(input).value());
  }
  const std::string temporary = path + ".tmp";
  Result<File> opened = open_file(temporary, "wb", ErrorKind::kBadRequest);
  if (!opened.ok()) return opened.error();
  File out = std::move(opened).value();
  // Whatever stops the merge from here leaves no temporary file behind.
  auto failed = [&](ErrorKind kind, const std::string& message) {
    out.reset();
    std::remove(temporary.c_str());
    return Error{kind, message};
  };
  std::string text;
  std::int64_t previous = 0;
  for (const Entry& entry : entries_) {
    if (entry.line == previous) continue;  // an overlap, when the caller merges anyway
    previous = entry.line;
    std::FILE* in = inputs[entry.part].get();
    text.resize(entry.length);
    if (std::fseek(in, static_cast<long>(entry.offset), SEEK_SET) != 0 ||
        std::fread(text.data(), 1, text.size(), in) != text.size()) {
      return failed(ErrorKind::kParse, "cannot read " + parts_[entry.part] + " again: did it change during the merge?");
    }
    auto record = parse_result_line(text);
    if (!record.ok()) return failed(ErrorKind::kParse, parts_[entry.part] + " changed during the merge");
    summary.add(record.value());
    text += '\n';
    if (std::fwrite(text.data(), 1, text.size(), out.get()) != text.size()) {
      return failed(ErrorKind::kIo, "cannot write " + temporary + ": " + std::strerror(errno));
    }
  }
  if (std::fflush(out.get()) != 0) return failed(ErrorKind::kIo, "cannot write " + temporary + ": " + std::strerror(errno));
  out.reset();
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    return failed(ErrorKind::kIo, "cannot replace " + path + ": " + std::strerror(errno));
  }
  return Ok{};
}

}  // namespace llmeval::output
