#!/usr/bin/env bash
# The HTML report in a real browser (ctest: report_in_chromium). Real runs of llmeval's sim judge
# produce the results; check_report.mjs opens each report in headless Chromium from a file://
# URL and fails on console errors, requests, or charts and table that do not render.
#
#   1. datasets/sample.jsonl compared with a baseline run of the same rows with each output cut
#      to its first half (the sim judge scores by overlap with the reference, so verdicts move);
#   2. 100,000 rows (the sample's rows over and over, with their own ids), for size and speed.
#
# usage: tests/report/browser_test.sh LLMEVAL OUT_DIR [BIG_ROWS]   (BIG_ROWS 0 skips part 2)
# Screenshots: OUT_DIR/report.png and OUT_DIR/report-big.png.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
llmeval=$1
out=$2
big_rows=${3:-100000}
sample="$root/datasets/sample.jsonl"
check="$root/tests/report/check_report.mjs"

if [ ! -d "$root/tests/report/node_modules/puppeteer-core" ]; then
  echo "browser_test: tests/report/node_modules is missing: run bin/setup (npm ci in tests/report)" >&2
  exit 1
fi
rm -rf "$out" && mkdir -p "$out"

# run exits 1 when rows are error or invalid: the sample has such rows on purpose.
run_sim() {
  "$llmeval" run "$1" -p sim -q -o "$2" || [ $? -eq 1 ] || { echo "browser_test: llmeval run $1 failed" >&2; exit 1; }
}

python3 - "$sample" "$out/sample-v1.jsonl" <<'PY'
import json, sys
with open(sys.argv[1]) as src, open(sys.argv[2], "w") as dst:
    for line in src:
        try:
            row = json.loads(line)
        except ValueError:
            dst.write(line)  # keep the sample's broken lines broken
            continue
        for key in ("output", "response", "completion", "actual_output"):
            if isinstance(row, dict) and isinstance(row.get(key), str):
                words = row[key].split(" ")
                row[key] = " ".join(words[: max(1, len(words) // 2)])
        dst.write(json.dumps(row) + "\n")
PY
run_sim "$out/sample-v1.jsonl" "$out/results-v1.jsonl"
run_sim "$sample" "$out/results.jsonl"
"$llmeval" report "$out/results.jsonl" --dataset "$sample" --compare "$out/results-v1.jsonl" -o "$out/report.html"
node "$check" --report "$out/report.html" --screenshot "$out/report.png" \
  --expect-rows "$(wc -l < "$out/results.jsonl")" --expect-compare

[ "$big_rows" -gt 0 ] || exit 0
python3 - "$sample" "$out/big.jsonl" "$big_rows" <<'PY'
import json, sys
rows = []
for line in open(sys.argv[1]):
    try:
        row = json.loads(line)
    except ValueError:
        continue
    if isinstance(row, dict):
        rows.append(row)
with open(sys.argv[2], "w") as dst:
    for i in range(int(sys.argv[3])):
        row = dict(rows[i % len(rows)])
        row["id"] = f"big-{i:06d}"
        dst.write(json.dumps(row) + "\n")
PY
run_sim "$out/big.jsonl" "$out/results-big.jsonl"
"$llmeval" report "$out/results-big.jsonl" --dataset "$out/big.jsonl" -o "$out/report-big.html"
node "$check" --report "$out/report-big.html" --screenshot "$out/report-big.png" --expect-rows "$big_rows"
