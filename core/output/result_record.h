// ResultRecord: one result line (docs/formats.md §3). Built by the runner, written by ResultWriter,
// folded into Summary. to_json() gives the exact wire shape.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/provider/provider.h"

namespace llmeval::output {

enum class Status { kOk, kError, kInvalid };
const char* to_string(Status status);

struct JudgeInfo {
  std::string provider;
  std::string model;
  int attempts = 0;       // provider calls made for this criterion (retries and repair included)
  bool fallback = false;  // judged by a provider later in the chain than the first
  std::int64_t latency_ms = 0;  // of the successful call
  provider::TokenUsage tokens;  // summed over all calls for this criterion
  bool simulated = false;       // judged by the offline sim provider
  // Answered by the judge cache: no call was made now; tokens and latency are the original
  // call's, and cost nothing in this run.
  bool cached = false;
  // run --batch: the provider batch that answered (priced at the batch price), or why the
  // call went online instead of its batch (docs/batch.md).
  std::string batch{};
  std::string batch_fallback{};
};

// One judgment of an LLM criterion judged several times (--repeat).
struct Sample {
  double score = 0;  // in the scale's units
  bool pass = false;  // score >= the criterion's threshold: this sample's own verdict
  std::string reason;
  JudgeInfo judge;
};

// One juror's verdict on a criterion (--jury): its score (the mean of its samples with
// --repeat; answer b's points for a pairwise criterion), or none when it abstained.
struct JurorVerdict {
  std::string provider;
  std::string model;
  std::optional<double> score;  // nullopt: abstained
  std::string reason;
  // "ok", or why it abstained: the error kind of its last failure (judge_unparseable, timeout,
  // ...), after its retries and repair.
  std::string status = "ok";
  std::string winner;  // pairwise criteria: "a", "b" or "tie" as this juror resolved it
  bool position_inconsistent = false;  // pairwise: this juror's two orders named different answers
  // Its calls: attempts, tokens, latency (for its cost line); an abstaining juror's failed
  // calls too, with no latency.
  JudgeInfo judge;
};

// One order of a pairwise criterion: the answers shown as A and B, and the judge's reply.
struct PairwiseOrder {
  std::string shown_as_a;  // "a": output_a was shown as A (first); "b": output_b was
  std::string winner;      // as the judge named it: "A", "B" or "tie"
  std::string reason;
  JudgeInfo judge;
};

struct CriterionResult {
  std::string name;
  bool llm = true;
  std::string check;      // deterministic criteria: the check type ("contains", ...); empty for LLM
  double score = 0;       // in the scale's units (deterministic: 1 or 0)
  double normalized = 0;  // 0..1
  bool pass = false;
  double weight = 1.0;
  std::string reason;
  std::optional<JudgeInfo> judge;  // LLM criteria only
  // --repeat N > 1: every sample that succeeded, in sample order; score is their mean (normalized
  // and pass follow from it), reason the first one's, judge their sum (attempts, tokens), the
  // slowest latency, cached only when all were. Empty when the criterion was judged once.
  std::vector<Sample> samples;
  std::optional<double> stddev;  // of the samples' scores (n - 1), with samples
  int samples_failed = 0;        // samples that failed after their retries
  // The row's human label for this criterion (dataset `labels`), in the scale's units; it
  // never changes the verdict.
  std::optional<double> label;
  // LLM criteria: "1-5", "1-10" or "binary". Written only with a label or a jury, where the
  // summary's agreement statistics need the scale's categories.
  std::string scale;
  // --jury: every juror's verdict, in the order of -p; score is their aggregate, and judge is
  // absent (each juror's calls are in its own entry).
  std::vector<JurorVerdict> jury;
  bool tie = false;  // --jury majority: as many jurors passed as failed; the criterion fails
  // Pairwise criteria: the resolved winner ("a", "b" or "tie"); score is answer b's points
  // (1, 0.5 or 0). position_inconsistent: the two orders named different answers (with a
  // jury: those of at least one juror, whose entry says which; orders is then empty).
  std::string winner;
  bool position_inconsistent = false;
  std::vector<PairwiseOrder> orders;  // both orders' raw verdicts, a-first one first
};

struct ResultError {
  std::string kind;  // invalid_json, missing_field, timeout, rate_limited, provider_error, auth, judge_unparseable, ...
  std::string message;
};

struct ResultRecord {
  nlohmann::json id;
  std::int64_t line = 0;
  Status status = Status::kOk;
  std::vector<CriterionResult> criteria;  // for error rows: the criteria that were scored
  nlohmann::json metadata = nlohmann::json::object();
  std::optional<ResultError> error;
  nlohmann::json group;  // the dataset row's group; null when it has none (not written)
  std::string model_a;   // pairwise rows: what produced output_a and output_b (empty: unnamed)
  std::string model_b;

  // Weighted mean of `normalized` over all criteria; only meaningful for kOk rows.
  double score() const;
  // True when every criterion passed; false for error/invalid rows.
  bool pass() const;
};

// Appends the docs/formats.md §3 JSON object (no newline): keys in the documented order; score and pass
// are null for error and invalid rows.
void append_json(std::string& out, const ResultRecord& record);

// A row's id as a person reads it (CSV, JUnit): a string as it is, a number in its JSON form.
std::string id_text(const nlohmann::json& id);

}  // namespace llmeval::output
