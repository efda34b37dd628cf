// BatchJournal: every step is on disk when the call returns, a reopened journal says where each
// batch stands, a torn last line (a crash mid-append) is cut, and a foreign line is an error.
#include "core/batch/batch_journal.h"

#include <catch2/catch.hpp>

#include <string>

#include "tests/support/files.h"

using llmeval::batch::BatchJournal;
using llmeval::batch::BatchState;
using llmeval::testing::read_file;
using llmeval::testing::TempDir;
using llmeval::testing::write_file;

TEST_CASE("BatchJournal: steps are recorded and replayed", "[batch]") {
  TempDir dir;
  const std::string path = dir.file("out.jsonl.batches.jsonl");
  {
    auto journal = BatchJournal::open(path);
    REQUIRE(journal.ok());
    BatchJournal& j = *journal.value();
    CHECK(j.batches().empty());
    CHECK(j.next_local_id() == "b1");
    BatchState batch;
    batch.local_id = j.next_local_id();
    batch.provider = "openai";
    batch.api = "openai";
    batch.calls = {"l1c0s0j0o0", "l2c0s0j0o0"};
    REQUIRE(j.prepared(batch).ok());
    REQUIRE(j.uploaded("b1", "file-abc").ok());
    REQUIRE(j.submitted("b1", "batch_123").ok());
    batch.local_id = j.next_local_id();
    batch.calls = {"l3c0s0j0o0"};
    REQUIRE(j.prepared(batch).ok());
    CHECK_FALSE(j.submitted("b9", "batch_x").ok());  // no such batch: refused, nothing written
  }
  auto reopened = BatchJournal::open(path);
  REQUIRE(reopened.ok());
  const auto& batches = reopened.value()->batches();
  REQUIRE(batches.size() == 2);
  CHECK(batches[0].calls.size() == 2);
  CHECK(batches[0].file_id == "file-abc");
  CHECK(batches[0].batch_id == "batch_123");
  CHECK(batches[0].submitted());
  CHECK(batches[1].local_id == "b2");
  CHECK_FALSE(batches[1].submitted());  // prepared, never accepted: its calls go again
  REQUIRE(reopened.value()->ended("b1", "completed").ok());
  CHECK(reopened.value()->batches()[0].ended == "completed");
  CHECK(reopened.value()->next_local_id() == "b3");
}

TEST_CASE("BatchJournal: a torn last line is cut, a foreign line is an error", "[batch]") {
  TempDir dir;
  const std::string path = dir.file("j.jsonl");
  const std::string good =
      R"({"event":"prepared","batch":"b1","provider":"p","api":"anthropic","calls":["l1c0s0j0o0"]})";
  write_file(path, good + "\n" + R"({"event":"submitted","batch":"b1","bat)");
  {
    auto journal = BatchJournal::open(path);
    REQUIRE(journal.ok());
    CHECK_FALSE(journal.value()->batches()[0].submitted());
    REQUIRE(journal.value()->submitted("b1", "msgbatch_1").ok());
  }
  CHECK(read_file(path) == good + "\n" + R"({"event":"submitted","batch":"b1","batch_id":"msgbatch_1"})" + "\n");

  write_file(path, good + "\n{\"not\": \"an event\"}\n");
  auto foreign = BatchJournal::open(path);
  REQUIRE_FALSE(foreign.ok());
  CHECK(foreign.error().message.find("j.jsonl:2: not a batch journal event") != std::string::npos);
}
