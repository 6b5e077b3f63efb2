#!/usr/bin/env python3
"""What the Open Inference Protocol surface costs, measured against the service itself on one machine in one run.

1. Per-image overhead: the same JPEG sent one request at a time over a keep-alive connection to POST /classify (raw
   body) and to POST /v2/models/{m}/infer (binary tensor extension, one element, classification extension top 5, the
   form tritonclient sends), in alternating rounds; reported: the median over rounds of each side's median latency,
   and their difference. Run on the tiny fixture model by default so that the engine's time does not drown the
   difference (the overhead does not depend on the model).
2. Batch of 8: images/s of OIP requests each carrying 8 JPEGs (binary extension, sent back to back on one
   connection) against `seresnet bench --batch 8` (the engine alone, no decoding, no HTTP) on a full-size synthetic
   SE-ResNet-50, alternating; the difference is JPEG decoding and preprocessing of 8 images plus HTTP.

  Benchmarks/bench-oip.py [--rounds 5] [--requests 40] [--batches 6] [--image FILE] [--binary PATH]
"""
import argparse
import json
import os
import pathlib
import statistics
import struct
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "Tests" / "python"))
from harness import BINARY, ServiceProcess, fixture  # noqa: E402

MODEL = "bench"


def binary_request(images, class_count=5):
    tensor = b"".join(struct.pack("<I", len(image)) + image for image in images)
    output = {"name": "probabilities", "parameters": {"binary_data": True}}
    if class_count:
        output["parameters"]["classification"] = class_count
    header = json.dumps({"inputs": [{"name": "image", "shape": [len(images)], "datatype": "BYTES",
                                     "parameters": {"binary_data_size": len(tensor)}}], "outputs": [output]}).encode()
    return header + tensor, {"Inference-Header-Content-Length": str(len(header))}


def timed(connection, path, body, headers):
    start = time.perf_counter()
    connection.request("POST", path, body=body, headers=headers)
    response = connection.getresponse()
    response.read()
    elapsed = time.perf_counter() - start
    if response.status != 200:
        raise RuntimeError(f"{path}: {response.status}")
    return elapsed


def overhead(binary, image, rounds, requests):
    service = ServiceProcess(binary, fixture("tiny-seresnet"), "--model-name", MODEL, "--max-batch-delay-ms", "0")
    try:
        service.wait_ready()
        connection = service.connection()
        oip_body, oip_headers = binary_request([image])
        sides = {"classify": ("/classify", image, {}), "v2": (f"/v2/models/{MODEL}/infer", oip_body, oip_headers)}
        for path, body, headers in sides.values():  # warm-up
            for _ in range(10):
                timed(connection, path, body, headers)
        medians = {name: [] for name in sides}
        for round_ in range(rounds):
            order = list(sides) if round_ % 2 == 0 else list(reversed(sides))
            for name in order:
                path, body, headers = sides[name]
                medians[name].append(statistics.median(timed(connection, path, body, headers) for _ in range(requests)) * 1000)
        connection.close()
        return {name: statistics.median(values) for name, values in medians.items()}
    finally:
        service.stop()


def batch_throughput(binary, image, rounds, batches, model_dir):
    service = ServiceProcess(binary, model_dir, "--model-name", MODEL, "--max-batch", "8")
    try:
        service.wait_ready()
        connection = service.connection(timeout=300)
        body, headers = binary_request([image] * 8)
        timed(connection, f"/v2/models/{MODEL}/infer", body, headers)  # warm-up
        results = {"oip": [], "bench": []}
        for round_ in range(rounds):
            for side in (["oip", "bench"] if round_ % 2 == 0 else ["bench", "oip"]):
                if side == "oip":
                    start = time.perf_counter()
                    for _ in range(batches):
                        timed(connection, f"/v2/models/{MODEL}/infer", body, headers)
                    results["oip"].append(8 * batches / (time.perf_counter() - start))
                else:
                    output = subprocess.run([str(binary), "bench", "--model", str(model_dir), "--batch", "8", "--iterations",
                                             str(batches), "--warmup", "1", "--json"], capture_output=True, text=True, check=True)
                    results["bench"].append(json.loads(output.stdout)["images_per_second"])
        connection.close()
        return {side: statistics.median(values) for side, values in results.items()}, results
    finally:
        service.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=str(BINARY))
    parser.add_argument("--image", default=str(fixture("images/cat-baseline-420.jpg")))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=40, help="requests per side and round (overhead)")
    parser.add_argument("--batches", type=int, default=6, help="batch-8 requests (or bench iterations) per side and round")
    parser.add_argument("--model", help="full-size model directory for the batch test (default: synthesize one)")
    args = parser.parse_args()
    binary = pathlib.Path(args.binary)
    image = pathlib.Path(args.image).read_bytes()
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {cpu}, {os.cpu_count()} CPUs, image {pathlib.Path(args.image).name}")

    latency = overhead(binary, image, args.rounds, args.requests)
    print(f"per-image latency, tiny model, c=1 keep-alive, median of {args.rounds} rounds × {args.requests}: "
          f"/classify {latency['classify']:.3f} ms, OIP binary {latency['v2']:.3f} ms, "
          f"overhead {latency['v2'] - latency['classify']:+.3f} ms ({latency['v2'] / latency['classify']:.3f}×)")

    with tempfile.TemporaryDirectory() as scratch:
        model_dir = args.model
        if not model_dir:
            model_dir = pathlib.Path(scratch) / "seresnet50"
            subprocess.run([str(binary), "synth-weights", "--out", str(model_dir), "--preset", "seresnet50", "--seed", "7"],
                           check=True, capture_output=True)
        medians, all_runs = batch_throughput(binary, image, args.rounds, args.batches, model_dir)
    print(f"batch of 8, synthetic SE-ResNet-50, median of {args.rounds} rounds: OIP {medians['oip']:.2f} images/s, "
          f"seresnet bench --batch 8 {medians['bench']:.2f} images/s, ratio {medians['oip'] / medians['bench']:.3f} "
          f"(rounds: OIP {[round(v, 2) for v in all_runs['oip']]}, bench {[round(v, 2) for v in all_runs['bench']]})")


if __name__ == "__main__":
    main()
