#include "core/provider/sim_provider.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace llmeval::provider {
namespace {

// Normalized score at or above which the sim says "pass" (cosmetic: the judge parser computes
// pass from the score). 0.6 matches the default thresholds: 4 on 1-5, 7 on 1-10, 1 on binary.
constexpr double kPassAt = 0.6;

// Text between `open` and `close` (or to the end when `close` is missing), and where the whole
// section starts and ends in `text`.
struct Section {
  std::string_view inner;
  std::size_t begin = 0;
  std::size_t end = 0;
};

// The judge prompt writes a section as "<tag>\n...\n</tag>" and escapes "</tag" inside it, but
// its instructions also mention "<output>" mid-sentence, so prefer an open tag that starts a
// line; fall back to the first one anywhere.
std::size_t find_open_tag(std::string_view text, std::string_view open) {
  for (std::size_t at = text.find(open); at != std::string_view::npos; at = text.find(open, at + 1)) {
    if (at == 0 || text[at - 1] == '\n') return at;
  }
  return text.find(open);
}

std::optional<Section> find_section(std::string_view text, std::string_view open, std::string_view close) {
  std::size_t begin = find_open_tag(text, open);
  if (begin == std::string_view::npos) return std::nullopt;
  std::size_t inner = begin + open.size();
  std::size_t stop = text.find(close, inner);
  std::size_t end = stop == std::string_view::npos ? text.size() : stop + close.size();
  if (stop == std::string_view::npos) stop = text.size();
  return Section{text.substr(inner, stop - inner), begin, end};
}

// Lower-cased ASCII letters and digits; bytes >= 0x80 count as letters so UTF-8 words survive.
std::vector<std::string> word_set(std::string_view text) {
  std::vector<std::string> words;
  std::string word;
  auto flush = [&] {
    if (!word.empty()) words.push_back(std::move(word));
    word.clear();
  };
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (u >= 0x80 || std::isalnum(u) != 0) {
      word += static_cast<char>(std::tolower(u));
    } else {
      flush();
    }
  }
  flush();
  std::sort(words.begin(), words.end());
  words.erase(std::unique(words.begin(), words.end()), words.end());
  return words;
}

// Jaccard index |A ∩ B| / |A ∪ B| over word sets; two empty texts are identical.
double jaccard(std::string_view a, std::string_view b) {
  auto left = word_set(a);
  auto right = word_set(b);
  if (left.empty() && right.empty()) return 1.0;
  std::size_t common = 0;
  for (auto l = left.begin(), r = right.begin(); l != left.end() && r != right.end();) {
    if (*l < *r) {
      ++l;
    } else if (*r < *l) {
      ++r;
    } else {
      ++common, ++l, ++r;
    }
  }
  return static_cast<double>(common) / static_cast<double>(left.size() + right.size() - common);
}

// FNV-1a, 64-bit.
std::uint64_t fnv1a(std::string_view text) {
  std::uint64_t hash = 14695981039346656037ULL;
  for (char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ULL;
  }
  return hash;
}

bool is_blank(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return std::isspace(static_cast<unsigned char>(c)); });
}

// The judge prompt: the latest user turn carrying <output> or <reference> (a repair turn comes
// after it), else the last user turn.
std::string_view judged_message(const CompletionRequest& request) {
  const ChatMessage* last_user = nullptr;
  for (auto it = request.messages.rbegin(); it != request.messages.rend(); ++it) {
    if (it->role != "user") continue;
    if (last_user == nullptr) last_user = &*it;
    if (it->content.find("<output>") != std::string::npos || it->content.find("<reference>") != std::string::npos ||
        it->content.find("<answer_a>") != std::string::npos) {
      return it->content;
    }
  }
  return last_user != nullptr ? std::string_view(last_user->content) : std::string_view();
}

struct SimVerdict {
  int score = 0;
  std::string reason;
};

SimVerdict judge(std::string_view message, int low, int high) {
  auto reference = find_section(message, "<reference>", "</reference>");
  if (reference && !is_blank(reference->inner)) {
    auto output = find_section(message, "<output>", "</output>");
    // Without <output> tags, everything but the reference section stands in for the output.
    std::string rest;
    if (!output) rest.append(message.substr(0, reference->begin)).append(message.substr(reference->end));
    double overlap = jaccard(output ? output->inner : std::string_view(rest), reference->inner);
    int score = low + static_cast<int>(std::lround(overlap * (high - low)));
    char percent[16];
    std::snprintf(percent, sizeof percent, "%.0f%%", overlap * 100);
    return {score, std::string("simulated judge (no model was called): score from word overlap with the "
                               "reference (Jaccard ") + percent + ")"};
  }
  auto range = static_cast<std::uint64_t>(high - low) + 1;
  int score = low + static_cast<int>(fnv1a(message) % range);
  return {score,
          "simulated judge (no model was called): no reference given, so the score is a stable hash of "
          "the prompt, not a judgment"};
}

// A pairwise request: the answer closer to the reference (word overlap) wins, a tie when they
// are as close; without a reference, a stable hash of the prompt picks A, B or a tie.
std::string pairwise_reply(std::string_view message) {
  auto reference = find_section(message, "<reference>", "</reference>");
  auto a = find_section(message, "<answer_a>", "</answer_a>");
  auto b = find_section(message, "<answer_b>", "</answer_b>");
  const char* winner = "tie";
  std::string reason;
  if (reference && !is_blank(reference->inner) && a && b) {
    const double overlap_a = jaccard(a->inner, reference->inner), overlap_b = jaccard(b->inner, reference->inner);
    winner = overlap_a > overlap_b ? "A" : overlap_b > overlap_a ? "B" : "tie";
    reason = "simulated judge (no model was called): the answer with more word overlap with the reference wins";
  } else {
    static constexpr const char* kWinners[] = {"A", "B", "tie"};
    winner = kWinners[fnv1a(message) % 3];
    reason = "simulated judge (no model was called): no reference given, so the winner is a stable hash of the "
             "prompt, not a judgment";
  }
  return nlohmann::ordered_json{{"reason", std::move(reason)}, {"winner", winner}}.dump();
}

std::int64_t estimate_tokens(std::size_t chars) { return static_cast<std::int64_t>((chars + 3) / 4); }

class SimProvider final : public Provider {
 public:
  SimProvider(EventLoop& loop, ProviderConfig config) : loop_(loop), config_(std::move(config)) {}

  const std::string& name() const override { return config_.name; }
  const std::string& model() const override { return config_.model; }

  void complete(const CompletionRequest& request, CompletionCallback callback) override {
    if (request.pairwise) {
      answer(request, pairwise_reply(judged_message(request)), std::move(callback));
      return;
    }
    int low = std::min(request.score_min, request.score_max);
    int high = std::max(request.score_min, request.score_max);
    SimVerdict verdict = judge(judged_message(request), low, high);
    double normalized = high > low ? static_cast<double>(verdict.score - low) / (high - low) : 1.0;
    nlohmann::ordered_json reply = {
        {"score", verdict.score}, {"pass", normalized >= kPassAt}, {"reason", std::move(verdict.reason)}};

    answer(request, reply.dump(), std::move(callback));
  }

 private:
  void answer(const CompletionRequest& request, std::string text, CompletionCallback callback) {
    CompletionResponse response;
    response.text = std::move(text);
    response.model = "sim";
    response.simulated = true;
    std::size_t prompt_chars = request.system.size();
    for (const auto& message : request.messages) prompt_chars += message.content.size();
    response.usage.input = estimate_tokens(prompt_chars);
    response.usage.output = estimate_tokens(response.text.size());
    loop_.post([response = std::move(response), callback = std::move(callback)]() mutable {
      callback(std::move(response));
    });
  }

  EventLoop& loop_;
  ProviderConfig config_;
};

}  // namespace

std::unique_ptr<Provider> make_sim_provider(EventLoop& loop, ProviderConfig config) {
  config.type = ProviderType::kSim;
  apply_type_defaults(config);
  return std::make_unique<SimProvider>(loop, std::move(config));
}

}  // namespace llmeval::provider
