#!/usr/bin/env bash
# .clang-format describes the code as it is written: every file listed here matched it exactly
# when it was made, and must keep matching (clang-format --dry-run --Werror), so the config cannot
# drift from the code. When a file here fails: run `clang-format -i FILE`, or, if the style
# changed on purpose, change .clang-format and this list together. Tuned with clang-format 14
# (Debian 12); other versions may break lines a little differently.
#
# Usage: tests/format/clang_format_test.sh PROJECT_SOURCE_DIR   (CLANG_FORMAT=path overrides)
# Exit 77 (ctest: skipped) when clang-format is not installed (bin/setup installs it).
set -euo pipefail
src=${1:?usage: $0 PROJECT_SOURCE_DIR}
clang_format=${CLANG_FORMAT:-clang-format}
if ! command -v "$clang_format" >/dev/null 2>&1; then
  echo "clang_format: skipped: $clang_format is not installed (bin/setup installs it, or set CLANG_FORMAT)"
  exit 77
fi
cd "$src"

files=(
  cli/batch_mode.cpp
  cli/batch_mode.h
  cli/batches_command.cpp
  cli/batches_command.h
  cli/compare_command.cpp
  cli/compare_command.h
  cli/cost_budget_option.cpp
  cli/cost_budget_option.h
  cli/engine_setup.h
  cli/merge_command.h
  cli/probe_command.h
  cli/report_command.h
  cli/run_command.h
  cli/serve_command.h
  cli/serve_worker.cpp
  cli/serve_worker.h
  cli/shard_option.h
  cli/validate_command.cpp
  cli/validate_command.h
  core/batch/anthropic_batch_api.cpp
  core/batch/anthropic_batch_api.h
  core/batch/batch_api.cpp
  core/batch/batch_api.h
  core/batch/batch_http.cpp
  core/batch/batch_http.h
  core/batch/batch_journal.cpp
  core/batch/batch_journal.h
  core/batch/batch_limits.h
  core/batch/batch_packer.cpp
  core/batch/batch_packer.h
  core/batch/custom_id.cpp
  core/batch/custom_id.h
  core/batch/openai_batch_api.cpp
  core/batch/openai_batch_api.h
  core/common/ascii.cpp
  core/common/ascii.h
  core/common/duration.cpp
  core/common/duration.h
  core/common/error.cpp
  core/common/event_loop.cpp
  core/common/event_loop.h
  core/common/json_dom.h
  core/common/json_parse.cpp
  core/common/json_parse.h
  core/common/json_text.cpp
  core/common/json_text.h
  core/common/logging.h
  core/config/config.cpp
  core/dataset/criteria_parser.h
  core/dataset/criterion.cpp
  core/dataset/id_set.cpp
  core/dataset/id_set.h
  core/dataset/jsonl_reader.h
  core/dataset/message_text.h
  core/fetch/url_stream.cpp
  core/fetch/url_stream.h
  core/judge/checks.h
  core/judge/judge_parser.h
  core/metrics/engine_metrics.h
  core/metrics/exposition.cpp
  core/metrics/exposition.h
  core/metrics/metrics_file.cpp
  core/metrics/metrics_file.h
  core/metrics/registry.h
  core/metrics/series.h
  core/output/csv_writer.cpp
  core/output/csv_writer.h
  core/output/junit_writer.h
  core/output/jury_agreement.cpp
  core/output/jury_agreement.h
  core/output/label_agreement.cpp
  core/output/label_agreement.h
  core/output/pairwise_summary.cpp
  core/output/pairwise_summary.h
  core/output/result_record.cpp
  core/output/result_writer.h
  core/output/resume_index.h
  core/output/summary.h
  core/output/summary_format.h
  core/provider/adaptation_store.h
  core/provider/anthropic_provider.h
  core/provider/curl_http_client.cpp
  core/provider/curl_http_client.h
  core/provider/http_client.h
  core/provider/http_status.h
  core/provider/json_api_provider.h
  core/provider/model_families.cpp
  core/provider/model_families.h
  core/provider/openai_provider.h
  core/provider/param_adaptation.h
  core/provider/price_table.cpp
  core/provider/price_table.h
  core/provider/request_shape.h
  core/provider/sim_provider.h
  core/redis/redis_client.cpp
  core/redis/redis_url.cpp
  core/redis/redis_url.h
  core/report/dataset_texts.cpp
  core/report/dataset_texts.h
  core/report/gzip_base64.h
  core/report/html_report.cpp
  core/report/html_text.cpp
  core/report/html_text.h
  core/report/paired_comparison.cpp
  core/report/paired_comparison.h
  core/report/report_assets.h
  core/report/report_overview.h
  core/report/report_sections.cpp
  core/report/row_data.cpp
  core/report/run_comparison.cpp
  core/report/run_comparison.h
  core/resilience/circuit_breaker.cpp
  core/resilience/cost_budget.h
  core/resilience/local_rate_limiter.cpp
  core/resilience/local_rate_limiter.h
  core/resilience/redis_adaptation_store.h
  core/resilience/redis_cost_budget.cpp
  core/resilience/redis_cost_budget.h
  core/resilience/redis_probe_lease.h
  core/resilience/sliding_window.cpp
  core/resilience/sliding_window.h
  core/resilience/synchronized_rate_limiter.h
  core/resilience/token_bucket.cpp
  core/resilience/token_bucket.h
  core/runner/batch_answers.cpp
  core/runner/batch_answers.h
  core/runner/batch_spooler.cpp
  core/runner/batch_spooler.h
  core/runner/batch_tracker.cpp
  core/runner/batch_tracker.h
  core/runner/dry_run.cpp
  core/runner/dry_run.h
  core/runner/evaluator.cpp
  core/runner/follow_up_batches.cpp
  core/runner/follow_up_batches.h
  core/runner/row_state.cpp
  core/runner/row_state.h
  core/runner/runner.cpp
  core/runner/runner_metrics.cpp
  core/runner/runner_metrics.h
  core/runner/verdict_resolution.cpp
  core/runner/verdict_resolution.h
  core/server/bearer_auth.h
  core/server/evaluate_request.h
  core/server/evaluation_service.h
  core/server/http_exchange.h
  core/server/http_metrics.h
  core/server/listen_address.h
  core/server/service_state.h
  core/stats/agreement.cpp
  core/stats/agreement.h
  core/stats/agreement_table.cpp
  core/stats/agreement_table.h
  core/stats/bradley_terry.cpp
  core/stats/bradley_terry.h
  core/stats/distributions.cpp
  core/stats/distributions.h
  core/stats/interval.h
  core/stats/krippendorff.cpp
  core/stats/krippendorff.h
  core/stats/mean_interval.cpp
  core/stats/mean_interval.h
  core/stats/proportion.cpp
  core/stats/proportion.h
  core/stats/sample_size.cpp
  core/stats/sample_size.h
  core/stats/streaming_mean.cpp
  core/stats/streaming_mean.h
  tests/batch/batch_api_test.cpp
  tests/batch/batch_journal_test.cpp
  tests/batch/batch_packer_test.cpp
  tests/batch/custom_id_test.cpp
  tests/bench/judge_prompts.cpp
  tests/cli/batch_test.cpp
  tests/cli/compare_command_test.cpp
  tests/cli/cost_budget_test.cpp
  tests/cli/dry_run_test.cpp
  tests/cli/judge_cache_test.cpp
  tests/cli/jury_test.cpp
  tests/cli/pairwise_test.cpp
  tests/cli/repeat_test.cpp
  tests/cli/report_command_test.cpp
  tests/cli/validate_test.cpp
  tests/common/ascii_test.cpp
  tests/common/duration_test.cpp
  tests/common/json_parse_test.cpp
  tests/config/config_test.cpp
  tests/dataset/id_set_test.cpp
  tests/fakes/fake_batch_api_test.cpp
  tests/fakes/fake_clock.h
  tests/fakes/fake_event_loop_test.cpp
  tests/fuzz/fuzz_check.h
  tests/fuzz/fuzz_criteria.cpp
  tests/fuzz/fuzz_jsonl_line.cpp
  tests/fuzz/fuzz_judge_reply.cpp
  tests/main.cpp
  tests/metrics/engine_metrics_test.cpp
  tests/metrics/exposition_test.cpp
  tests/metrics/family_test.cpp
  tests/metrics/metrics_file_test.cpp
  tests/metrics/series_test.cpp
  tests/output/csv_writer_test.cpp
  tests/provider/batch_request_test.cpp
  tests/provider/curl_streaming_test.cpp
  tests/provider/price_table_test.cpp
  tests/redis/redis_url_test.cpp
  tests/report/paired_comparison_test.cpp
  tests/resilience/circuit_breaker_test.cpp
  tests/resilience/cost_budget_test.cpp
  tests/resilience/retry_budget_test.cpp
  tests/resilience/token_bucket_test.cpp
  tests/runner/evaluator_test.cpp
  tests/runner/verdict_resolution_test.cpp
  tests/server/bearer_auth_test.cpp
  tests/server/evaluate_request_test.cpp
  tests/server/http_metrics_test.cpp
  tests/server/listen_address_test.cpp
  tests/stats/agreement_table_test.cpp
  tests/stats/agreement_test.cpp
  tests/stats/bradley_terry_test.cpp
  tests/stats/distributions_test.cpp
  tests/stats/krippendorff_test.cpp
  tests/stats/mean_interval_test.cpp
  tests/stats/proportion_test.cpp
  tests/stats/sample_size_test.cpp
  tests/stats/streaming_mean_test.cpp
  tests/support/fake_provider.cpp
  tests/support/files.cpp
  tests/support/files.h
  tests/support/http.cpp
  tests/support/http.h
  tests/support/process_test.cpp
  tests/support/raw_connection.cpp
  tests/support/raw_connection.h
  tests/support/redis_server_test.cpp
  tests/support/report_data.h
  tests/support/serve_process.cpp
  tests/support/serve_process.h
)

missing=()
for file in "${files[@]}"; do
  [ -f "$file" ] || missing+=("$file")
done
if [ ${#missing[@]} -ne 0 ]; then
  echo "clang_format: listed in $0 but gone (take them off the list):" >&2
  printf '  %s\n' "${missing[@]}" >&2
  exit 1
fi
version=$("$clang_format" --version)
if ! "$clang_format" --dry-run --Werror "${files[@]}"; then
  echo "clang_format: the files above no longer match .clang-format ($version): run clang-format -i on them" >&2
  exit 1
fi
echo "clang_format: all ${#files[@]} files match .clang-format ($version)"
