#!/usr/bin/env python3
"""Engine benchmark, side by side with onnxruntime on the same weights and threads, in one invocation.

Each round runs `seresnet bench --json` and onnxruntime (the same checkpoint exported to ONNX by
onnx_reference.py, intra_op_num_threads = --threads) back to back, alternating which goes first; the
reported figure per engine is the median over rounds of each round's median latency. The machine is shared
and noisy, so alternate and take medians rather than trusting one run.

  Benchmarks/bench-engine-vs-onnxruntime.py [--model DIR] [--batches 1 8] [--rounds 5] [--iterations 20] [--threads 2]
Without --model, a synthetic SE-ResNet-50 is written to a temporary directory first.
"""
import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]


def run_json(command):
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model")
    parser.add_argument("--binary", default=str(ROOT / ".build" / "release" / "seresnet"))
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    temporary = None
    model = args.model
    if model is None:
        temporary = tempfile.TemporaryDirectory()
        model = temporary.name
        subprocess.run([args.binary, "synth-weights", "--out", model, "--preset", "seresnet50"], check=True, stdout=subprocess.DEVNULL)

    print(f"model {model}, threads {args.threads}, {args.rounds} rounds × {args.iterations} iterations, medians of round medians")
    print(f"{'batch':>5}  {'seresnet ms/batch':>18}  {'onnxruntime ms/batch':>21}  {'ratio':>6}  {'seresnet img/s':>14}  {'GFLOP/s':>8}")
    results = []
    for batch in args.batches:
        iterations = max(3, args.iterations // batch)
        ours, peer, gflops = [], [], []
        for round_index in range(args.rounds):
            ours_cmd = [args.binary, "bench", "--model", model, "--batch", str(batch), "--iterations", str(iterations),
                        "--threads", str(args.threads), "--json"]
            peer_cmd = [sys.executable, str(ROOT / "Tests" / "python" / "onnx_reference.py"), "bench", model, "--batch", str(batch),
                        "--iterations", str(iterations), "--threads", str(args.threads)]
            order = [ours_cmd, peer_cmd] if round_index % 2 == 0 else [peer_cmd, ours_cmd]
            for command in order:
                result = run_json(command)
                if command is ours_cmd:
                    ours.append(result["median_ms"]); gflops.append(result["gflops"])
                else:
                    peer.append(result["median_ms"])
        o, p = statistics.median(ours), statistics.median(peer)
        results.append({"batch": batch, "seresnet_median_ms": o, "onnxruntime_median_ms": p, "ratio": o / p,
                        "seresnet_rounds_ms": ours, "onnxruntime_rounds_ms": peer})
        print(f"{batch:>5}  {o:>18.1f}  {p:>21.1f}  {o / p:>6.2f}  {batch / o * 1000:>14.1f}  {statistics.median(gflops):>8.1f}")
    if os.environ.get("BENCH_JSON"):
        pathlib.Path(os.environ["BENCH_JSON"]).write_text(json.dumps(results, indent=1))
    if temporary:
        temporary.cleanup()


if __name__ == "__main__":
    main()
