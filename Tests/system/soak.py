#!/usr/bin/env python3
"""Soak test (Tests/system/soak.sh): one `seresnet serve` under mixed traffic for N minutes, sampled once a second.

Traffic, all at once, each kind from its own threads:
  raw        2 keep-alive clients POSTing every valid fixture in turn as a raw body (small and 4096x4096)
  multipart  1 client POSTing every valid fixture as multipart/form-data with `Connection: close`
  bad        1 keep-alive client POSTing every bad fixture (expects 400/415/422)
  slow       1 client uploading a valid JPEG under 100 kB at 20 kB/s
  oversized  1 client declaring a 17 MB body every 2 s (expects 413 from the head, before any body byte)
  burst      every 15 s, max-queue + 16 simultaneous 4096x4096 uploads (expects 200 or 503 + Retry-After)
  metrics    GET /metrics every second
Samples each second: the server's resident memory (VmRSS), open descriptors (/proc/PID/fd), threads, and the
latency percentiles of the valid requests of the raw and multipart clients that ended in that second.

Pass: the server never died; no 5xx except the designed 503s (overloaded, too_many_uploads, queue_timeout,
with Retry-After); no connection errors; every answer of the expected class; after the first minute each
minute's minimum resident memory (what stays between requests) within +-5% of the second minute's;
descriptors and threads flat (last minute's median <= second minute's + 2); every kind of traffic answered.
Latency is reported per minute and plotted, never judged: a neighbour's load on the machine moves it, and a
test must not fail because the machine was slow. Writes a CSV and a PNG (matplotlib) of the series.
"""

import argparse
import csv
import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "Tests", "python"))
from harness import BINARY, ServiceProcess, fixture, free_port  # noqa: E402

DESIGNED_503 = {"overloaded", "too_many_uploads", "queue_timeout"}
MAX_QUEUE = 16
START = time.monotonic()


class Stats:
    """Every outcome, kept compactly: (end time, kind, status or None, latency s, ok)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.events = []
        self.problems = []

    def add(self, kind, t0, status, ok, detail=""):
        t1 = time.monotonic()
        with self.lock:
            self.events.append((t1, kind, status, t1 - t0, ok))
            if not ok and len(self.problems) < 50:
                self.problems.append(f"{kind}: {status} {detail}")
                print(f"  unexpected at {t1 - START:.1f} s: {kind} -> {status} {detail!r}", flush=True)


def error_code(data):
    try:
        return json.loads(data)["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None


def judge(status, headers, data, expected):
    """Whether an answer is one the service is designed to give for this kind of request."""
    if status == 503:
        return error_code(data) in DESIGNED_503 and headers.getheader("Retry-After") is not None
    if expected == "valid":
        return status == 200
    if expected == "bad":
        return status in (400, 415, 422) and error_code(data) is not None
    if expected == "oversized":
        return status == 413 and error_code(data) == "payload_too_large"
    return False


class Traffic:
    def __init__(self, port, stats, stop):
        self.port, self.stats, self.stop = port, stats, stop
        images = str(fixture("images"))
        names = sorted(os.listdir(images))
        self.valid = [open(os.path.join(images, n), "rb").read() for n in names if not n.startswith("bad-")]
        self.bad = [open(os.path.join(images, n), "rb").read() for n in names if n.startswith("bad-")]
        self.small_valid = [b for b in self.valid if len(b) < 100_000]
        self.large = open(os.path.join(images, "astronaut-large-4096x4096.jpg"), "rb").read()
        self.threads = []

    def connect(self, timeout=90):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def exchange(self, conn, kind, expected, body, headers):
        """One request; returns the connection to reuse, or None."""
        t0 = time.monotonic()
        try:
            conn.request("POST", "/classify", body=body, headers=headers)
            r = conn.getresponse()
            data = r.read()
            self.stats.add(kind, t0, r.status, judge(r.status, r, data, expected), data[:120])
            if r.will_close:
                conn.close()
                return None
            return conn
        except (OSError, http.client.HTTPException) as e:
            self.stats.add(kind, t0, None, False, f"{type(e).__name__}: {e}")
            conn.close()
            return None

    def loop(self, body_fn):
        def run():
            conn = None
            i = 0
            while not self.stop.is_set():
                conn = body_fn(conn or self.connect(), i)
                i += 1
            if conn:
                conn.close()
        return run

    def raw(self, conn, i):
        return self.exchange(conn, "raw", "valid", self.valid[i % len(self.valid)], {"Content-Type": "image/jpeg"})

    def multipart(self, conn, i):
        boundary = uuid.uuid4().hex
        image = self.valid[i % len(self.valid)]
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.jpg\"\r\n"
                f"Content-Type: image/jpeg\r\n\r\n").encode() + image + f"\r\n--{boundary}--\r\n".encode()
        return self.exchange(conn, "multipart", "valid", body,
                             {"Content-Type": f"multipart/form-data; boundary={boundary}", "Connection": "close"})

    def bad_requests(self, conn, i):
        return self.exchange(conn, "bad", "bad", self.bad[i % len(self.bad)], {"Content-Type": "image/jpeg"})

    def slow(self, conn, i):
        # Only the fixtures under 100 kB: at 20 kB/s they take at most 5 s, far inside the 60 s body timeout
        # (the 1 MB 4096x4096 one would take 52 s and, on a busy machine, run into it).
        body = self.small_valid[i % len(self.small_valid)]
        t0 = time.monotonic()
        try:
            conn.putrequest("POST", "/classify")
            conn.putheader("Content-Type", "image/jpeg")
            conn.putheader("Content-Length", str(len(body)))
            conn.endheaders()
            try:
                for offset in range(0, len(body), 2000):
                    conn.send(body[offset:offset + 2000])
                    time.sleep(0.1)  # 20 kB/s
            except OSError:
                # The service may answer from the head, before the body (503 when its queue is full), and close
                # without reading the rest (HTTP allows it); the answer is still there to be read.
                pass
            if not self.stop.is_set():
                r = conn.getresponse()
                data = r.read()
                self.stats.add("slow", t0, r.status, judge(r.status, r, data, "valid"), data[:120])
                if not r.will_close:
                    return conn
        except (OSError, http.client.HTTPException) as e:
            self.stats.add("slow", t0, None, False, f"{type(e).__name__}: {e}")
        conn.close()
        return None

    def oversized(self, conn, i):
        t0 = time.monotonic()
        try:
            conn.putrequest("POST", "/classify")
            conn.putheader("Content-Type", "image/jpeg")
            conn.putheader("Content-Length", str(17_000_000))
            conn.endheaders()
            r = conn.getresponse()
            data = r.read()
            self.stats.add("oversized", t0, r.status, judge(r.status, r, data, "oversized"), data[:120])
        except (OSError, http.client.HTTPException) as e:
            self.stats.add("oversized", t0, None, False, f"{type(e).__name__}: {e}")
        conn.close()
        self.stop.wait(2)
        return None

    def burst_loop(self):
        while not self.stop.wait(15):
            workers = [threading.Thread(target=lambda: self.exchange(self.connect(), "burst", "valid", self.large,
                                                                     {"Content-Type": "image/jpeg",
                                                                      "Connection": "close"}))
                       for _ in range(MAX_QUEUE + 16)]
            for w in workers:
                w.start()
            for w in workers:
                w.join()

    def metrics_loop(self):
        while not self.stop.wait(1):
            conn = self.connect(10)
            t0 = time.monotonic()
            try:
                conn.request("GET", "/metrics")
                r = conn.getresponse()
                data = r.read()
                self.stats.add("metrics", t0, r.status, r.status == 200 and b"seresnet_http_requests_total" in data)
            except (OSError, http.client.HTTPException) as e:
                self.stats.add("metrics", t0, None, False, f"{type(e).__name__}: {e}")
            conn.close()

    def start(self):
        targets = [self.loop(self.raw), self.loop(self.raw), self.loop(self.multipart), self.loop(self.bad_requests),
                   self.loop(self.slow), self.loop(self.oversized), self.burst_loop, self.metrics_loop]
        for target in targets:
            t = threading.Thread(target=target, daemon=True)
            t.start()
            self.threads.append(t)

    def join(self):
        for t in self.threads:
            t.join(120)


def proc_sample(pid):
    with open(f"/proc/{pid}/status") as f:
        fields = dict(line.split(":", 1) for line in f if ":" in line)
    rss_kib = int(fields["VmRSS"].split()[0])
    threads = int(fields["Threads"])
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    return rss_kib, fds, threads


def percentile(values, q):
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


def main():
    try:
        return soak()
    finally:
        if SERVER is not None and SERVER.poll() is None:
            SERVER.kill()
            SERVER.wait()


SERVER = None


def soak():
    global SERVER
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--bin", default=os.environ.get("SERESNET_BIN", str(BINARY)))
    parser.add_argument("--model", default=str(fixture("tiny-seresnet")))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--csv", required=True)
    parser.add_argument("--png")
    parser.add_argument("--log", default=os.devnull)
    args = parser.parse_args()

    port = free_port()
    service = ServiceProcess(args.bin, args.model, "--threads", str(args.threads), "--max-queue", str(MAX_QUEUE),
                             "--log-level", "warning", port=port, log_path=args.log)
    server = SERVER = service.process

    def interrupted(*_):
        server.kill()
        os._exit(143)

    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGINT, interrupted)
    try:
        service.wait_ready(timeout=60)
    except (RuntimeError, TimeoutError) as e:
        print(f"soak: FAIL: the server did not become ready: {e}")
        return 1
    print(f"soak: pid {server.pid} on :{port}, model {args.model}, {args.threads} threads, --max-queue {MAX_QUEUE}, "
          f"{args.minutes:g} minutes", flush=True)

    stats, stop = Stats(), threading.Event()
    traffic = Traffic(port, stats, stop)
    start = time.monotonic()
    traffic.start()
    rows = []
    consumed = 0
    crashed = False
    next_sample = start + 1
    while len(rows) < args.minutes * 60:  # one row a second, however late a sample wakes
        time.sleep(max(0.0, next_sample - time.monotonic()))
        next_sample += 1
        if server.poll() is not None:
            crashed = True
            break
        rss, fds, nthreads = proc_sample(server.pid)
        with stats.lock:
            new = stats.events[consumed:]
            consumed = len(stats.events)
        latencies = [e[3] * 1000 for e in new if e[1] in ("raw", "multipart") and e[2] == 200]
        rows.append({"t_s": round(time.monotonic() - start, 2), "rss_mib": round(rss / 1024, 2), "fds": fds,
                     "threads": nthreads, "requests": len(new),
                     "valid_p50_ms": percentile(latencies, 50), "valid_p90_ms": percentile(latencies, 90),
                     "valid_p99_ms": percentile(latencies, 99), "valid_latencies": latencies,
                     "not_ok": sum(1 for e in new if not e[4])})
        if len(rows) % 60 == 0:
            minute = rows[-60:]
            p99 = percentile([x for r in minute for x in r["valid_latencies"]], 99)
            print(f"  minute {len(rows) // 60}: rss min {min(r['rss_mib'] for r in minute):.1f} / median "
                  f"{statistics.median(r['rss_mib'] for r in minute):.1f} / max {max(r['rss_mib'] for r in minute):.1f} MiB, "
                  f"fds {max(r['fds'] for r in minute)}, threads {max(r['threads'] for r in minute)}, "
                  f"{sum(r['requests'] for r in minute)} answers, p99 of valid "
                  f"{'-' if p99 is None else f'{p99:.1f}'} ms, "
                  f"unexpected {sum(r['not_ok'] for r in minute)}", flush=True)
    stop.set()
    traffic.join()
    exit_status = None
    if not crashed:
        server.send_signal(signal.SIGTERM)
        try:
            exit_status = server.wait(40)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()

    with open(args.csv, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=[k for k in rows[0] if k != "valid_latencies"] if rows else ["t_s"])
        writer.writeheader()
        for r in rows:
            writer.writerow({k: ("" if v is None else round(v, 3) if isinstance(v, float) else v)
                             for k, v in r.items() if k != "valid_latencies"})

    failures = []
    if crashed:
        failures.append(f"the server died (exit {server.returncode})")
    elif exit_status != 0:
        failures.append(f"SIGTERM: exit status {exit_status}, not 0")
    by_kind = {}
    for e in stats.events:
        d = by_kind.setdefault(e[1], {})
        key = "error" if e[2] is None else str(e[2])
        d[key] = d.get(key, 0) + 1
    unexpected = sum(1 for e in stats.events if not e[4])
    if unexpected:
        failures.append(f"{unexpected} unexpected answers or connection errors: {stats.problems[:5]}")
    minutes = [rows[i:i + 60] for i in range(0, len(rows) - 59, 60)]
    summary = {"requests": len(stats.events), "by_kind": by_kind, "unexpected": unexpected}
    # Minute 1 warms up; minute 2 is the baseline each later minute is compared with, so a check needs a third.
    if len(minutes) >= 3:
        floor = [min(r["rss_mib"] for r in m) for m in minutes]
        med = [statistics.median(r["rss_mib"] for r in m) for m in minutes]
        fds_med = [statistics.median(r["fds"] for r in m) for m in minutes]
        fds_max = [max(r["fds"] for r in m) for m in minutes]
        thr_med = [statistics.median(r["threads"] for r in m) for m in minutes]
        thr_max = [max(r["threads"] for r in m) for m in minutes]
        p99 = [percentile([x for r in m for x in r["valid_latencies"]], 99) for m in minutes]
        summary.update({"rss_mib_minute_minima": floor, "rss_mib_minute_medians": med,
                        "rss_mib_max": max(r["rss_mib"] for r in rows), "fds_minute_medians": fds_med,
                        "fds_minute_max": fds_max, "threads_minute_max": thr_max, "p99_ms_per_minute": p99})
        # Resident memory swings by 100 MiB within a second as 4096x4096 decodes (48 MiB of pixels each) come
        # and go, so a minute's median depends on how many samples caught one; its minimum, the memory kept
        # between requests, is what a leak raises.
        for i, m in enumerate(floor[1:], start=2):
            if abs(m / floor[1] - 1) > 0.05:
                failures.append(f"resident memory: minute {i} minimum {m:.1f} MiB vs {floor[1]:.1f} MiB in minute 2")
        # Maxima count a burst's 32 connections when a sample caught it; medians are what leaks would raise.
        if fds_med[-1] > fds_med[1] + 2:
            failures.append(f"descriptors grew: minute medians {fds_med}")
        if thr_med[-1] > thr_med[1] + 2:
            failures.append(f"threads grew: minute medians {thr_med}")
        for kind in ("raw", "multipart", "bad", "slow", "oversized", "burst", "metrics"):
            if not by_kind.get(kind):
                failures.append(f"no {kind} request was answered")
    else:
        failures.append("shorter than 3 minutes: no minute to compare with minute 2")
    print("soak: " + json.dumps(summary), flush=True)

    if args.png:
        plot(rows, args.png, args)
        print(f"soak: plot {args.png}, series {args.csv}")
    for f in failures:
        print(f"soak: FAIL: {f}")
    print("soak: PASS" if not failures else "soak: FAIL")
    return 1 if failures else 0


def plot(rows, path, args):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = [r["t_s"] / 60 for r in rows]
    fig, axes = plt.subplots(4, 1, figsize=(10, 10), sharex=True)
    minutes = [rows[i:i + 60] for i in range(0, len(rows) - 59, 60)]
    axes[0].plot(t, [r["rss_mib"] for r in rows], lw=0.6, label="per second")
    axes[0].hlines([min(r["rss_mib"] for r in m) for m in minutes], range(len(minutes)),
                   range(1, len(minutes) + 1), color="black", lw=1.2, label="minimum per minute")
    axes[0].legend(loc="upper right")
    axes[0].set_ylabel("resident MiB")
    axes[1].plot(t, [r["fds"] for r in rows], lw=0.8, label="open descriptors")
    axes[1].plot(t, [r["threads"] for r in rows], lw=0.8, label="threads")
    axes[1].legend(loc="upper right")
    axes[1].set_ylabel("count")
    for key, label in (("valid_p50_ms", "p50"), ("valid_p99_ms", "p99 (per second)")):
        axes[2].plot(t, [r[key] if r[key] is not None else float("nan") for r in rows], lw=0.6, label=label)
    axes[2].hlines([percentile([x for r in m for x in r["valid_latencies"]], 99) for m in minutes],
                   range(len(minutes)), range(1, len(minutes) + 1), color="black", lw=1.2, label="p99 per minute")
    axes[2].set_yscale("log")
    axes[2].set_ylabel("valid /classify ms")
    axes[2].legend(loc="upper right")
    axes[3].plot(t, [r["requests"] for r in rows], lw=0.6)
    axes[3].set_ylabel("answers per second")
    axes[3].set_xlabel("minutes")
    fig.suptitle(f"seresnet soak: {os.path.basename(args.model.rstrip('/'))}, {args.threads} threads, "
                 f"mixed traffic, {args.minutes:g} min")
    fig.tight_layout()
    fig.savefig(path, dpi=90)


if __name__ == "__main__":
    sys.exit(main())
