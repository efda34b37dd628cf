// BatchPacker seals a batch before a request would take it past either limit, starts the next
// with that request, and refuses a request no batch can hold.
#include "core/batch/batch_packer.h"

#include <catch2/catch.hpp>

using llmeval::batch::ApiKind;
using llmeval::batch::BatchLimits;
using llmeval::batch::BatchPacker;
using llmeval::batch::limits_of;
using Placement = llmeval::batch::BatchPacker::Placement;

TEST_CASE("BatchPacker: the request limit", "[batch]") {
  BatchPacker packer(BatchLimits{3, 1000}, 1.0);
  CHECK(packer.place(10) == Placement::kOpen);
  CHECK(packer.place(10) == Placement::kOpen);
  CHECK(packer.place(10) == Placement::kOpen);
  CHECK(packer.place(10) == Placement::kNew);  // the fourth starts batch two
  CHECK(packer.requests() == 1);
  CHECK(packer.bytes() == 10);
}

TEST_CASE("BatchPacker: the byte limit, the fill share, and a request too large for any batch", "[batch]") {
  BatchPacker packer(BatchLimits{100, 1000}, 0.9);  // 900 bytes a batch
  CHECK(packer.max_bytes() == 900);
  CHECK(packer.max_requests() == 90);
  CHECK(packer.place(500) == Placement::kOpen);
  CHECK(packer.place(400) == Placement::kOpen);  // exactly 900
  CHECK(packer.place(1) == Placement::kNew);
  CHECK(packer.place(901) == Placement::kTooLarge);
  CHECK(packer.requests() == 1);  // the refused one is not counted
  packer.reset();
  CHECK(packer.requests() == 0);
  CHECK(packer.place(900) == Placement::kOpen);  // a full-size request alone in its batch
  CHECK(packer.place(900) == Placement::kNew);
}

TEST_CASE("BatchPacker: the vendors' limits", "[batch]") {
  CHECK(limits_of(ApiKind::kOpenAi).max_requests == 50'000);
  CHECK(limits_of(ApiKind::kOpenAi).max_bytes == 200'000'000);
  CHECK(limits_of(ApiKind::kAnthropic).max_requests == 100'000);
  CHECK(limits_of(ApiKind::kAnthropic).max_bytes == 256'000'000);
  BatchPacker packer(limits_of(ApiKind::kOpenAi));
  int sealed = 0;
  for (int i = 0; i < 100'000; ++i) sealed += packer.place(100) == Placement::kNew;
  CHECK(sealed == 2);  // 47,500 a batch at the default 95% fill: 47,500 + 47,500 + 5,000
  CHECK(packer.requests() == 5'000);
}
