// llmeval_judge_prompts: the judge requests a run would send for a dataset, one JSON line each,
// with llmeval's own token estimate, so that tests/bench/token_estimate.mjs can count them with a
// real tokenizer.
//
// Not a test: it calls no provider. It reads DATASET (a JSONL file, or - for stdin) with
// llmeval's reader (default ReaderOptions, as `run` without a config), builds each LLM
// criterion's judge request with judge::build_judge_request and default JudgeOptions (as the
// Evaluator does), and prints to stdout, per request:
//   {"line": N, "criterion": "...", "bytes": B, "estimate": ceil(B/4), "system": "...",
//    "messages": [{"role": "...", "content": "..."}, ...]}
// where B counts the bytes of the system prompt and of every message's content (what
// judge::estimate_tokens counts; it adds max_tokens to ceil(B/4), left out here: the output cap
// is no part of the prompt). Invalid lines are skipped with a note on stderr; a last stderr line
// counts rows and requests.
// Exit codes: 0 done (invalid lines included); 2 usage, or the dataset cannot be read.
#include <poll.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <variant>

#include <nlohmann/json.hpp>

#include "core/dataset/jsonl_reader.h"
#include "core/judge/judge_prompt.h"

namespace {

// Bytes of the prompt text: the system prompt and every message's content.
std::uint64_t prompt_bytes(const llmeval::provider::CompletionRequest& request) {
  std::uint64_t bytes = request.system.size();
  for (const auto& message : request.messages) bytes += message.content.size();
  return bytes;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2 || std::strcmp(argv[1], "-h") == 0 || std::strcmp(argv[1], "--help") == 0) {
    std::fprintf(stderr, "usage: llmeval_judge_prompts DATASET.jsonl   (- for stdin)\n");
    return 2;
  }
  const std::string path = argv[1];
  std::FILE* file = path == "-" ? stdin : std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    std::fprintf(stderr, "llmeval_judge_prompts: cannot read %s: %s\n", path.c_str(), std::strerror(errno));
    return 2;
  }

  llmeval::dataset::JsonlReader reader(file, llmeval::dataset::ReaderOptions{});
  const llmeval::judge::JudgeOptions options{};
  std::int64_t rows = 0, invalid = 0, requests = 0;
  std::string out;
  for (;;) {
    auto read = reader.next();
    if (!read && reader.would_block()) {  // a non-blocking pipe on stdin: wait for more
      pollfd ready{reader.fd(), POLLIN, 0};
      ::poll(&ready, 1, -1);
      continue;
    }
    if (!read) break;
    if (const auto* bad = std::get_if<llmeval::dataset::InvalidLine>(&*read)) {
      ++invalid;
      std::fprintf(stderr, "llmeval_judge_prompts: %s: skipped (%s): %s\n", path.c_str(), bad->kind.c_str(),
                   bad->message.c_str());
      continue;
    }
    const auto& item = std::get<llmeval::dataset::EvalItem>(*read);
    ++rows;
    for (const auto& criterion : item.criteria) {
      if (!criterion.llm) continue;  // deterministic checks make no call
      const auto request = llmeval::judge::build_judge_request(item, criterion, options);
      const std::uint64_t bytes = prompt_bytes(request);
      nlohmann::ordered_json messages = nlohmann::ordered_json::array();
      for (const auto& message : request.messages) {
        messages.push_back({{"role", message.role}, {"content", message.content}});
      }
      nlohmann::ordered_json line = {{"line", item.line},        {"criterion", criterion.name},
                                     {"bytes", bytes},           {"estimate", (bytes + 3) / 4},
                                     {"system", request.system}, {"messages", std::move(messages)}};
      out = line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
      out += '\n';
      std::fwrite(out.data(), 1, out.size(), stdout);
      ++requests;
    }
  }
  if (file != stdin) std::fclose(file);
  std::fprintf(stderr, "llmeval_judge_prompts: %s: %lld valid rows, %lld invalid, %lld judge requests\n", path.c_str(),
               static_cast<long long>(rows), static_cast<long long>(invalid), static_cast<long long>(requests));
  return std::fflush(stdout) == 0 ? 0 : 2;
}
