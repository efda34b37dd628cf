#!/usr/bin/env python3
"""Peak memory of `llmeval run --batch` against the fake provider's Batch API, by dataset size.

Not a test: it prints figures. Usage (from the repository root, after ./bin/build):

    python3 tests/bench/batch_memory.py                     # 10k, 100k and 1M rows (a few minutes)
    python3 tests/bench/batch_memory.py --rows 10000 100000 # other sizes

For each size it runs the same dataset once online and once with --batch (OpenAI's Batch API on
the fake, batches of --batch-size calls, results shuffled) and reports llmeval's peak resident set
size (getrusage of that child) and wall time, medians of --repeats runs. Memory should be flat in
the dataset's size for both: a batch run keeps one window's counters while spooling and one
window's result index while recording, never the dataset or a batch in memory. The fake provider
holds every batch it is given in memory; its memory is not counted.
"""
import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time

from throughput import write_dataset  # the same rows as the throughput benchmark

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LLMEVAL = os.path.join(ROOT, "build", "cli", "llmeval")
FAKE = os.path.join(ROOT, "build", "tests", "llmeval_fake_provider")


def start_fake():
    proc = subprocess.Popen([FAKE, "--batch-delay-ms", "0"], stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline().strip()
    if not line.startswith("PORT="):
        raise SystemExit(f"fake provider did not start: {line!r}")
    return proc, int(line.split("=", 1)[1])


def run_once(dataset, port, output, batch, batch_size):
    for stale in (output, output + ".batches.jsonl"):
        if os.path.exists(stale):
            os.remove(stale)
    args = [LLMEVAL, "run", dataset, "-p", f"openai:gpt-4o-mini@http://127.0.0.1:{port}/v1", "-o", output, "-q",
            "--no-cache", "-j", "200"]
    if batch:
        args += ["--batch", "--batch-size", str(batch_size), "--batch-poll", "200ms"]
    started = time.monotonic()
    proc = subprocess.Popen(args, env=dict(os.environ, OPENAI_API_KEY="sk-bench", no_proxy="127.0.0.1"))
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - started
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        raise SystemExit(f"llmeval exited {code}: {' '.join(args)}")
    with open(output) as f:
        lines = sum(1 for _ in f)
    return {"wall": wall, "rss_mb": usage.ru_maxrss / 1024, "lines": lines}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--batch-size", type=int, default=50_000, help="calls a batch (the OpenAI limit)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"llmeval run --batch peak memory (fake provider, batches of {args.batch_size}, medians of "
          f"{args.repeats})\n")
    print("| rows | mode | wall s | peak RSS |")
    print("|---:|---|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for rows in args.rows:
            dataset = os.path.join(tmp, f"data{rows}.jsonl")
            write_dataset(dataset, rows)
            for batch in (False, True):
                runs = []
                for _ in range(args.repeats):
                    fake, port = start_fake()  # a fresh fake each run: it keeps every batch
                    try:
                        r = run_once(dataset, port, os.path.join(tmp, "out.jsonl"), batch, args.batch_size)
                    finally:
                        fake.terminate()
                        fake.wait()
                    if r["lines"] != rows:
                        raise SystemExit(f"{r['lines']} result lines for {rows} rows")
                    runs.append(r)
                wall = statistics.median(r["wall"] for r in runs)
                rss = statistics.median(r["rss_mb"] for r in runs)
                print(f"| {rows:,} | {'batch' if batch else 'online'} | {wall:.1f} | {rss:.1f} MB |", flush=True)
            os.remove(dataset)


if __name__ == "__main__":
    main()
