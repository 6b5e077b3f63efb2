#!/usr/bin/env python3
"""OpenVINO's own per-node time for a model (PERF_COUNT), grouped into the parts `seresnet bench --profile` names, to set
beside it: stem (with the max pool), layerN conv1 / conv2 / conv3 / downsample / se / add, head, and what fits none.

OpenVINO fuses: each runtime node lists the model's nodes it took in (`originalLayersNames`), which name the part. Its
fusions differ from this engine's: the first block of each stage adds the residual in its downsample's post-op (here in
`add`), and SE's scale, the residual and the ReLU are one node (`add`, as here). Reorders between layouts and
precisions are their own line.

  Benchmarks/profile-openvino.py MODEL.onnx [--batch 1] [--runs 30] [--threads 2] [--f32]
Export the ONNX model with `Tests/python/onnx_reference.py export MODEL_DIR MODEL.onnx`. Without --f32, OpenVINO's default
inference precision (bf16 on CPUs with AVX512_BF16; the script prints it).
"""
import argparse
import collections
import re
import time

import numpy as np
import openvino as ov


def part(node_type, original):
    """The `seresnet bench --profile` part a runtime node belongs to, from the model nodes it fused."""
    names = original.split(",")
    if node_type == "Reorder":
        return "reorders"
    if any(n in ("stem", "pool") for n in names):
        return "stem"
    blocks = [m for m in map(re.compile(r"layer(\d)\.\d+_(.*)").match, names) if m]
    if not blocks:
        head = node_type in ("FullyConnected", "Reduce") or "head" in original or "fc" in original
        return "head" if head else f"other {node_type}"
    stage = f"layer{blocks[0].group(1)}"
    suffixes = [m.group(2) for m in blocks]
    if any(s.startswith(("se_pool", "se_fc", "se_relu", "se_gate")) for s in suffixes):
        return f"{stage} se"
    if "down" in suffixes:
        return f"{stage} downsample"
    if any(s in ("se", "sum", "out") for s in suffixes):
        return f"{stage} add"
    convolution = {"a": "conv1", "a_bn": "conv1", "b": "conv2", "b_bn": "conv2", "c": "conv3", "c_bn": "conv3"}
    return f"{stage} {next((convolution[s] for s in suffixes if s in convolution), 'other')}"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--f32", action="store_true", help="INFERENCE_PRECISION_HINT f32 instead of OpenVINO's default")
    args = parser.parse_args()

    core = ov.Core()
    model = core.read_model(args.model)
    model.reshape({model.inputs[0].get_any_name(): [args.batch, 3, 224, 224]})
    config = {"INFERENCE_NUM_THREADS": args.threads, "PERF_COUNT": True}
    if args.f32:
        config["INFERENCE_PRECISION_HINT"] = "f32"
    compiled = core.compile_model(model, "CPU", config)
    nodes = {}
    for op in compiled.get_runtime_model().get_ordered_ops():
        info = op.get_rt_info()
        nodes[op.get_friendly_name()] = part(info["layerType"].astype(str), info["originalLayersNames"].astype(str))
    request = compiled.create_infer_request()
    x = np.random.default_rng(1).uniform(-2, 2, size=(args.batch, 3, 224, 224)).astype(np.float32)
    for _ in range(3):
        request.infer({0: x})
    parts = collections.defaultdict(float)
    walls = []
    for _ in range(args.runs):
        start = time.perf_counter()
        request.infer({0: x})
        walls.append(time.perf_counter() - start)
        for info in request.profiling_info:
            parts[nodes.get(info.node_name, f"other {info.node_type}")] += info.real_time.total_seconds()
    precision = compiled.get_property("INFERENCE_PRECISION_HINT")
    print(f"OpenVINO {ov.__version__}, inference precision {precision}, batch {args.batch}, {args.threads} threads, "
          f"{args.runs} runs (ms per run, means)")
    wall = sorted(walls)[len(walls) // 2]
    print(f"wall (infer call) median {wall * 1e3:.2f}, sum of nodes {sum(parts.values()) / args.runs * 1e3:.2f}")

    def order(name):
        m = re.match(r"layer(\d) (\w+)", name)
        kinds = ["conv1", "conv2", "conv3", "se", "downsample", "add", "other"]
        if name == "stem":
            return (0, 0)
        if m:
            return (int(m.group(1)), kinds.index(m.group(2)) if m.group(2) in kinds else 9)
        return (5, 0) if name == "head" else (6, name)

    for name in sorted((name for name in parts if parts[name] > 0), key=order):
        print(f"  {name:<22} {parts[name] / args.runs * 1e3:7.3f}")


if __name__ == "__main__":
    main()
