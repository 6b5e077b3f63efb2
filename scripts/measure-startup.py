#!/usr/bin/env python3
"""Start-up time of `seresnet serve`: from exec to the first 200 from /readyz (weights loaded, validated,
BatchNorm folded, SHA-256 taken, engine planned and warmed up), for a full-size synthetic SE-ResNet-50.
Prints each run and the median; also the resident memory once ready.

  scripts/measure-startup.py [--runs 5] [--model DIR]
"""
import argparse
import pathlib
import signal
import socket
import statistics
import subprocess
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ready(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            return s.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=str(ROOT / ".build" / "release" / "seresnet"))
    parser.add_argument("--model")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    work = tempfile.TemporaryDirectory()
    model = args.model or str(pathlib.Path(work.name) / "seresnet50")
    if not args.model:
        subprocess.run([args.binary, "synth-weights", "--out", model, "--preset", "seresnet50"], check=True, stdout=subprocess.DEVNULL)
    times, rss = [], []
    for _ in range(args.runs):
        port = free_port()
        started = time.perf_counter()
        process = subprocess.Popen([args.binary, "serve", "--model", model, "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"])
        while not ready(port):
            if process.poll() is not None:
                raise SystemExit(f"serve exited with {process.returncode}")
            time.sleep(0.002)
        elapsed = (time.perf_counter() - started) * 1000
        times.append(elapsed)
        with open(f"/proc/{process.pid}/status") as status:
            rss.append(next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) / 1024)
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        print(f"exec → /readyz 200: {elapsed:.0f} ms, RSS when ready {rss[-1]:.0f} MiB")
    print(f"median over {args.runs}: {statistics.median(times):.0f} ms (min {min(times):.0f}, max {max(times):.0f}); RSS {statistics.median(rss):.0f} MiB")


if __name__ == "__main__":
    main()
