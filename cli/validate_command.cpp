#include "cli/validate_command.h"

#include <poll.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/fatal_error.h"
#include "core/common/error.h"
#include "core/config/config.h"
#include "core/dataset/jsonl_reader.h"
#include "core/fetch/url_stream.h"

namespace llmeval::cli {
namespace {

using nlohmann::json;

constexpr std::size_t kFirstLines = 5;  // line numbers kept per kind of problem

struct ValidateFlags {
  std::string dataset;
  std::string config_path;
  std::size_t max_line_bytes = 16 * 1024 * 1024;  // as `run`
  std::size_t max_problems = 1000;
  bool json_output = false;
  bool quiet = false;
};

struct KindCount {
  std::int64_t count = 0;
  std::vector<std::int64_t> first_lines;  // at most kFirstLines
};

// What one pass over the dataset found. All of it is bounded whatever the dataset's size: the kinds
// are a fixed set, and at most --max-problems problems are kept.
struct Tally {
  std::int64_t valid = 0;
  std::int64_t invalid = 0;
  // LLM criteria of the valid rows: one judge call each in a run (a pairwise one two, one per
  // order), with one judge and no --repeat.
  std::int64_t judge_calls = 0;
  std::int64_t checks = 0;         // deterministic criteria of the valid rows: no call
  std::int64_t labelled_rows = 0;  // valid rows with at least one human label
  std::int64_t labels = 0;         // human labels on the valid rows
  std::map<std::string, KindCount> by_kind;
  json problems = json::array();        // --json only
  std::size_t reported = 0;             // problems printed or kept
  std::int64_t problems_truncated = 0;  // problems over --max-problems, neither kept nor printed
};

// The reader options `run` would use: --max-line-bytes, and the config's default criteria and scale
// (--config, else LLMEVAL_CONFIG). A bad config throws FatalError (exit 2).
dataset::ReaderOptions reader_options(const ValidateFlags& flags) {
  dataset::ReaderOptions options;
  options.max_line_bytes = flags.max_line_bytes;
  std::string path = flags.config_path;
  if (const char* env = std::getenv("LLMEVAL_CONFIG"); path.empty() && env != nullptr) path = env;
  if (!path.empty()) {
    config::Config config = or_exit(config::load_config_file(path));
    options.default_scale = config.judge.scale;
    options.default_criteria = config.criteria;
  }
  return options;
}

std::FILE* open_dataset(const std::string& path) {
  if (path == "-") return stdin;
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) throw FatalError("cannot read dataset " + path + ": " + std::strerror(errno));
  if (S_ISDIR(info.st_mode)) throw FatalError("dataset " + path + " is a directory; pass a .jsonl file");
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) throw FatalError("cannot read dataset " + path + ": " + std::strerror(errno));
  return file;
}

// The reader's messages start "line N: "; the location prefix printed before them says it already.
std::string without_line_prefix(const std::string& message, std::int64_t line) {
  std::string prefix = "line " + std::to_string(line) + ": ";
  return message.compare(0, prefix.size(), prefix) == 0 ? message.substr(prefix.size()) : message;
}

std::string list_lines(const std::vector<std::int64_t>& lines, std::int64_t count) {
  std::string text = lines.size() == 1 ? "line " : "lines ";
  for (std::size_t i = 0; i < lines.size(); ++i) text += (i ? ", " : "") + std::to_string(lines[i]);
  if (count > static_cast<std::int64_t>(lines.size())) text += ", ...";
  return text;
}

void add_invalid(Tally& tally, const dataset::InvalidLine& bad, const ValidateFlags& flags, const std::string& shown) {
  ++tally.invalid;
  KindCount& kind = tally.by_kind[bad.kind];
  ++kind.count;
  if (kind.first_lines.size() < kFirstLines) kind.first_lines.push_back(bad.line);
  if (tally.reported >= flags.max_problems) {
    ++tally.problems_truncated;
    return;
  }
  ++tally.reported;
  std::string message = without_line_prefix(bad.message, bad.line);
  if (flags.json_output) {
    tally.problems.push_back({{"line", bad.line}, {"id", bad.id}, {"kind", bad.kind}, {"message", message}});
  } else if (!flags.quiet) {
    std::fprintf(stderr, "%s:%lld: %s: %s\n", shown.c_str(), static_cast<long long>(bad.line), bad.kind.c_str(),
                 message.c_str());
  }
}

void add_valid(Tally& tally, const dataset::EvalItem& item) {
  ++tally.valid;
  for (const auto& criterion : item.criteria) {
    if (criterion.llm) {
      tally.judge_calls += criterion.pairwise ? 2 : 1;
    } else {
      ++tally.checks;
    }
  }
  const auto labels = std::count_if(item.labels.begin(), item.labels.end(),
                                    [](const auto& l) { return l.has_value(); });
  tally.labels += labels;
  if (labels > 0) ++tally.labelled_rows;
}

// Reads to the end. A URL's pipe is non-blocking (stdin may be too): validate has no event loop, so
// it waits for more input with poll(), as merge's dataset check does.
void read_all(dataset::JsonlReader& reader, Tally& tally, const ValidateFlags& flags, const std::string& shown) {
  for (;;) {
    auto item = reader.next();
    if (!item && reader.would_block()) {
      pollfd ready{reader.fd(), POLLIN, 0};
      ::poll(&ready, 1, -1);
      continue;
    }
    if (!item) return;
    if (const auto* bad = std::get_if<dataset::InvalidLine>(&*item)) {
      add_invalid(tally, *bad, flags, shown);
    } else {
      add_valid(tally, std::get<dataset::EvalItem>(*item));
    }
  }
}

std::string plural(std::int64_t n, const std::string& word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

void print_summary(const Tally& tally, std::int64_t lines, const ValidateFlags& flags, const std::string& shown) {
  std::fprintf(stderr, "%s: %s, %lld valid, %lld invalid; a run would make %s and %s\n", shown.c_str(),
               plural(lines, "line").c_str(), static_cast<long long>(tally.valid),
               static_cast<long long>(tally.invalid), plural(tally.judge_calls, "judge call").c_str(),
               plural(tally.checks, "deterministic check").c_str());
  if (tally.labelled_rows > 0) {
    std::fprintf(stderr, "  %s carry human labels (%s): the summary will measure the judge's agreement with them\n",
                 plural(tally.labelled_rows, "row").c_str(), plural(tally.labels, "label").c_str());
  }
  if (flags.quiet) return;
  for (const auto& [kind, count] : tally.by_kind) {
    std::fprintf(stderr, "  %-18s %8lld  (%s)\n", kind.c_str(), static_cast<long long>(count.count),
                 list_lines(count.first_lines, count.count).c_str());
  }
  if (tally.problems_truncated > 0) {
    std::fprintf(stderr, "  %lld more problems not shown (--max-problems %zu)\n",
                 static_cast<long long>(tally.problems_truncated), flags.max_problems);
  }
}

json report_json(const Tally& tally, std::int64_t lines, const std::string& shown) {
  json by_kind = json::object();
  for (const auto& [kind, count] : tally.by_kind)
    by_kind[kind] = {{"count", count.count}, {"first_lines", count.first_lines}};
  return {{"dataset", shown},
          {"lines", lines},
          {"valid", tally.valid},
          {"invalid", tally.invalid},
          {"judge_calls", tally.judge_calls},
          {"deterministic_checks", tally.checks},
          {"labelled_rows", tally.labelled_rows},
          {"labels", tally.labels},
          {"problems", tally.problems},
          {"problems_truncated", tally.problems_truncated},
          {"by_kind", by_kind}};
}

int execute(const ValidateFlags& flags) {
  dataset::ReaderOptions options = reader_options(flags);
  std::unique_ptr<fetch::UrlStream> download;
  if (fetch::is_url(flags.dataset)) download = or_exit(fetch::UrlStream::open(flags.dataset));
  std::FILE* file = download ? download->file() : open_dataset(flags.dataset);
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> owner(file == stdin || download ? nullptr : file, &std::fclose);
  std::string shown = download ? fetch::to_display(flags.dataset) : flags.dataset == "-" ? "<stdin>" : flags.dataset;

  dataset::JsonlReader reader(file, options);
  Tally tally;
  read_all(reader, tally, flags, shown);
  // A failed download checked only part of the dataset: no report, which would look complete.
  std::string download_problem = download ? download->finish() : std::string();
  if (!download_problem.empty()) {
    throw FatalError("the dataset download from " + shown + " failed after line " +
                     std::to_string(reader.lines_read()) + " (" + download_problem + "): the rest was not checked");
  }

  if (flags.json_output) {
    std::string text =
        report_json(tally, reader.lines_read(), shown).dump(-1, ' ', false, json::error_handler_t::replace);
    std::fprintf(stdout, "%s\n", text.c_str());
    std::fflush(stdout);
  } else {
    print_summary(tally, reader.lines_read(), flags, shown);
  }
  return tally.invalid > 0 ? 1 : 0;
}

}  // namespace

std::function<int()> register_validate_command(CLI::App& app) {
  auto flags = std::make_shared<ValidateFlags>();
  CLI::App* validate = app.add_subcommand("validate",
                                          "Check every line of a JSONL dataset as "
                                          "run would, without calling any provider");
  validate->add_option("dataset", flags->dataset, "JSONL dataset: a file, - for stdin, or an http(s) URL")->required();
  validate->add_option("-c,--config", flags->config_path,
                       "JSON config file (also LLMEVAL_CONFIG): its default "
                       "criteria and judge scale apply");
  validate->add_option("--max-line-bytes", flags->max_line_bytes,
                       "Longest dataset line accepted; longer lines are "
                       "line_too_long (default 16 MiB)");
  validate->add_option("--max-problems", flags->max_problems,
                       "Report at most N bad lines (every one is still counted) (default 1000)");
  validate->add_flag("--json", flags->json_output, "Print one JSON report on stdout instead of text on stderr");
  validate->add_flag("-q,--quiet", flags->quiet, "Print only the summary line");
  return [validate, flags]() -> int {
    if (!validate->parsed()) return -1;
    return execute(*flags);
  };
}

}  // namespace llmeval::cli
