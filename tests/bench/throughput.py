#!/usr/bin/env python3
"""Throughput, CPU per row and peak memory of `llmeval run` against the fake provider.

Not a test: it prints figures. Usage (from the repository root, after ./bin/build):

    python3 tests/bench/throughput.py                 # the docs/benchmarks.md table (about 2 minutes)
    python3 tests/bench/throughput.py --quick         # fewer repeats, no 1M-row run

Each configuration runs `--repeats` times; the table shows medians. rows/s is compared with
the ideal, concurrency / latency, i.e. what a client with zero overhead would reach when
every judge call takes exactly the fake provider's latency. CPU µs/row is llmeval's own user +
system time divided by rows (the fake provider's CPU is not counted). Peak RSS is llmeval's
maximum resident set size (getrusage of that child).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LLMEVAL = os.path.join(ROOT, "build", "cli", "llmeval")
FAKE = os.path.join(ROOT, "build", "tests", "llmeval_fake_provider")


def write_dataset(path, rows):
    with open(path, "w") as f:
        for i in range(rows):
            f.write(json.dumps({
                "id": f"r{i}",
                "prompt": f"Question {i}: what is the capital of France, and why is it important?",
                "output": f"The capital of France is Paris; it is the seat of government (answer {i}).",
                "reference": "Paris",
                "criteria": "The answer is factually correct and complete.",
            }) + "\n")


# On a machine with two or more cores the fake provider runs on core 0 and llmeval on core 1,
# as one pins a load generator and the server under test apart: left to the scheduler, the two
# processes and the loopback traffic between them migrate across the cores and every hop adds
# latency that belongs to neither (about 5% of throughput on the 2-core benchmark machine).
# --no-pin turns it off.
PIN = os.cpu_count() and os.cpu_count() >= 2


def pinned(argv, core):
    return ["taskset", "-c", str(core)] + argv if PIN else argv


class FakeProvider:
    def __init__(self, latency_ms):
        self.proc = subprocess.Popen(pinned([FAKE, "--latency-ms", str(latency_ms)], 0), stdout=subprocess.PIPE,
                                     text=True)
        line = self.proc.stdout.readline().strip()
        if not line.startswith("PORT="):
            raise SystemExit(f"fake provider did not start: {line!r}")
        self.port = int(line.split("=", 1)[1])

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def run_once(dataset, port, concurrency, output):
    args = pinned([LLMEVAL, "run", dataset, "-p", f"openai:bench@http://127.0.0.1:{port}/v1",
                   "-j", str(concurrency), "-o", output, "-q"], 1)
    started = time.monotonic()
    proc = subprocess.Popen(args)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - started
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        raise SystemExit(f"llmeval exited {code}: {' '.join(args)}")
    with open(output) as f:
        lines = sum(1 for _ in f)
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_mb": usage.ru_maxrss / 1024, "lines": lines}


def measure(dataset, rows, port, concurrency, repeats, tmp):
    runs = [run_once(dataset, port, concurrency, os.path.join(tmp, "out.jsonl")) for _ in range(repeats)]
    for r in runs:
        if r["lines"] != rows:
            raise SystemExit(f"expected {rows} result lines, got {r['lines']}")
    return {
        "rows_per_s": statistics.median(rows / r["wall"] for r in runs),
        "cpu_us_per_row": statistics.median(r["cpu"] / rows * 1e6 for r in runs),
        "rss_mb": statistics.median(r["rss_mb"] for r in runs),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--big-rows", type=int, default=1_000_000, help="rows of the memory run (0 skips it)")
    parser.add_argument("--quick", action="store_true", help="3 repeats, no big run")
    parser.add_argument("--no-pin", action="store_true", help="let the scheduler place both processes")
    args = parser.parse_args()
    global PIN
    PIN = PIN and not args.no_pin
    if args.quick:
        args.repeats, args.big_rows = 3, 0
    for binary in (LLMEVAL, FAKE):
        if not os.access(binary, os.X_OK):
            raise SystemExit(f"{binary} is missing: run ./bin/build first")

    with tempfile.TemporaryDirectory() as tmp:
        dataset = os.path.join(tmp, "bench.jsonl")
        write_dataset(dataset, args.rows)
        fake = FakeProvider(args.latency_ms)
        placement = "fake provider on core 0, llmeval on core 1" if PIN else "processes not pinned"
        print(f"llmeval run, {args.rows} rows, fake provider at {args.latency_ms} ms, median of {args.repeats} runs, "
              f"{placement}")
        print()
        print("| -j | rows/s | ideal | % of ideal | CPU µs/row | peak RSS |")
        print("|---:|---:|---:|---:|---:|---:|")
        try:
            for concurrency in (200, 1000):
                m = measure(dataset, args.rows, fake.port, concurrency, args.repeats, tmp)
                ideal = concurrency / (args.latency_ms / 1000)
                print(f"| {concurrency} | {m['rows_per_s']:.0f} | {ideal:.0f} | {100 * m['rows_per_s'] / ideal:.0f}% "
                      f"| {m['cpu_us_per_row']:.0f} | {m['rss_mb']:.1f} MB |", flush=True)
        finally:
            fake.stop()

        if args.big_rows:
            fake = FakeProvider(0)
            try:
                print()
                print("| rows | -j | fake latency | rows/s | CPU µs/row | peak RSS |")
                print("|---:|---:|---:|---:|---:|---:|")
                for rows in (args.rows, args.big_rows):
                    write_dataset(dataset, rows)
                    m = measure(dataset, rows, fake.port, 200, 1, tmp)
                    print(f"| {rows} | 200 | 0 ms | {m['rows_per_s']:.0f} | {m['cpu_us_per_row']:.0f} "
                          f"| {m['rss_mb']:.1f} MB |", flush=True)
            finally:
                fake.stop()


if __name__ == "__main__":
    sys.exit(main())
