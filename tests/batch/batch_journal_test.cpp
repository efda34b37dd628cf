// BatchJournal: every step is on disk when the call returns, a reopened journal says where each
// batch stands, a torn last line (a crash mid-append) is cut, and a foreign line is an error.
#include "core/batch/batch_journal.h"

#include <catch2/catch.hpp>

#include <string>

#include "tests/support/files.h"

using llmeval::batch::BatchJournal;
using llmeval::batch::BatchState;
using llmeval::batch::WindowState;
using llmeval::testing::read_file;
using llmeval::testing::TempDir;
using llmeval::testing::write_file;

namespace {

WindowState window_of(BatchJournal& journal, std::int64_t first, std::int64_t last, std::int64_t requests) {
  WindowState window;
  window.id = journal.next_window_id();
  window.first_line = first;
  window.last_line = last;
  if (requests > 0) {
    BatchState batch;
    batch.local_id = journal.next_local_id();
    batch.provider = "openai";
    batch.api = "openai";
    batch.requests = requests;
    window.batches.push_back(batch);
  }
  return window;
}

}  // namespace

TEST_CASE("BatchJournal: steps are recorded and replayed", "[batch]") {
  TempDir dir;
  const std::string path = dir.file("out.jsonl.batches.jsonl");
  {
    auto journal = BatchJournal::open(path);
    REQUIRE(journal.ok());
    BatchJournal& j = *journal.value();
    CHECK(j.windows().empty());
    CHECK(j.next_local_id() == "b1");
    CHECK(j.last_line() == 0);
    REQUIRE(j.prepared(window_of(j, 1, 10, 2)).ok());
    REQUIRE(j.uploaded("b1", "file-abc").ok());
    REQUIRE(j.submitted("b1", "batch_123").ok());
    REQUIRE(j.prepared(window_of(j, 11, 20, 0)).ok());  // all cached: a window without batches
    REQUIRE(j.prepared(window_of(j, 21, 25, 1)).ok());
    CHECK_FALSE(j.submitted("b9", "batch_x").ok());         // no such batch: refused, nothing written
    CHECK_FALSE(j.prepared(window_of(j, 25, 30, 1)).ok());  // overlaps the last window
  }
  auto reopened = BatchJournal::open(path);
  REQUIRE(reopened.ok());
  const auto& windows = reopened.value()->windows();
  REQUIRE(windows.size() == 3);
  CHECK(windows[0].id == "w1");
  CHECK(windows[0].batches.at(0).requests == 2);
  CHECK(windows[0].batches.at(0).file_id == "file-abc");
  CHECK(windows[0].batches.at(0).batch_id == "batch_123");
  CHECK(windows[0].batches.at(0).submitted());
  CHECK_FALSE(windows[0].ended());
  CHECK(windows[1].ended());  // nothing to wait for
  CHECK(windows[2].batches.at(0).local_id == "b2");
  CHECK_FALSE(windows[2].batches.at(0).submitted());  // prepared, never accepted: submitted on resume
  CHECK(reopened.value()->last_line() == 25);
  REQUIRE(reopened.value()->ended("b1", "completed").ok());
  CHECK(reopened.value()->batch("b1")->ended == "completed");
  CHECK(reopened.value()->windows()[0].ended());
  CHECK(reopened.value()->next_local_id() == "b3");
  CHECK(reopened.value()->next_window_id() == "w4");
}

TEST_CASE("BatchJournal: a torn last line is cut, a foreign line is an error", "[batch]") {
  TempDir dir;
  const std::string path = dir.file("j.jsonl");
  const std::string good =
      R"({"event":"prepared","window":"w1","first_line":1,"last_line":4,"batches":[{"batch":"b1","provider":"p","api":"anthropic","requests":3}]})";
  write_file(path, good + "\n" + R"({"event":"submitted","batch":"b1","bat)");
  {
    auto journal = BatchJournal::open(path);
    REQUIRE(journal.ok());
    CHECK_FALSE(journal.value()->batch("b1")->submitted());
    REQUIRE(journal.value()->submitted("b1", "msgbatch_1").ok());
  }
  CHECK(read_file(path) == good + "\n" + R"({"event":"submitted","batch":"b1","batch_id":"msgbatch_1"})" + "\n");

  write_file(path, good + "\n{\"not\": \"an event\"}\n");
  auto foreign = BatchJournal::open(path);
  REQUIRE_FALSE(foreign.ok());
  CHECK(foreign.error().message.find("j.jsonl:2: not a batch journal event") != std::string::npos);
}
