#!/usr/bin/env python3
"""Throughput and latency of `llmeval serve` (POST /v1/evaluate) under wrk, against the fake provider.

Not a test: it prints figures. Usage (from the repository root, after ./bin/build; needs wrk,
which bin/setup installs):

    python3 tests/bench/serve.py                      # both payloads, serve --threads 1 and 2 (about 6 minutes)
    python3 tests/bench/serve.py --build build-release  # any build directory; use a Release build
    python3 tests/bench/serve.py --payload 1m --threads 2 --repeats 1 --duration 5

Each run starts a fresh fake provider (`--latency-ms 50`, one thread) and a fresh
`llmeval serve --listen 127.0.0.1:0 -j 1024 -q` pointed at it, warms up with wrk for
--warmup seconds, resets the provider's counters, then measures for --duration seconds with one
wrk thread and a fixed number of keep-alive connections, each POSTing the same row again and
again (tests/bench/serve_post.lua). Each configuration runs --repeats times; the table shows
medians of req/s, p50 and p99 (wrk's own latency, in ms), and the sum of failures over every
repeat: wrk's connect/read/write/timeout errors, replies above 399 (wrk's "Non-2xx or 3xx"),
judge calls the fake provider answered with anything but 200, and runs in which serve died
(before the end of the measured window, or with a non-zero exit on SIGTERM afterwards; a run
whose serve died is left out of the medians). All of them must be 0; the exit status is 1
otherwise.

Each connection has one request outstanding and every request waits the provider's latency,
so a run can reach at most connections / latency: 1000 req/s for 50 connections at 50 ms,
8000 for 400. The defaults (50 and 400 for 1k, 16 and 64 for 1m) show a lightly loaded
server and one offered more than 5000 req/s (1k) or 300 req/s (1m).

The two rows: "1k", about 1 KB (a short prompt, a reference and a one-paragraph output, two
criteria), and "1m", one LLM criterion and a 1 MiB `output` of prose with quotes, newlines,
tabs and non-ASCII text (sent as UTF-8), so parsing and re-escaping the row into the judge
request is exercised.

CPU µs/req is llmeval's user + system time (/proc/PID/stat, during the measured window only)
divided by the requests wrk completed in it; "fake" and "wrk" columns are the same for the
fake provider and wrk, since all three share the machine. Peak RSS is llmeval's VmHWM at the
end of the run (warm-up included). Nothing is pinned: with two loop threads serve needs both
cores, and wrk and the fake provider share them.
"""
import argparse
import json
import os
import random
import re
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from math import nan

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LUA = os.path.join(ROOT, "tests", "bench", "serve_post.lua")
API_KEY = "bench-key"
CLK_TCK = os.sysconf("SC_CLK_TCK")

# Loopback only: keep an environment proxy away from every request.
NO_PROXY_ENV = {k: v for k, v in os.environ.items() if k.lower() not in ("http_proxy", "https_proxy", "all_proxy")}
NO_PROXY_ENV.update(no_proxy="127.0.0.1", NO_PROXY="127.0.0.1")
HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))

WORDS = ("the model answer evaluation criterion judge response context reference because therefore however "
         "latency throughput request server client parser escape quote newline buffer memory stream token "
         "Paris France capital government river Seine museum history century population economy culture").split()
NON_ASCII = ["café", "naïve", "Zürich", "São Paulo", "Ångström", "résumé", "—", "…", "«quoted»", "東京",
             "日本語のテキスト", "Привет", "κόσμε", "数据集", "🙂", "€42", "½", "→"]


def prose(size, seed=7):
    """About `size` bytes (UTF-8) of deterministic text with quotes, newlines, tabs and non-ASCII."""
    rng = random.Random(seed)
    parts, n = [], 0
    while n < size:
        words = []
        for _ in range(rng.randint(8, 24)):
            r = rng.random()
            w = rng.choice(NON_ASCII) if r < 0.06 else rng.choice(WORDS)
            if 0.06 <= r < 0.09:
                w = f'"{w}"'
            elif 0.09 <= r < 0.1:
                w = f"\\{w}/"
            words.append(w)
        sentence = " ".join(words).capitalize() + rng.choice([". ", "! ", "? ", ".\n", ".\n\n", ":\n\t- "])
        parts.append(sentence)
        n += len(sentence.encode())
    text = "".join(parts).encode()[:size]
    return text.decode("utf-8", errors="ignore")  # a cut multi-byte character is dropped


def payloads():
    small = {
        "id": "bench-1k",
        "prompt": "Summarise the main argument of the attached passage in two sentences, and say whether "
                  "the author's conclusion follows from the evidence they give.",
        "output": prose(600, seed=1),
        "reference": "The author argues that caching the parsed request removes most of the per-request cost.",
        "criteria": ["The answer is correct.", "The answer is concise."],
        "metadata": {"source": "bench"},
    }
    large = {
        "id": "bench-1m",
        "prompt": "Write a detailed report on the history of Paris, with quotations.",
        "output": prose(1 << 20, seed=2),
        "criteria": ["The report is accurate and well organised."],
    }
    return {"1k": json.dumps(small, ensure_ascii=False).encode(), "1m": json.dumps(large, ensure_ascii=False).encode()}


def http_get(port, path):
    with HTTP.open(f"http://127.0.0.1:{port}{path}", timeout=10) as reply:
        return reply.read()


def http_post(port, path, body=b"{}"):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body, method="POST",
                                 headers={"Content-Type": "application/json"})
    with HTTP.open(req, timeout=10) as reply:
        return reply.read()


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime (fields 14, 15)


def vm_hwm_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def machine_idle(seconds=0.5):
    """Fraction of all cores idle over `seconds`, and other people's llmeval/fake/wrk processes."""
    def snap():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return v[3] + v[4], sum(v)
    i0, t0 = snap()
    time.sleep(seconds)
    i1, t1 = snap()
    mine = {os.getpid()}
    others = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) in mine:
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        if re.search(r"(^|/)(llmeval|llmeval_fake_provider|wrk)( |$)", cmd):
            others.append(f"{pid} {cmd[:100]}")
    return (i1 - i0) / max(1, t1 - t0), others


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class Proc:
    def __init__(self, argv, ready, env=None):
        self.argv = argv
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                                     preexec_fn=raise_nofile)
        line = self.proc.stdout.readline().strip()
        m = re.search(ready, line)
        if not m:
            err = self.proc.stderr.read() if self.proc.poll() is not None else ""
            self.stop()
            raise SystemExit(f"{argv[0]} did not start: {line!r} {err}")
        self.port = int(m.group(1))
        self.pid = self.proc.pid

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def serve_argv(llmeval, fake_port, args, threads):
    return [llmeval, "serve", "--listen", "127.0.0.1:0", "-p", f"openai:fake-judge@http://127.0.0.1:{fake_port}/v1",
            "--threads", str(threads), "-j", str(args.concurrency), "-q"]


def wrk(url, body_path, connections, duration, args):
    argv = ["wrk", "-t", str(args.wrk_threads), "-c", str(connections), "-d", f"{int(duration)}s", "--timeout", "10s",
            "-s", LUA, url]
    env = dict(NO_PROXY_ENV, LLMEVAL_BENCH_BODY=body_path)
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    out, err = proc.communicate(timeout=duration + 60)
    m = re.search(r"^LLMEVAL_WRK (\{.*\})$", out, re.M)
    if proc.returncode != 0 or not m:
        raise SystemExit(f"wrk failed ({proc.returncode}): {out}\n{err}")
    return json.loads(m.group(1)), out


def run_once(llmeval, fake_bin, body_path, connections, threads, args):
    idle, others = machine_idle()
    fake = Proc([fake_bin, "--latency-ms", str(args.latency_ms), "--api-key", API_KEY], r"^PORT=(\d+)$",
                env=NO_PROXY_ENV)
    serve = None
    try:
        serve = Proc(serve_argv(llmeval, fake.port, args, threads), r"listening on http://127\.0\.0\.1:(\d+)",
                     env=dict(NO_PROXY_ENV, OPENAI_API_KEY=API_KEY))
        url = f"http://127.0.0.1:{serve.port}/v1/evaluate"
        if args.warmup > 0:
            wrk(url, body_path, connections, args.warmup, args)
        time.sleep(0.2)  # let the warm-up's last judge calls finish
        http_post(fake.port, "/stats/reset")
        s0, f0 = cpu_seconds(serve.pid), cpu_seconds(fake.pid)
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        w, raw = wrk(url, body_path, connections, args.duration, args)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        survived = serve.proc.poll() is None  # a serve that died mid-run makes the figures meaningless
        s1, f1 = (cpu_seconds(serve.pid) if survived else s0), cpu_seconds(fake.pid)
        rss = vm_hwm_mb(serve.pid) if survived else float("nan")
        time.sleep(0.2)
        stats = json.loads(http_get(fake.port, "/stats"))
        code = serve.stop()  # SIGTERM: a clean drain exits 0
        if code != 0:
            print(f"warning: llmeval serve exited {code} ({'during the run' if not survived else 'on SIGTERM'}): "
                  f"{serve.proc.stderr.read()[-2000:]}", file=sys.stderr)
    finally:
        if serve:
            serve.stop()
        fake.stop()
    n = max(1, w["requests"])
    secs = w["duration_us"] / 1e6
    provider_bad = sum(v for k, v in stats.get("status_counts", {}).items() if k != "200")
    wrk_errors = w["connect"] + w["read"] + w["write"] + w["timeout"]
    return {
        "rps": w["requests"] / secs,
        "p50": w["p50_us"] / 1000,
        "p99": w["p99_us"] / 1000,
        "non2xx": w["status"],
        "wrk_errors": wrk_errors,
        "provider_bad": provider_bad,
        "provider_requests": stats.get("requests", 0),
        "cpu_us": (s1 - s0) / n * 1e6,
        "serve_cores": (s1 - s0) / secs,
        "fake_us": (f1 - f0) / n * 1e6,
        "wrk_us": ((r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)) / n * 1e6,
        "rss_mb": rss,
        "survived": survived,
        "exit_code": code,
        "idle_before": idle,
        "others": others,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.environ.get("LLMEVAL_BUILD_DIR", os.path.join(ROOT, "build")),
                    help="build directory holding cli/llmeval and tests/llmeval_fake_provider (a Release build)")
    ap.add_argument("--payload", choices=["1k", "1m", "both"], default="both")
    ap.add_argument("--threads", default="1,2", help="serve --threads values to compare, comma-separated")
    ap.add_argument("--connections-1k", default="50,400", help="wrk connections for the 1 KB row")
    ap.add_argument("--connections-1m", default="16,64", help="wrk connections for the 1 MB row")
    ap.add_argument("--duration", type=int, default=10, help="measured seconds per run")
    ap.add_argument("--warmup", type=int, default=2, help="warm-up seconds per run (not measured)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--latency-ms", type=int, default=50, help="the fake provider's latency")
    ap.add_argument("-j", "--concurrency", type=int, default=1024, help="serve -j (judge calls in flight)")
    ap.add_argument("--wrk-threads", type=int, default=1)
    ap.add_argument("--json", help="also write every run's figures to this file")
    args = ap.parse_args()

    llmeval = os.path.join(args.build, "cli", "llmeval")
    fake_bin = os.path.join(args.build, "tests", "llmeval_fake_provider")
    for b in (llmeval, fake_bin):
        if not os.access(b, os.X_OK):
            raise SystemExit(f"{b} is missing: build it first (./bin/build, or --build DIR)")
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not on PATH (bin/setup installs it)")

    tmp = tempfile.mkdtemp(prefix="llmeval-serve-bench-")
    bodies = {}
    for name, body in payloads().items():
        path = os.path.join(tmp, f"{name}.json")
        with open(path, "wb") as f:
            f.write(body)
        bodies[name] = (path, len(body))

    names = ["1k", "1m"] if args.payload == "both" else [args.payload]
    threads = [int(t) for t in args.threads.split(",") if t]
    configs = []
    for name in names:
        conns = args.connections_1k if name == "1k" else args.connections_1m
        for c in [int(c) for c in conns.split(",") if c]:
            for t in threads:
                configs.append((name, t, c))

    rows, everything, busy = [], [], []
    for name, t, c in configs:
        runs = []
        for i in range(args.repeats):
            r = run_once(llmeval, fake_bin, bodies[name][0], c, t, args)
            runs.append(r)
            everything.append(dict(r, payload=name, threads=t, connections=c, repeat=i))
            if r["idle_before"] < 0.8 or r["others"]:
                busy.append((name, t, c, i, r["idle_before"], r["others"]))
            print(f"{name} threads={t} c={c} #{i + 1}: {r['rps']:.0f} req/s p50 {r['p50']:.1f} ms "
                  f"p99 {r['p99']:.1f} ms, {r['cpu_us']:.0f} µs CPU/req, serve {r['serve_cores']:.2f} cores, "
                  f"failures {r['non2xx']}+{r['wrk_errors']}+{r['provider_bad']}, idle before {r['idle_before']:.0%}",
                  file=sys.stderr, flush=True)
        good = [r for r in runs if r["survived"]] or [dict(r, rps=0, p50=nan, p99=nan, cpu_us=nan, serve_cores=nan)
                                                      for r in runs[:1]]
        med = lambda k: statistics.median(r[k] for r in good)  # noqa: E731
        crashed = sum(1 for r in runs if not r["survived"] or r["exit_code"] != 0)
        rows.append((name, t, c, med("rps"), med("p50"), med("p99"), sum(r["non2xx"] for r in runs),
                     sum(r["wrk_errors"] for r in runs), sum(r["provider_bad"] for r in runs), crashed,
                     med("cpu_us"), med("serve_cores"), med("fake_us"), med("wrk_us"),
                     max((r["rss_mb"] for r in good), default=nan)))

    cmd = "python3 " + " ".join(shlex.quote(a) for a in [os.path.relpath(__file__, ROOT)] + sys.argv[1:])
    print(f"`{cmd}`: medians of {args.repeats} runs of {args.duration:g} s (after {args.warmup:g} s of warm-up); "
          f"fake provider latency {args.latency_ms} ms; serve -j {args.concurrency}; wrk -t {args.wrk_threads}; "
          f"bodies {bodies['1k'][1] if '1k' in bodies else 0} B and {bodies['1m'][1]} B; {os.cpu_count()} cores\n")
    print("| row | serve --threads | connections | req/s | p50 ms | p99 ms | non-2xx | wrk errors | provider non-200 "
          "| serve crashed | serve CPU µs/req | serve cores busy | fake CPU µs/req | wrk CPU µs/req | serve peak RSS MB |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for (name, t, c, rps, p50, p99, non2xx, werr, pbad, crashed, cpu, cores, fake_us, wrk_us, rss) in rows:
        print(f"| {name} | {t} | {c} | {rps:.0f} | {p50:.1f} | {p99:.1f} | {non2xx} | {werr} | {pbad} | {crashed} | {cpu:.0f} "
              f"| {cores:.2f} | {fake_us:.0f} | {wrk_us:.0f} | {rss:.0f} |")
    if busy:
        print("\nThe machine was not idle before some runs (idle fraction of all cores, other processes):")
        for name, t, c, i, idle, others in busy:
            print(f"- {name} threads={t} c={c} #{i + 1}: {idle:.0%} idle; {'; '.join(others) or 'no llmeval/wrk'}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(everything, f, indent=1)
    shutil.rmtree(tmp, ignore_errors=True)
    failures = sum(r[6] + r[7] + r[8] + r[9] for r in rows)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
