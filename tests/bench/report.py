#!/usr/bin/env python3
"""The HTML report at scale: two real runs of a generated dataset against fake providers, then
`llmeval report --dataset --compare` over them, timed, with the page's size and the report's
peak memory; optionally opened in headless Chromium (tests/report/check_report.mjs).

Not a test: it prints figures. Usage (from the repository root, after ./bin/build):

    python3 tests/bench/report.py                      # 100,000 rows (about 3 minutes)
    python3 tests/bench/report.py --rows 2000 --keep /tmp/demo   # a small demo, files kept

The dataset is a "model v1 vs v2" comparison: the same prompts with two sets of outputs, judged
on two LLM criteria (1-5) and one deterministic check. The primary fake provider fails
--error-rate of its calls with a 500, so with --retries 1 some criteria fall back to a second
fake provider; a few rows ask the fake for an unparseable reply (judge_unparseable errors) or a
slow one (the latency tail). Scores are what the fake provider returns, not real judgements.
"""
import argparse
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import json

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

TOPICS = [
    ("How long do I have to return an item I bought online?",
     "You can return most items within 30 days of delivery for a full refund.",
     "Returns are accepted within 30 days of delivery; start one from Orders > Return item and use the prepaid label."),
    ("What is the capital of Australia?", "The capital of Australia is Sydney.", "The capital of Australia is Canberra."),
    ("Write a shell command that counts the lines of every .py file.",
     "find . -name '*.py' | xargs wc -l", "find . -name '*.py' -print0 | xargs -0 wc -l"),
    ("Summarise the refund policy in one sentence.",
     "Refunds go back to the original card 3-5 business days after the item arrives at our warehouse, "
     "except for gift cards, final-sale items and anything returned after the 30-day window, which we "
     "cannot refund but may exchange at our discretion if you contact support with the order number.",
     "Refunds reach your card 3-5 business days after we receive the item."),
    ("Is it safe to take ibuprofen with coffee?",
     "Yes, it's totally fine.",
     "Usually yes: caffeine does not interact badly with ibuprofen, but take it with food and ask a "
     "pharmacist if you have stomach problems."),
    ("Explain what a race condition is to a new developer.",
     "A race condition is when two threads touch the same data at the same time and the result depends on "
     "who gets there first.",
     "A race condition happens when the result depends on the timing of threads that share data without "
     "coordination; locks or atomic operations prevent it."),
]

CRITERIA = [
    {"name": "correctness", "rubric": "The answer is factually correct and addresses the question.", "threshold": 3},
    {"name": "helpfulness", "rubric": "The answer gives the user what they need to act, without padding.",
     "threshold": 3},
    {"name": "concise", "type": "max_chars", "value": 240},
]


def write_datasets(directory, rows, seed):
    rng = random.Random(seed)
    paths = {version: os.path.join(directory, f"dataset-{version}.jsonl") for version in ("v1", "v2")}
    with open(paths["v1"], "w") as v1, open(paths["v2"], "w") as v2:
        for i in range(rows):
            prompt, old, new = TOPICS[i % len(TOPICS)]
            prompt = f"{prompt} (ticket {i})"
            outputs = {"v1": f"{old} [{i}]", "v2": f"{new if rng.random() < 0.6 else old} [{i}]"}
            for version, output in outputs.items():
                marker = ""
                roll = rng.random()
                if roll < 0.002:
                    marker = " [[fake:reply=unparseable]]"
                elif roll < 0.01:
                    marker = f" [[fake:delay_ms={rng.choice([800, 1500, 3000])}]]"
                row = {"id": f"t{i:06d}", "prompt": prompt, "output": output + marker, "criteria": CRITERIA,
                       "metadata": {"topic": i % len(TOPICS)}}
                (v1 if version == "v1" else v2).write(json.dumps(row) + "\n")
    return paths


class FakeProvider:
    def __init__(self, binary, *args):
        self.proc = subprocess.Popen([binary, *args], stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().strip()
        if not line.startswith("PORT="):
            raise SystemExit(f"fake provider did not start: {line!r}")
        self.port = int(line.split("=", 1)[1])

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def timed(argv):
    """Runs argv; returns (exit code, wall seconds, peak RSS MB of that child)."""
    started = time.monotonic()
    proc = subprocess.Popen(argv)
    _, status, usage = os.wait4(proc.pid, 0)
    return os.waitstatus_to_exitcode(status), time.monotonic() - started, usage.ru_maxrss / 1024


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default=os.path.join(ROOT, "build"), help="build directory (default: build/)")
    parser.add_argument("--rows", type=int, default=100_000)
    # A few random 500s: the breaker must not open on chance (docs/resilience.md), so the
    # report shows retries and a handful of fallbacks, not a failed provider.
    parser.add_argument("--error-rate", type=float, default=0.05, help="the primary fake provider's 500s")
    parser.add_argument("--keep", help="write the datasets, results and report here and keep them")
    parser.add_argument("--browser", action="store_true", help="also open the report in headless Chromium")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    llmeval = os.path.join(args.build, "cli", "llmeval")
    fake = os.path.join(args.build, "tests", "llmeval_fake_provider")
    for binary in (llmeval, fake):
        if not os.access(binary, os.X_OK):
            raise SystemExit(f"{binary} is missing: run ./bin/build first")

    with tempfile.TemporaryDirectory() as scratch:
        directory = args.keep or scratch
        os.makedirs(directory, exist_ok=True)
        datasets = write_datasets(directory, args.rows, args.seed)
        primary = FakeProvider(fake, "--latency-ms", "20", "--jitter-ms", "120", "--error-rate", str(args.error_rate),
                               "--seed", str(args.seed))
        backup = FakeProvider(fake, "--latency-ms", "60", "--jitter-ms", "200")
        env_note = "fake providers on 127.0.0.1"
        try:
            results = {}
            for version in ("v1", "v2"):
                results[version] = os.path.join(directory, f"results-{version}.jsonl")
                code, wall, rss = timed([llmeval, "run", datasets[version], "-q", "-j", "256", "--retries", "1",
                                         "-p", f"openai:judge-large@http://127.0.0.1:{primary.port}/v1",
                                         "-p", f"openai:judge-small@http://127.0.0.1:{backup.port}/v1",
                                         "-o", results[version]])
                if code not in (0, 1):
                    raise SystemExit(f"llmeval run exited {code}")
                print(f"run {version}: {args.rows} rows in {wall:.1f} s ({args.rows / wall:.0f} rows/s), "
                      f"peak RSS {rss:.0f} MB, {env_note}", flush=True)
        finally:
            primary.stop()
            backup.stop()

        report = os.path.join(directory, "report.html")
        code, wall, rss = timed([llmeval, "report", results["v2"], "--dataset", datasets["v2"],
                                 "--compare", results["v1"], "-o", report])
        if code != 0:
            raise SystemExit(f"llmeval report exited {code}")
        size = os.path.getsize(report)
        results_size = os.path.getsize(results["v2"]) + os.path.getsize(datasets["v2"])
        print(f"report: {args.rows} rows in {wall:.2f} s, peak RSS {rss:.0f} MB, {size / 1e6:.1f} MB "
              f"({size / args.rows:.0f} B/row; the results and dataset files are {results_size / 1e6:.1f} MB)", flush=True)
        if args.browser:
            check = [
                "node", os.path.join(ROOT, "tests", "report", "check_report.mjs"), "--report", report,
                "--screenshot", os.path.join(directory, "report.png"), "--expect-rows", str(args.rows),
                "--expect-compare",
            ]
            code = subprocess.call(check)
            if code != 0:
                sys.exit(code)


if __name__ == "__main__":
    main()
