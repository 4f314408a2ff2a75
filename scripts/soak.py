#!/usr/bin/env python3
"""Soak test of `granary up`: the platform at high speed for a fixed time under a bounded API load.

Starts `granary up` on a fresh data folder (SQLite) at `--speed` simulated seconds per second and,
every `--every` seconds until `--minutes` have passed:
  - samples the server's resident memory (VmRSS), the data folder's size on disk, the journal
    position and the chain time (from /metrics);
  - runs a short burst of reads with `granary bench api` (`--connections` keep-alive connections
    for `--burst` seconds against GET /api/opportunities): requests, errors, p50/p99 latency;
  - sends a few writes (faucet grants) and counts any answer that is not 200.
Then stops the server with SIGINT (it must exit 0) and writes a CSV of the samples and a markdown
summary: memory at the start, middle and end, its growth per minute in each half of the run (the
growth must flatten: the second half's rate is compared with the first's), journal bytes per
simulated day, the latency percentiles over all bursts, and the error count.

The load is bounded: bursts take `--burst` of every `--every` seconds, and writes are a handful per
sample. Usage:
  cargo build --release -p granary-cli
  python3 scripts/soak.py --minutes 30 --out target/soak
"""

import argparse
import csv
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def dir_bytes(path):
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += os.path.getsize(os.path.join(root, name))
            except OSError:
                pass
    return total


def metrics(base):
    text = urllib.request.urlopen(base + "/metrics", timeout=10).read().decode()
    out = {}
    for line in text.splitlines():
        m = re.match(r"^(granary_journal_next_seq|granary_chain_time_seconds\{chain=\"ethereum\"\}) ([0-9.e+]+)$", line)
        if m:
            out[m.group(1)] = float(m.group(2))
    return out


def post(base, path, body):
    req = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default="target/release/granary")
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--speed", type=float, default=3600)
    ap.add_argument("--tick-ms", type=int, default=1000, help="wall ms between market ticks (one block per chain each)")
    ap.add_argument("--every", type=float, default=15)
    ap.add_argument("--burst", type=int, default=3)
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--writes", type=int, default=5)
    ap.add_argument("--out", default="target/soak")
    a = ap.parse_args()
    if not os.path.exists(a.bin):
        sys.exit(f"soak: no binary at {a.bin}: cargo build --release -p granary-cli")
    os.makedirs(a.out, exist_ok=True)
    work = tempfile.mkdtemp(prefix="granary-soak-")
    data = os.path.join(work, "data")
    log = open(os.path.join(a.out, "up.log"), "w")
    up = subprocess.Popen([a.bin, "--data-dir", data, "up", "--addr", "127.0.0.1:0", "--speed", str(a.speed),
                           "--tick-ms", str(a.tick_ms)],
                          stdout=subprocess.PIPE, stderr=log, text=True)
    base = None
    started = time.time()
    while base is None and time.time() - started < 180:
        line = up.stdout.readline()
        if not line:
            break
        log.write(line)
        m = re.match(r"^granary is up: (http://127\.0\.0\.1:\d+)/$", line.strip())
        if m:
            base = m.group(1)
    if base is None:
        up.kill()
        sys.exit("soak: granary up did not start (see up.log)")
    # Keep draining stdout so the server never blocks on a full pipe.
    drain = subprocess.Popen(["cat"], stdin=up.stdout, stdout=log)
    target = base.removeprefix("http://")
    address = "0x" + "5a" * 20
    samples = []
    t0 = time.time()
    deadline = t0 + a.minutes * 60
    print(f"soak: {base}, {a.minutes} min at {a.speed}x, a {a.burst} s burst of reads every {a.every} s")
    while time.time() < deadline:
        tick = time.time()
        m = metrics(base)
        burst = subprocess.run([a.bin, "bench", "api", "--target", target, "--connections", str(a.connections),
                                "--seconds", str(a.burst), "--json"], capture_output=True, text=True)
        try:
            b = json.loads(burst.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            b = {"requests": 0, "errors": 1, "p50_ms": float("nan"), "p99_ms": float("nan"), "max_ms": float("nan")}
        write_errors = sum(1 for _ in range(a.writes) if post(base, "/api/faucet", {"address": address}) != 200)
        s = {
            "t_s": round(tick - t0, 1),
            "rss_mib": round(rss_kib(up.pid) / 1024, 1),
            "data_mib": round(dir_bytes(data) / 2**20, 2),
            "next_seq": int(m.get("granary_journal_next_seq", 0)),
            "chain_days": round(m.get('granary_chain_time_seconds{chain="ethereum"}', 0) / 86400, 2),
            "requests": b["requests"],
            "errors": b["errors"] + write_errors,
            "p50_ms": b["p50_ms"],
            "p99_ms": b["p99_ms"],
            "max_ms": b["max_ms"],
        }
        samples.append(s)
        print(f"  {s['t_s']:7.0f} s  rss {s['rss_mib']:7.1f} MiB  data {s['data_mib']:8.2f} MiB  seq {s['next_seq']:>9}"
              f"  p99 {s['p99_ms']:6.2f} ms  errors {s['errors']}", flush=True)
        time.sleep(max(0.0, a.every - (time.time() - tick)))
    up.send_signal(signal.SIGINT)
    try:
        code = up.wait(timeout=120)
    except subprocess.TimeoutExpired:
        up.kill()
        code = "killed after 120 s"
    drain.wait(timeout=10)
    shutil.rmtree(work, ignore_errors=True)

    with open(os.path.join(a.out, "soak.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(samples[0].keys()))
        w.writeheader()
        w.writerows(samples)
    n = len(samples)
    half = n // 2
    minutes = lambda s: s["t_s"] / 60  # noqa: E731
    def rate(x, y):
        dt = minutes(y) - minutes(x)
        return (y["rss_mib"] - x["rss_mib"]) / dt if dt > 0 else float("nan")
    # Skip the first minute (start-up allocations) when measuring growth.
    first = next((s for s in samples if s["t_s"] >= 60), samples[0])
    growth1 = rate(first, samples[half])
    growth2 = rate(samples[half], samples[-1])
    third = samples[(2 * n) // 3]
    growth3 = rate(third, samples[-1])
    days = samples[-1]["chain_days"] - samples[0]["chain_days"]
    journal_per_day = (samples[-1]["data_mib"] - samples[0]["data_mib"]) / days if days > 0 else float("nan")
    p99s = [s["p99_ms"] for s in samples if s["requests"]]
    total_req = sum(s["requests"] for s in samples)
    total_err = sum(s["errors"] for s in samples)
    flat = growth2 <= max(0.5 * growth1, 0.2)
    summary = f"""# Soak: `granary up` for {a.minutes:g} minutes at {a.speed:g}x, a block every {a.tick_ms} ms

{n} samples every {a.every:g} s; a {a.burst} s burst of GET /api/opportunities at {a.connections} connections
and {a.writes} faucet writes per sample. Simulated time: {days:.1f} days on Ethereum.

| measure | value |
|---|---|
| resident memory at start / middle / end | {samples[0]['rss_mib']} / {samples[half]['rss_mib']} / {samples[-1]['rss_mib']} MiB |
| memory growth, first half (after the first minute) | {growth1:.2f} MiB/min |
| memory growth, second half | {growth2:.2f} MiB/min |
| memory growth, last third (from minute {minutes(third):.1f}) | {growth3:.2f} MiB/min |
| growth flattens (second half ≤ half the first, or ≤ 0.2 MiB/min) | {'yes' if flat else 'NO'} |
| data folder at start / end | {samples[0]['data_mib']} / {samples[-1]['data_mib']} MiB |
| journal entries at start / end | {samples[0]['next_seq']} / {samples[-1]['next_seq']} |
| data folder growth per simulated day | {journal_per_day:.2f} MiB |
| reads in bursts | {total_req} |
| errors (non-200 reads and writes) | {total_err} |
| p99 latency per burst: median / worst | {statistics.median(p99s):.2f} / {max(p99s):.2f} ms |
| p50 latency per burst: median | {statistics.median([s['p50_ms'] for s in samples if s['requests']]):.2f} ms |
| exit on SIGINT | {code} |
"""
    with open(os.path.join(a.out, "soak.md"), "w") as f:
        f.write(summary)
    print(summary)
    ok = flat and total_err == 0 and code == 0
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
