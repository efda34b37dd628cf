#!/usr/bin/env python3
"""The judge cache: what a lookup costs, and how fast a fully cached rerun goes.

Not a test: it prints figures. Usage (from the repository root, after ./bin/build):

    python3 tests/bench/judge_cache.py            # 3 repeats, medians (about 2 minutes)
    python3 tests/bench/judge_cache.py --quick    # 1 repeat, 20,000 rows

Part 1 runs llmeval_cache_bench against a fresh redis-server on a free loopback port (no
persistence): p50/p99 of a lookup on this machine's cache file (SQLite, a file of --entries
verdicts) that hits or misses, of storing an entry, and of a lookup in Redis (a round trip
through the shared cache, on the event loop), one at a time.

Part 2 runs `llmeval run` over --rows one-criterion rows against the fake provider (50 ms per
call) once to fill a fresh cache, then --repeats times again: every verdict then comes from the
cache, no call is made. Reported: rows/s, CPU per row (llmeval's user + system time) and peak
RSS of the reruns, and the fake provider's request count during them (0 when every row hit).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from limiter import NO_PROXY_ENV, FakeProvider, RedisServer  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LLMEVAL = os.path.join(ROOT, "build", "cli", "llmeval")
FAKE = os.path.join(ROOT, "build", "tests", "llmeval_fake_provider")
BENCH = os.path.join(ROOT, "build", "tests", "llmeval_cache_bench")


def write_dataset(path, rows):
    with open(path, "w") as f:
        for i in range(rows):
            f.write(json.dumps({"id": f"r{i}", "prompt": f"Question {i}: what is the capital of France?",
                                "output": f"Paris (answer {i}).", "criteria": "The answer is correct."}) + "\n")


def run(dataset, output, port, env):
    argv = [LLMEVAL, "run", dataset, "-o", output, "-q", "-j", "200", "-p",
            f"openai:bench@http://127.0.0.1:{port}/v1"]
    started = time.monotonic()
    proc = subprocess.Popen(argv, env=env)
    _, status, usage = os.wait4(proc.pid, 0)  # this child's own CPU time and peak RSS
    wall = time.monotonic() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"llmeval run exited {proc.returncode}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rows", type=int, default=100000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--entries", type=int, default=100000)
    parser.add_argument("--lookups", type=int, default=20000)
    args = parser.parse_args()
    if args.quick:
        args.rows, args.repeats, args.entries, args.lookups = 20000, 1, 20000, 5000
    for binary in (LLMEVAL, FAKE, BENCH):
        if not os.path.exists(binary):
            raise SystemExit(f"{binary} is missing: run ./bin/build first")
    command = "python3 tests/bench/judge_cache.py" + (" --quick" if args.quick else "")

    with tempfile.TemporaryDirectory() as tmp:
        reports = []
        for i in range(args.repeats):
            redis = RedisServer()
            try:
                proc = subprocess.run([BENCH, "--redis", redis.url, "--dir", tmp, "--entries", str(args.entries),
                                       "--lookups", str(args.lookups)], stdout=subprocess.PIPE, text=True)
            finally:
                redis.stop()
            reports.append(json.loads(proc.stdout))
            print(f"lookup run {i + 1}: {proc.stdout.strip()}", flush=True)

        env = dict(NO_PROXY_ENV, XDG_CACHE_HOME=os.path.join(tmp, "cache-home"), LLMEVAL_CACHE="readwrite")
        dataset = os.path.join(tmp, "data.jsonl")
        write_dataset(dataset, args.rows)
        fake = FakeProvider(FAKE, ["--latency-ms", "50"])
        try:
            fill_wall, _, _ = run(dataset, os.path.join(tmp, "fill.jsonl"), fake.port, env)
            filled = fake.get("/stats")["requests"]
            reruns = []
            for i in range(args.repeats):
                wall, cpu, rss = run(dataset, os.path.join(tmp, f"rerun{i}.jsonl"), fake.port, env)
                calls = fake.get("/stats")["requests"] - filled
                reruns.append((wall, cpu, rss, calls))
                print(f"rerun {i + 1}: {args.rows / wall:.0f} rows/s, {1e6 * cpu / args.rows:.1f} µs CPU/row, "
                      f"peak RSS {rss:.0f} MB, judge calls {calls}", flush=True)
        finally:
            fake.stop()

    print()
    print(f"Judge-cache lookups, one at a time, median of {len(reports)} runs ({args.lookups} each; local file of "
          f"{args.entries} entries):\n")
    print("| operation | p50 µs | p99 µs |")
    print("|---|---:|---:|")
    for name in ("local_hit", "local_miss", "local_store", "redis_hit", "redis_miss"):
        p50 = statistics.median(r[name]["p50_us"] for r in reports)
        p99 = statistics.median(r[name]["p99_us"] for r in reports)
        print(f"| {name} | {p50:.1f} | {p99:.1f} |")
    print()
    walls = [r[0] for r in reruns]
    print(f"{args.rows} rows, filled in {fill_wall:.1f} s against the fake at 50 ms (-j 200); fully cached reruns, "
          f"median of {len(reruns)}: {args.rows / statistics.median(walls):.0f} rows/s, "
          f"{1e6 * statistics.median(r[1] for r in reruns) / args.rows:.1f} µs CPU/row, "
          f"peak RSS {statistics.median(r[2] for r in reruns):.0f} MB, judge calls {max(r[3] for r in reruns)}")
    print()
    print(f"Command: {command}")
    print(f"load average {os.getloadavg()[0]:.2f} at the end")
    return 0 if all(r["unexpected_misses"] == 0 for r in reports) and all(r[3] == 0 for r in reruns) else 1


if __name__ == "__main__":
    sys.exit(main())
