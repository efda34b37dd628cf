#include "core/provider/sim_provider.h"

#include <catch2/catch.hpp>

#include <memory>
#include <optional>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "core/judge/judge_parser.h"
#include "core/judge/judge_prompt.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_event_loop.h"

using llmeval::Result;
using llmeval::provider::CompletionRequest;
using llmeval::provider::CompletionResponse;
using llmeval::provider::make_sim_provider;
using llmeval::provider::ProviderConfig;
using llmeval::testing::FakeClock;
using llmeval::testing::FakeEventLoop;
using nlohmann::json;

namespace {

// Shaped like the judge prompt: instructions mention "<output>" mid-sentence, sections are
// "<tag>\n...\n</tag>".
std::string judge_prompt(const std::string& output, const std::optional<std::string>& reference) {
  std::string text = "Evaluate the output in the <output> section against one criterion.\n\n";
  text += "<prompt>\nWhat is the capital of France?\n</prompt>\n\n";
  if (reference) text += "<reference>\n" + *reference + "\n</reference>\n\n";
  text += "<output>\n" + output + "\n</output>\n\nReply with only this JSON object.";
  return text;
}

CompletionRequest request(std::string user, int low = 1, int high = 5) {
  CompletionRequest r;
  r.system = "You are a judge.";
  r.messages = {{"user", std::move(user)}};
  r.score_min = low;
  r.score_max = high;
  return r;
}

struct Sim {
  FakeClock clock;
  FakeEventLoop loop{clock};
  std::unique_ptr<llmeval::provider::Provider> provider = make_sim_provider(loop, ProviderConfig{});

  CompletionResponse complete(const CompletionRequest& req) {
    std::optional<Result<CompletionResponse>> got;
    provider->complete(req, [&](Result<CompletionResponse> r) { got.emplace(std::move(r)); });
    REQUIRE_FALSE(got.has_value());  // answers through loop.post, never inside complete()
    loop.run_until_idle();
    REQUIRE(got.has_value());
    REQUIRE(got->ok());
    return got->value();
  }
};

json verdict(const CompletionResponse& response) { return json::parse(response.text); }

}  // namespace

TEST_CASE("Sim provider marks responses simulated and names itself sim", "[provider]") {
  Sim sim;
  CHECK(sim.provider->name() == "sim");
  CHECK(sim.provider->model() == "sim");
  auto response = sim.complete(request(judge_prompt("Paris", std::string("Paris"))));
  CHECK(response.simulated);
  CHECK(response.model == "sim");
  json v = verdict(response);
  REQUIRE(v.contains("score"));
  REQUIRE(v.contains("pass"));
  REQUIRE(v["reason"].is_string());
  CHECK(v["reason"].get<std::string>().rfind("simulated judge", 0) == 0);
  CHECK(response.text.rfind(R"({"score":)", 0) == 0);
}

TEST_CASE("Sim provider scores by word overlap with the reference", "[provider]") {
  Sim sim;
  SECTION("identical words: the top of the scale, pass") {
    json v = verdict(sim.complete(request(judge_prompt("The capital is Paris.", std::string("the CAPITAL is paris")))));
    CHECK(v["score"] == 5);
    CHECK(v["pass"] == true);
    CHECK(v["reason"].get<std::string>().find("Jaccard 100%") != std::string::npos);
  }
  SECTION("no common words: the bottom, fail") {
    json v = verdict(sim.complete(request(judge_prompt("Berlin", std::string("Paris")))));
    CHECK(v["score"] == 1);
    CHECK(v["pass"] == false);
  }
  SECTION("half overlap: the middle") {
    // {a, b, c} vs {a, b, d}: 2 / 4 = 0.5 -> 1 + round(0.5 * 4) = 3
    json v = verdict(sim.complete(request(judge_prompt("a b c", std::string("a b d")))));
    CHECK(v["score"] == 3);
    CHECK(v["pass"] == false);
  }
  SECTION("honours the requested range") {
    json v = verdict(sim.complete(request(judge_prompt("a b c", std::string("a b d")), 1, 10)));
    CHECK(v["score"] == 6);  // 1 + round(0.5 * 9) = 1 + 5
    json binary = verdict(sim.complete(request(judge_prompt("x", std::string("x")), 0, 1)));
    CHECK(binary["score"] == 1);
    CHECK(binary["pass"] == true);
  }
  SECTION("without output tags, the rest of the message stands in for the output") {
    json v = verdict(sim.complete(request("<reference>\nalpha beta\n</reference>\nalpha beta")));
    CHECK(v["score"] == 5);
  }
}

TEST_CASE("Sim provider falls back to a stable hash without a reference", "[provider]") {
  Sim sim;
  auto a = sim.complete(request(judge_prompt("Paris", std::nullopt)));
  auto b = sim.complete(request(judge_prompt("Paris", std::nullopt)));
  CHECK(a.text == b.text);
  json v = verdict(a);
  CHECK(v["score"].get<int>() >= 1);
  CHECK(v["score"].get<int>() <= 5);
  CHECK(v["reason"].get<std::string>().find("hash") != std::string::npos);

  SECTION("every score stays in range, and the range gets used") {
    std::set<int> seen;
    for (int i = 0; i < 200; ++i) {
      int score = verdict(sim.complete(request("prompt " + std::to_string(i), 1, 10)))["score"].get<int>();
      CHECK(score >= 1);
      CHECK(score <= 10);
      seen.insert(score);
    }
    CHECK(seen.size() == 10);
  }
  SECTION("an empty reference counts as none") {
    json e = verdict(sim.complete(request(judge_prompt("Paris", std::string("  ")))));
    CHECK(e["reason"].get<std::string>().find("hash") != std::string::npos);
  }
  SECTION("no messages at all") {
    CompletionRequest empty;
    json e = verdict(sim.complete(empty));
    CHECK(e["score"].get<int>() >= 1);
  }
}

TEST_CASE("Sim provider judges the prompt turn, not a later repair turn", "[provider]") {
  Sim sim;
  CompletionRequest req = request(judge_prompt("Paris", std::string("Paris")));
  req.messages.push_back({"assistant", "garbage"});
  req.messages.push_back({"user", "That was not JSON. Reply with only the JSON object."});
  CHECK(verdict(sim.complete(req))["score"] == 5);
}

TEST_CASE("Sim provider estimates usage as characters / 4", "[provider]") {
  Sim sim;
  CompletionRequest req = request(std::string(40, 'x'));
  req.system = std::string(8, 's');
  auto response = sim.complete(req);
  CHECK(response.usage.input == 12);
  CHECK(response.usage.output == static_cast<std::int64_t>((response.text.size() + 3) / 4));
}

TEST_CASE("Sim provider reads the real judge prompt and answers what the judge parser accepts", "[provider]") {
  Sim sim;
  llmeval::dataset::EvalItem item;
  item.prompt = "What is the capital of France?";
  item.output = "Paris is the capital of France.";
  item.reference = "The capital of France is Paris.";
  llmeval::dataset::Criterion criterion;
  criterion.name = "correctness";
  criterion.rubric = "The output is correct.";
  for (auto scale : {llmeval::dataset::Scale::k1to5, llmeval::dataset::Scale::k1to10, llmeval::dataset::Scale::kBinary}) {
    criterion.scale = scale;
    auto response = sim.complete(llmeval::judge::build_judge_request(item, criterion, {}));
    auto verdict = llmeval::judge::parse_judge_reply(response.text, scale);
    REQUIRE(verdict.ok());
    CHECK(verdict.value().score == llmeval::dataset::range_of(scale).max);  // same words, other order
    CHECK(verdict.value().reason.find("reference") != std::string::npos);
  }
  SECTION("without a reference, the hash path") {
    item.reference.clear();
    criterion.scale = llmeval::dataset::Scale::k1to5;
    auto response = sim.complete(llmeval::judge::build_judge_request(item, criterion, {}));
    REQUIRE(llmeval::judge::parse_judge_reply(response.text, criterion.scale).ok());
    CHECK(response.text.find("hash") != std::string::npos);
  }
}
