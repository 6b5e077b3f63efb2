#!/usr/bin/env python3
"""This engine against OpenVINO part by part: `seresnet bench --profile` and `Benchmarks/profile-openvino.py` (OpenVINO's
own node times, grouped into the same parts) alternating for --rounds rounds, each part's median over the rounds, side
by side. The last lines add the parts up three ways: ours, OpenVINO's, and the best of both (each part at the faster
engine's time) as a fraction of OpenVINO's sum: what matching OpenVINO wherever it is faster would give, the bound on
closing the gap by catching up part by part rather than by doing less work.

  Benchmarks/compare-parts.py --model DIR --onnx M.onnx [--batch 1] [--rounds 5] [--precision bf16] [--f32]
Export the ONNX model with `Tests/python/onnx_reference.py export DIR M.onnx`. Without --f32, OpenVINO's default
inference precision (bf16 on CPUs with AVX512_BF16). Both run with 2 threads; build with `swift build -c release`.
"""
import argparse
import collections
import os
import platform
import re
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def cpu_model():
    with open("/proc/cpuinfo") as f:
        return next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), platform.processor())


def ours(args):
    command = [args.seresnet, "bench", "--model", args.model, "--batch", str(args.batch), "--precision", args.precision,
               "--threads", "2", "--iterations", str(args.runs), "--warmup", "3", "--profile"]
    text = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    parts = {m.group(1): float(m.group(2)) for m in re.finditer(r"^  (stem|head|layer\d \w+)\s+([\d.]+) ms", text, re.M)}
    return float(re.search(r"median ([\d.]+) ms", text).group(1)), parts


def openvino(args):
    command = [sys.executable, os.path.join(ROOT, "Benchmarks", "profile-openvino.py"), args.onnx, "--batch", str(args.batch),
               "--runs", str(args.runs)] + (["--f32"] if args.f32 else [])
    text = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    parts = {m.group(1): float(m.group(2)) for m in re.finditer(r"^  (\S+(?: \S+)?)\s+([\d.]+)$", text, re.M)}
    return float(re.search(r"median ([\d.]+)", text).group(1)), parts


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="model directory (timm HF layout)")
    parser.add_argument("--onnx", required=True, help="the same weights exported to ONNX")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=30, help="passes per engine and round")
    parser.add_argument("--precision", default="bf16", choices=["fp32", "bf16", "int8"])
    parser.add_argument("--f32", action="store_true", help="OpenVINO with the f32 hint instead of its default")
    parser.add_argument("--seresnet", default=os.path.join(ROOT, ".build", "release", "seresnet"))
    args = parser.parse_args()

    times = collections.defaultdict(lambda: ([], []))
    walls = ([], [])
    for _ in range(args.rounds):
        for side, run in ((0, ours), (1, openvino)):
            wall, parts = run(args)
            walls[side].append(wall)
            for name, ms in parts.items():
                times[name][side].append(ms)

    print(f"{cpu_model()}; batch {args.batch}, 2 threads, {args.rounds} alternating rounds of {args.runs} passes, "
          f"medians over the rounds (ms)")
    print(f"wall: seresnet {args.precision} {statistics.median(walls[0]):.2f}, OpenVINO "
          f"{'f32' if args.f32 else 'default'} {statistics.median(walls[1]):.2f}")
    print(f"  {'part':<20} {'seresnet':>9} {'OpenVINO':>9} {'difference':>10}")
    sums = [0.0, 0.0, 0.0]
    for name, (a, b) in times.items():
        # A part one engine does not have (OpenVINO's reorders) takes it no time.
        x = statistics.median(a) if a else 0.0
        y = statistics.median(b) if b else 0.0
        sums[0] += x
        sums[1] += y
        sums[2] += min(x, y)
        print(f"  {name:<20} {x:9.3f} {y:9.3f} {x - y:+10.3f}")
    print(f"sum of parts: seresnet {sums[0]:.2f} ({sums[0] / sums[1]:.3f}x OpenVINO's), OpenVINO {sums[1]:.2f}, "
          f"best of both {sums[2]:.2f} ({sums[2] / sums[1]:.3f}x OpenVINO's)")


if __name__ == "__main__":
    main()
