#!/usr/bin/env python3
"""Independent oracle and benchmark peer for the engine: builds the same (SE-)ResNet as an ONNX graph straight
from a timm model directory (model.safetensors + config.json) and runs it with onnxruntime.

Nothing here shares code with the Swift engine: BatchNorm stays a BatchNormalization node (onnxruntime folds
it itself), SE is GlobalAveragePool → Conv → Relu → Conv → Sigmoid → Mul, exactly timm's module graph.

  onnx_reference.py export MODEL_DIR OUT.onnx
  onnx_reference.py logits MODEL_DIR INPUT.f32 BATCH OUT.f32 [--threads T]
  onnx_reference.py bench  MODEL_DIR --batch B [--threads 2] [--iterations N] [--warmup W]   (prints JSON)
"""
import argparse
import json
import os
import re
import struct
import sys
import time

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

DTYPES = {"F32": np.float32, "F16": np.float16, "F64": np.float64, "I64": np.int64}


def read_safetensors(path):
    """Parses the safetensors layout by hand (8-byte LE header length, JSON header, raw data)."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        raw = data[begin:end]
        if entry["dtype"] == "BF16":
            bits = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
            array = bits.view(np.float32)
        else:
            array = np.frombuffer(raw, dtype=np.dtype(DTYPES[entry["dtype"]]).newbyteorder("<"))
        tensors[name] = array.reshape(entry["shape"]).astype(np.float32 if entry["dtype"] != "I64" else np.int64)
    return tensors


def build_model(model_dir):
    tensors = read_safetensors(os.path.join(model_dir, "model.safetensors"))
    config = json.load(open(os.path.join(model_dir, "config.json")))
    _, height, width = config.get("pretrained_cfg", {}).get("input_size", [3, 224, 224])
    nodes, inits = [], []

    def init(name):
        inits.append(numpy_helper.from_array(tensors[name].astype(np.float32), name))
        return name

    def conv_bn(x, conv, bn, stride, pad, relu, out):
        w = init(conv + ".weight")
        k = tensors[conv + ".weight"].shape[2]
        nodes.append(helper.make_node("Conv", [x, w], [out + "_conv"], kernel_shape=[k, k], strides=[stride, stride], pads=[pad] * 4))
        bn_inputs = [out + "_conv"] + [init(f"{bn}.{f}") for f in ("weight", "bias", "running_mean", "running_var")]
        nodes.append(helper.make_node("BatchNormalization", bn_inputs, [out + ("_bn" if relu else "")], epsilon=1e-5))
        if relu:
            nodes.append(helper.make_node("Relu", [out + "_bn"], [out]))
        return out

    x = conv_bn("input", "conv1", "bn1", 2, 3, True, "stem")
    nodes.append(helper.make_node("MaxPool", [x], ["pool"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]))
    x = "pool"
    blocks = sorted({(int(m.group(1)), int(m.group(2))) for k in tensors for m in [re.match(r"layer(\d+)\.(\d+)\.", k)] if m})
    for s, b in blocks:
        p = f"layer{s}.{b}"
        stride = 2 if (s > 1 and b == 0) else 1
        y = conv_bn(x, p + ".conv1", p + ".bn1", 1, 0, True, p + "_a")
        y = conv_bn(y, p + ".conv2", p + ".bn2", stride, 1, True, p + "_b")
        y = conv_bn(y, p + ".conv3", p + ".bn3", 1, 0, False, p + "_c")
        if p + ".se.fc1.weight" in tensors:
            nodes.append(helper.make_node("GlobalAveragePool", [y], [p + "_se_pool"]))
            nodes.append(helper.make_node("Conv", [p + "_se_pool", init(p + ".se.fc1.weight"), init(p + ".se.fc1.bias")], [p + "_se_fc1"], kernel_shape=[1, 1]))
            nodes.append(helper.make_node("Relu", [p + "_se_fc1"], [p + "_se_relu"]))
            nodes.append(helper.make_node("Conv", [p + "_se_relu", init(p + ".se.fc2.weight"), init(p + ".se.fc2.bias")], [p + "_se_fc2"], kernel_shape=[1, 1]))
            nodes.append(helper.make_node("Sigmoid", [p + "_se_fc2"], [p + "_se_gate"]))
            nodes.append(helper.make_node("Mul", [y, p + "_se_gate"], [p + "_se"]))
            y = p + "_se"
        shortcut = x
        if p + ".downsample.0.weight" in tensors:
            shortcut = conv_bn(x, p + ".downsample.0", p + ".downsample.1", stride, 0, False, p + "_down")
        nodes.append(helper.make_node("Add", [y, shortcut], [p + "_sum"]))
        nodes.append(helper.make_node("Relu", [p + "_sum"], [p + "_out"]))
        x = p + "_out"
    nodes.append(helper.make_node("GlobalAveragePool", [x], ["gap"]))
    nodes.append(helper.make_node("Flatten", ["gap"], ["features"], axis=1))
    nodes.append(helper.make_node("Gemm", ["features", init("fc.weight"), init("fc.bias")], ["logits"], transB=1))
    channels = tensors["conv1.weight"].shape[1]
    graph = helper.make_graph(
        nodes, "seresnet",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", channels, height, width])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", tensors["fc.weight"].shape[0]])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model, (channels, height, width)


def session(model, threads):
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    e = sub.add_parser("export"); e.add_argument("model_dir"); e.add_argument("out")
    l = sub.add_parser("logits"); l.add_argument("model_dir"); l.add_argument("input"); l.add_argument("batch", type=int); l.add_argument("out")
    l.add_argument("--threads", type=int, default=2)
    b = sub.add_parser("bench"); b.add_argument("model_dir"); b.add_argument("--batch", type=int, default=1)
    b.add_argument("--threads", type=int, default=2); b.add_argument("--iterations", type=int, default=20); b.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()

    model, shape = build_model(args.model_dir)
    if args.command == "export":
        onnx.save(model, args.out)
        return
    if args.command == "logits":
        x = np.fromfile(args.input, dtype="<f4").reshape((args.batch,) + shape)
        logits = session(model, args.threads).run(["logits"], {"input": x})[0]
        logits.astype("<f4").tofile(args.out)
        return
    sess = session(model, args.threads)
    x = np.random.default_rng(1).uniform(-2, 2, size=(args.batch,) + shape).astype(np.float32)
    for _ in range(args.warmup):
        sess.run(["logits"], {"input": x})
    samples = []
    for _ in range(args.iterations):
        t = time.perf_counter()
        sess.run(["logits"], {"input": x})
        samples.append((time.perf_counter() - t) * 1e3)
    samples.sort()
    median = float(np.median(samples))
    print(json.dumps({"peer": "onnxruntime " + __import__("onnxruntime").__version__, "batch": args.batch, "threads": args.threads,
                      "median_ms": median, "p90_ms": samples[min(len(samples) - 1, int(0.9 * len(samples) + 0.999) - 1)],
                      "min_ms": samples[0], "images_per_second": args.batch / (median / 1e3)}))


if __name__ == "__main__":
    sys.exit(main())
