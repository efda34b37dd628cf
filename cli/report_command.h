// `llmeval report RESULTS -o report.html [--dataset D] [--compare BASELINE]`: the HTML report
// (core/report/); `llmeval report RESULTS --format junit|csv -o OUT` converts a results file
// instead (docs/formats.md §1). convert_results_file is also what `run --format csv|junit` uses at the
// end of a run.
#pragma once

#include <functional>
#include <string>

#include <CLI/CLI.hpp>

namespace llmeval::cli {

// Registers `report`; the returned function runs it after parsing and returns the exit code,
// or -1 when `report` was not the command.
std::function<int()> register_report_command(CLI::App& app);

// Streams the results JSONL at `results_path` into `out_path` ("-" = stdout) as "csv" or
// "junit". CSV is one pass; JUnit two (counts first), both in constant memory. `classname`
// names the JUnit testcases' class ("llmeval.<name>"). Returns the number of rows converted.
// Throws FatalError (exit 2) for an unreadable file or a line that is not a result row.
std::int64_t convert_results_file(const std::string& results_path, const std::string& out_path,
                                  const std::string& format, const std::string& classname);

// "llmeval.<stem>": the file name of `path` (a path or URL) without directories, query or
// extension; dots and spaces become '_' so CI tools do not read them as packages.
std::string junit_classname(const std::string& path);

}  // namespace llmeval::cli
