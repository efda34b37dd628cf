// Builds judge requests (pure): the default rubric prompt per scale, carrying the criterion,
// the prompt, the output under test, the reference and the context, and asking for a JSON
// object {"reason", "score"} — reason first. The system prompt holds what is the same for every
// row of a criterion (a cacheable prefix); the user message the row's own text. Also the one
// repair request sent after a bad reply.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

#include "core/dataset/eval_item.h"
#include "core/provider/provider.h"

namespace llmeval::judge {

// Temperature, token-cap field and structured output are each provider's (RequestShape).
struct JudgeOptions {
  int max_tokens = 256;      // config judge.max_tokens; also bounds the TPM reservation
  std::chrono::milliseconds timeout{5000};  // per attempt
};

provider::CompletionRequest build_judge_request(const dataset::EvalItem& item,
                                                const dataset::Criterion& criterion,
                                                const JudgeOptions& options);

// A pairwise criterion's request: the row's two answers in <answer_a> and <answer_b>, output_a
// first unless b_shown_as_a, and a reply {"reason", "winner": "A" | "B" | "tie"}
// (CompletionRequest::pairwise).
provider::CompletionRequest build_pairwise_request(const dataset::EvalItem& item,
                                                   const dataset::Criterion& criterion, bool b_shown_as_a,
                                                   const JudgeOptions& options);

// The original conversation plus the bad reply and a user turn saying what was wrong and
// asking again for only the JSON object.
provider::CompletionRequest build_repair_request(const provider::CompletionRequest& original,
                                                 std::string_view bad_reply,
                                                 std::string_view problem);

// The request's input tokens, estimated as its text's bytes / 4, rounded up (the vendors' rule
// of thumb; docs/cost.md gives its measured error against a real tokenizer).
std::int64_t estimate_input_tokens(const provider::CompletionRequest& request);

// Tokens to reserve before sending: estimate_input_tokens + max_tokens.
std::int64_t estimate_tokens(const provider::CompletionRequest& request);

}  // namespace llmeval::judge
