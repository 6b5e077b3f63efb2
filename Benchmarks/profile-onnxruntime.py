#!/usr/bin/env python3
"""onnxruntime's own per-node time for a model (its SessionOptions.enable_profiling), to set beside
`seresnet bench --profile`: total per operator type, then every Conv node.

  Benchmarks/profile-onnxruntime.py MODEL.onnx [--batch 1] [--runs 30] [--threads 2]
Export the ONNX model with `Tests/python/onnx_reference.py export MODEL_DIR MODEL.onnx`.
"""
import argparse
import collections
import json
import os

import numpy as np
import onnxruntime as ort


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.enable_profiling = True
    session = ort.InferenceSession(args.model, options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    shape = [args.batch] + [d for d in session.get_inputs()[0].shape[1:]]
    x = np.random.default_rng(1).random(shape, dtype=np.float32)
    for _ in range(3):
        session.run(None, {name: x})
    # Warm-up runs are profiled too; only the last `runs` are counted.
    for _ in range(args.runs):
        session.run(None, {name: x})
    path = session.end_profiling()
    events = [e for e in json.load(open(path)) if e.get("cat") == "Node" and e["name"].endswith("_kernel_time")]
    os.unlink(path)
    runs_seen = args.runs + 3
    by_op = collections.defaultdict(float)
    by_conv = collections.defaultdict(float)
    for e in events:
        by_op[e["args"].get("op_name")] += e["dur"]
        if e["args"].get("op_name") == "Conv":
            by_conv[e["name"].removesuffix("_kernel_time")] += e["dur"]
    print(f"batch {args.batch}, {args.threads} threads, mean over {runs_seen} runs (ms per run)")
    print(f"all nodes {sum(by_op.values()) / runs_seen / 1000:.2f}")
    for op, total in sorted(by_op.items(), key=lambda item: -item[1]):
        print(f"  {op:<24} {total / runs_seen / 1000:7.3f}")
    print("Conv nodes:")
    for node, total in sorted(by_conv.items()):
        print(f"  {node:<40} {total / runs_seen / 1000:7.3f}")


if __name__ == "__main__":
    main()
