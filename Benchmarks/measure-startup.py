#!/usr/bin/env python3
"""Start-up time of `seresnet serve`: from exec to the first 200 from /readyz (weights loaded, validated,
BatchNorm folded, SHA-256 taken, engine planned and warmed up), for a full-size synthetic SE-ResNet-50.
Prints each run and the median; also the resident memory once ready.

  Benchmarks/measure-startup.py [--runs 5] [--model DIR]
"""
import argparse
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "Tests" / "python"))
from harness import BINARY, ServiceProcess, free_port  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=str(BINARY))
    parser.add_argument("--model")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    work = tempfile.TemporaryDirectory()
    model = args.model or str(pathlib.Path(work.name) / "seresnet50")
    if not args.model:
        subprocess.run([args.binary, "synth-weights", "--out", model, "--preset", "seresnet50"], check=True, stdout=subprocess.DEVNULL)
    times, rss = [], []
    for _ in range(args.runs):
        started = time.perf_counter()
        # A fixed port: the harness then waits for nothing but /readyz, polled every 2 ms.
        service = ServiceProcess(args.binary, model, "--log-level", "warning", port=free_port())
        try:
            service.wait_ready(interval=0.002)
            elapsed = (time.perf_counter() - started) * 1000
            times.append(elapsed)
            with open(f"/proc/{service.process.pid}/status") as status:
                rss.append(next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) / 1024)
        finally:
            service.stop()
        print(f"exec → /readyz 200: {elapsed:.0f} ms, RSS when ready {rss[-1]:.0f} MiB")
    print(f"median over {args.runs}: {statistics.median(times):.0f} ms (min {min(times):.0f}, max {max(times):.0f}); RSS {statistics.median(rss):.0f} MiB")


if __name__ == "__main__":
    main()
