#!/usr/bin/env python3
"""Reduced precision, side by side: speed and agreement with fp32 for seresnet fp32 and bf16, OpenVINO with its default
(bf16 on CPUs with AVX512_BF16) and with the f32 hint, and onnxruntime, on the same weights and threads; with --int8,
also seresnet int8 and onnxruntime's static QDQ int8 model (per-channel s8 weights, u8 activations) run by onnxruntime
and by OpenVINO, both calibrated on the same `--calibration-crops` crops (other crops than the judged ones, written as
JPEGs at quality 95: `seresnet calibrate` reads them through its own decoding, onnxruntime through timm's transform).

Model: a conditioned synthetic SE-ResNet-50 (`seresnet synth-weights --conditioned`: bn3 ×0.2, logits spread like a
confident classifier's), on which fp32 implementations agree exactly, so a precision's losses show; exported to ONNX
by Tests/python/onnx_reference.py for the peers.

Speed: per batch size, each round runs every engine once (`seresnet bench --json`; the peers in their own processes
with `--peer`), in an order that rotates from round to round; reported: the median over rounds of each round's median
latency, and each engine's ratio to OpenVINO's default; the median over rounds of the ratio within a round (paired:
engines a few seconds apart, which on a host that switches between a quiet and a slow mode for minutes at a time are
mostly in the same mode); and each engine's fastest round.

Agreement: `--crops` crops of the fixtures' natural photos (seeded positions and sizes, each through timm's eval
transform), run by every engine at batch 8; against seresnet fp32: top-1 agreement, mean top-5 overlap |T5 ∩ T5'|/5,
and over images the max and the median of max |Δp| (softmax probabilities).

With --avx2, also seresnet on its AVX2 kernels (`--kernels avx2`, as on CPUs without AVX-512): fp32, and int8 with --int8
(VPMADDUBSW, 7-bit weights), with the ratio of the two; and OpenVINO held to AVX2 (ONEDNN_MAX_CPU_ISA=AVX2) with the f32
hint and, with --int8, on the QDQ model: the same instruction set's peers.

  Benchmarks/bench-precision.py [--model DIR] [--batches 1 8] [--rounds 5] [--iterations 20] [--threads 2] [--crops 96]
                                [--int8 [--calibration-crops 32] [--method minmax|percentile|entropy]] [--avx2]

Needs the release binary, and python3 with numpy, pillow, onnx, onnxruntime and openvino (pip install openvino).
"""
import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "Tests" / "python"))
sys.path.insert(0, str(ROOT / "Tests" / "Fixtures"))
from harness import BINARY, fixture  # noqa: E402

PEERS = ["openvino-default", "openvino-f32", "onnxruntime"]
# With --int8: the static QDQ model, run by onnxruntime and by OpenVINO.
INT8_PEERS = ["onnxruntime-int8", "openvino-int8"]
# With --avx2: OpenVINO held to AVX2 (oneDNN honours ONEDNN_MAX_CPU_ISA), f32 and (with --int8) the QDQ model.
AVX2_PEERS = ["openvino-f32-avx2", "openvino-int8-avx2"]
# Photos (not the degenerate or bad fixtures) the agreement crops are cut from.
PHOTOS = ["cat-baseline-420.jpg", "cat-444.jpg", "coffee-422.jpg", "coffee-progressive.jpg", "astronaut-restart.jpg",
          "astronaut-large-4096x4096.jpg", "cat-wide-1600x300.jpg", "cat-cmyk.jpg", "astronaut-exif-orientation6.jpg"]


def peer_session(name, onnx_path, threads):
    """A function from a (B, 3, H, W) float32 array to logits, for one peer."""
    if name.startswith("onnxruntime"):
        import onnxruntime as ort
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
        return lambda x: session.run(["logits"], {"input": x})[0], f"onnxruntime {ort.__version__}"
    import openvino as ov
    core = ov.Core()
    config = {"INFERENCE_NUM_THREADS": threads}
    if name.startswith("openvino-f32"):
        config["INFERENCE_PRECISION_HINT"] = "f32"
    model = core.read_model(str(onnx_path))
    compiled = {}

    def run(x):
        # One compiled model per batch size (static shapes, as OpenVINO serves them best).
        if x.shape[0] not in compiled:
            model.reshape({"input": list(x.shape)})
            compiled[x.shape[0]] = core.compile_model(model, "CPU", config)
        return compiled[x.shape[0]]({"input": x})[compiled[x.shape[0]].output(0)]

    run(np.zeros((1, 3, 224, 224), np.float32))
    hint = compiled[1].get_property("INFERENCE_PRECISION_HINT")
    held = f", ONEDNN_MAX_CPU_ISA={os.environ['ONEDNN_MAX_CPU_ISA']}" if "ONEDNN_MAX_CPU_ISA" in os.environ else ""
    return run, f"OpenVINO {ov.__version__} ({name.split('-')[1]}: inference precision {hint}{held})"


def peer_main(args):
    """`--peer NAME`: times one peer, or writes its logits for `--input`; prints one JSON line."""
    run, label = peer_session(args.peer, args.onnx, args.threads)
    if args.input:
        x = np.fromfile(args.input, dtype="<f4").reshape(-1, 3, 224, 224)
        logits = np.concatenate([run(x[i:i + args.batch]) for i in range(0, len(x), args.batch)])
        logits.astype("<f4").tofile(args.output)
        print(json.dumps({"peer": label}))
        return
    x = np.random.default_rng(1).uniform(-2, 2, size=(args.batch, 3, 224, 224)).astype(np.float32)
    for _ in range(3):
        run(x)
    samples = []
    for _ in range(args.iterations):
        t = time.perf_counter()
        run(x)
        samples.append((time.perf_counter() - t) * 1e3)
    print(json.dumps({"peer": label, "median_ms": float(np.median(samples))}))


def quantize_qdq(onnx_path, out_path, calibration, method):
    """onnxruntime's static QDQ quantization of `onnx_path`: per-channel s8 weights, u8 activations, calibrated on the
    (N, 3, 224, 224) `calibration` tensors with `method` (MinMax, Percentile or Entropy)."""
    from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType, quantize_static

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.items = iter([{"input": calibration[i:i + 1]} for i in range(len(calibration))])

        def get_next(self):
            return next(self.items, None)

    methods = {"minmax": CalibrationMethod.MinMax, "percentile": CalibrationMethod.Percentile, "entropy": CalibrationMethod.Entropy}
    quantize_static(str(onnx_path), str(out_path), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, calibrate_method=methods[method])


def run_json(command):
    # OpenVINO's AVX2 peers: oneDNN reads the cap when it loads, so it goes in the peer process's environment.
    environment = dict(os.environ, ONEDNN_MAX_CPU_ISA="AVX2") if any(str(c).endswith("-avx2") for c in command) else None
    output = subprocess.run(command, check=True, capture_output=True, text=True, env=environment).stdout
    return json.loads(output.strip().splitlines()[-1])


def crops(count, size=224, seed=2026, jpeg_directory=None):
    """`count` crops of the fixture photos through timm's eval transform, (count, 3, size, size) float32. With
    `jpeg_directory`, each crop is first written there as a JPEG (quality 95) and the tensor made from that file."""
    from PIL import Image, ImageOps
    from timm_transform import eval_transform_for
    transform = eval_transform_for(fixture("tiny-seresnet/config.json"))
    images = [ImageOps.exif_transpose(Image.open(fixture(f"images/{name}"))).convert("RGB") for name in PHOTOS]
    rng = np.random.default_rng(seed)
    out = np.empty((count, 3, size, size), np.float32)
    for i in range(count):
        image = images[i % len(images)]
        w, h = image.size
        side = int(rng.uniform(0.35, 1.0) * min(w, h))
        x0, y0 = int(rng.uniform(0, w - side + 1)), int(rng.uniform(0, h - side + 1))
        crop = image.crop((x0, y0, x0 + side, y0 + side))
        if jpeg_directory is not None:
            path = pathlib.Path(jpeg_directory) / f"crop-{i:03d}.jpg"
            crop.save(path, quality=95)
            crop = Image.open(path).convert("RGB")
        out[i] = transform(crop)
    return out


def softmax(logits):
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def agreement(reference, logits):
    p, q = softmax(reference), softmax(logits)
    top1 = float(np.mean(p.argmax(1) == q.argmax(1)))
    t5p, t5q = np.argsort(-p, 1)[:, :5], np.argsort(-q, 1)[:, :5]
    top5 = float(np.mean([len(set(a) & set(b)) / 5 for a, b in zip(t5p, t5q)]))
    worst = np.abs(p - q).max(axis=1)
    return {"top1": top1, "top5_overlap": top5, "max_dp": float(worst.max()), "median_dp": float(np.median(worst))}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="model directory (default: a conditioned synthetic SE-ResNet-50)")
    parser.add_argument("--binary", default=str(BINARY))
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--crops", type=int, default=96)
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--int8", action="store_true", help="also seresnet int8 and onnxruntime's QDQ int8 model (onnxruntime, OpenVINO)")
    parser.add_argument("--calibration-crops", type=int, default=32)
    parser.add_argument("--method", default="minmax", choices=["minmax", "percentile", "entropy"])
    parser.add_argument("--avx2", action="store_true", help="also seresnet on its AVX2 kernels (fp32, and int8 with --int8)")
    parser.add_argument("--peer", choices=PEERS + INT8_PEERS + AVX2_PEERS, help=argparse.SUPPRESS)
    parser.add_argument("--onnx", help=argparse.SUPPRESS)
    parser.add_argument("--batch", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--input", help=argparse.SUPPRESS)
    parser.add_argument("--output", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.peer:
        return peer_main(args)

    work = tempfile.TemporaryDirectory()
    model = args.model
    if model is None:
        model = os.path.join(work.name, "model")
        subprocess.run([args.binary, "synth-weights", "--out", model, "--preset", "seresnet50", "--conditioned"], check=True,
                       stdout=subprocess.DEVNULL)
    onnx_path = pathlib.Path(work.name) / "model.onnx"
    subprocess.run([sys.executable, str(ROOT / "Tests" / "python" / "onnx_reference.py"), "export", model, str(onnx_path)], check=True)
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; CPU {cpu}, {os.cpu_count()} CPUs; threads {args.threads}; model {model}")

    peers = PEERS + (INT8_PEERS if args.int8 else []) + ([p for p in AVX2_PEERS if args.int8 or "int8" not in p] if args.avx2 else [])
    precisions = ["fp32", "bf16"] + (["int8"] if args.int8 else [])
    # (precision, kernels) of our engines: the default kernels, and with --avx2 the AVX2 ones.
    variants = [(p, "auto") for p in precisions] + ([(p, "avx2") for p in ["fp32", "int8"] if p in precisions] if args.avx2 else [])

    def our_name(precision, kernels):
        return f"seresnet {precision}" + ("" if kernels == "auto" else f" {kernels}")
    calibration = pathlib.Path(work.name) / "calibration.json"
    qdq_path = pathlib.Path(work.name) / "model-qdq.onnx"
    if args.int8:
        # The same calibration crops for both: as JPEGs for seresnet calibrate, as tensors from those JPEGs for onnxruntime.
        jpegs = pathlib.Path(work.name) / "calibration-crops"
        jpegs.mkdir()
        tensors = crops(args.calibration_crops, seed=7, jpeg_directory=jpegs)
        print(subprocess.run([args.binary, "calibrate", "--model", model, "--images", str(jpegs), "--method", args.method, "--out",
                              str(calibration), "--threads", str(args.threads)], check=True, capture_output=True, text=True).stdout)
        quantize_qdq(onnx_path, qdq_path, tensors, args.method)
        print(f"calibrated on {args.calibration_crops} crops ({args.method}): {calibration.name}, {qdq_path.name}")

    def ours(precision, kernels, batch, iterations):
        return [args.binary, "bench", "--model", model, "--batch", str(batch), "--iterations", str(iterations), "--threads",
                str(args.threads), "--precision", precision, "--kernels", kernels, "--calibration", str(calibration), "--json"]

    def peer(name, batch, iterations):
        return [sys.executable, __file__, "--peer", name, "--onnx", str(qdq_path if "int8" in name else onnx_path), "--batch",
                str(batch), "--iterations", str(iterations), "--threads", str(args.threads)]

    engines = {our_name(p, k): (lambda b, i, p=p, k=k: ours(p, k, b, i)) for p, k in variants}
    engines.update({name: (lambda b, i, name=name: peer(name, b, i)) for name in peers})
    labels = {}
    if not args.skip_speed:
        print(f"\nspeed: {args.rounds} rounds, order rotating; median over rounds of each round's median latency (ms per batch);"
              " paired: the median over rounds of the ratio to OpenVINO's default in the same round; best: the fastest round")
        names = list(engines)
        for batch in args.batches:
            iterations = max(3, args.iterations // batch)
            samples = {name: [] for name in names}
            for r in range(args.rounds):
                for name in names[r % len(names):] + names[:r % len(names)]:
                    result = run_json(engines[name](batch, iterations))
                    samples[name].append(result["median_ms"])
                    labels.setdefault(name, result.get("peer", name))
            reference = statistics.median(samples["openvino-default"])
            print(f"batch {batch}:")
            for name in names:
                m = statistics.median(samples[name])
                paired = statistics.median(a / b for a, b in zip(samples[name], samples["openvino-default"]))
                print(f"  {name:<19} {m:8.2f} ms  × OpenVINO default {m / reference:5.2f}  paired {paired:5.2f}"
                      f"  best {min(samples[name]):8.2f} ms   ({labels[name]})")
            if "seresnet int8 avx2" in samples:
                ratio = statistics.median(samples["seresnet int8 avx2"]) / statistics.median(samples["seresnet fp32 avx2"])
                print(f"  seresnet int8 avx2 / seresnet fp32 avx2: {ratio:.2f}")

    print(f"\nagreement with seresnet fp32 over {args.crops} crops of the fixture photos (batch 8)")
    x = crops(args.crops)
    inputs = pathlib.Path(work.name) / "crops.f32"
    logits = {}
    for precision, kernels in variants:
        if (precision, kernels) == ("fp32", "avx2"):
            continue
        out = []
        for i in range(0, len(x), 8):
            chunk = x[i:i + 8]
            chunk.astype("<f4").tofile(inputs)
            dump = pathlib.Path(work.name) / "logits.f32"
            subprocess.run([args.binary, "bench", "--model", model, "--batch", str(len(chunk)), "--iterations", "1", "--warmup", "0",
                            "--threads", str(args.threads), "--precision", precision, "--kernels", kernels, "--calibration",
                            str(calibration), "--input",
                            str(inputs), "--dump-logits", str(dump), "--json"], check=True, capture_output=True)
            out.append(np.fromfile(dump, dtype="<f4").reshape(len(chunk), -1))
        logits[our_name(precision, kernels)] = np.concatenate(out)
    x.astype("<f4").tofile(inputs)
    for name in peers:
        dump = pathlib.Path(work.name) / f"{name}.f32"
        model_file = qdq_path if "int8" in name else onnx_path
        result = run_json([sys.executable, __file__, "--peer", name, "--onnx", str(model_file), "--batch", "8", "--input", str(inputs),
                           "--output", str(dump), "--threads", str(args.threads)])
        labels.setdefault(name, result["peer"])
        logits[name] = np.fromfile(dump, dtype="<f4").reshape(len(x), -1)
    reference = logits["seresnet fp32"]
    print(f"  {'engine':<19} {'top-1':>7} {'top-5':>7} {'max |Δp|':>9} {'median |Δp|':>12}")
    for name, values in logits.items():
        if name == "seresnet fp32":
            continue
        a = agreement(reference, values)
        print(f"  {name:<19} {100 * a['top1']:6.1f}% {100 * a['top5_overlap']:6.1f}% {a['max_dp']:9.4f} {a['median_dp']:12.5f}")
    work.cleanup()


if __name__ == "__main__":
    main()
