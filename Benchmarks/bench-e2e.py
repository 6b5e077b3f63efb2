#!/usr/bin/env python3
"""End-to-end HTTP benchmark: `seresnet serve` vs the FastAPI + uvicorn + onnxruntime + Pillow peer
(Benchmarks/peer_fastapi_server.py, in both its thread-pool and its event-loop form), same synthetic SE-ResNet-50
weights, same image, same machine, one run.

For each concurrency, `hey` posts the JPEG to each server in alternating rounds; reported per server: the
median over rounds of requests/s and of p50 latency, plus any non-200 answers (must be none).

  Benchmarks/bench-e2e.py [--image FILE] [--concurrency 1 8] [--rounds 3] [--seconds 10] [--engines-compare] [--peer-workers N]
                          [--precision fp32|bf16|int8] [--peer-engine onnxruntime|openvino] [--conditioned]
                          [--tls-compare | --tracing-compare | --explain-compare]
--precision runs `seresnet serve --precision`; --peer-engine openvino runs the peer on OpenVINO with its defaults (bf16
where the CPU has AVX512_BF16), the comparison a bf16 user makes; --conditioned uses `synth-weights --conditioned`.
--precision int8 calibrates both sides on the same photos (bench-precision.py's list): `seresnet calibrate` writes the
model directory's calibration.json, onnxruntime's `quantize_static` the peer's QDQ model (per-channel s8 weights, u8
activations, minmax), which the peer runs on its engine: the comparison an int8 user makes.
With --engines-compare it measures `seresnet serve --engines 1` (one engine, 2 threads) against
`--engines 2` (two engines, 1 thread each) instead of the peer; with --tls-compare, `seresnet serve` over plain
HTTP against the same over HTTPS (a self-signed ECDSA P-256 certificate made with the openssl CLI; hey does not
verify it, and keeps its connections alive as the other modes do); with --tracing-compare, `seresnet serve` without
tracing, tracing every request to a live stand-in OTLP collector (Tests/python/otlp_collector.py), and tracing to a
dead collector (nothing listens); with --explain-compare, one server's KServe v1 :predict against :explain (top class,
and with ?heatmap=png) on the same JSON body.
"""
import argparse
import os
import pathlib
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "Tests" / "python"))
from harness import BINARY, ServiceProcess, fixture, free_port  # noqa: E402


def wait_ready(url, timeout=60):
    import ssl
    deadline = time.time() + timeout
    context = ssl._create_unverified_context()  # the benchmark's own self-signed certificate
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2, context=context) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(url)


def calibrate_both(binary, model, onnx_path, work):
    """int8: `seresnet calibrate` over bench-precision.py's photos into the model directory, and onnxruntime's static QDQ
    model of `onnx_path` calibrated on the same photos through timm's transform; returns the QDQ model's path."""
    import importlib.util
    import shutil
    import numpy as np
    from PIL import Image, ImageOps
    sys.path.insert(0, str(ROOT / "Tests" / "Fixtures"))
    from timm_transform import eval_transform_for
    spec = importlib.util.spec_from_file_location("bench_precision", ROOT / "Benchmarks" / "bench-precision.py")
    precision = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(precision)
    photos = work / "calibration-photos"
    photos.mkdir()
    for name in precision.PHOTOS:
        shutil.copy(fixture(f"images/{name}"), photos / name)
    subprocess.run([binary, "calibrate", "--model", str(model), "--images", str(photos), "--threads", "2"], check=True,
                   stdout=subprocess.DEVNULL)
    transform = eval_transform_for(fixture("tiny-seresnet/config.json"))
    tensors = np.stack([transform(ImageOps.exif_transpose(Image.open(photos / name)).convert("RGB")) for name in precision.PHOTOS])
    qdq = work / "seresnet50-qdq.onnx"
    precision.quantize_qdq(onnx_path, qdq, tensors.astype(np.float32), "minmax")
    return qdq


def hey(url, image, concurrency, seconds, content_type="image/jpeg"):
    output = subprocess.run(["hey", "-z", f"{seconds}s", "-c", str(concurrency), "-m", "POST", "-T", content_type, "-D", str(image), url],
                            capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p50 = float(re.search(r"50%+ in ([\d.]+) secs", output).group(1)) * 1000
    codes = dict((int(c), int(n)) for c, n in re.findall(r"\[(\d+)\]\s+(\d+) responses", output))
    return rps, p50, codes


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=str(BINARY))
    parser.add_argument("--image", default=str(fixture("images/cat-baseline-420.jpg")))
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--engines-compare", action="store_true")
    parser.add_argument("--tls-compare", action="store_true", help="seresnet over HTTP vs HTTPS instead of the peer")
    parser.add_argument("--tracing-compare", action="store_true", help="seresnet without tracing, to a live collector, to a dead one")
    parser.add_argument("--explain-compare", action="store_true", help="KServe v1 :predict vs :explain on one server")
    parser.add_argument("--peer-workers", type=int, default=1,
                        help="uvicorn worker processes for the peer (each with its own 2-thread onnxruntime session)")
    parser.add_argument("--precision", default="fp32", choices=["fp32", "bf16", "int8"], help="seresnet serve --precision")
    parser.add_argument("--peer-engine", default="onnxruntime", choices=["onnxruntime", "openvino"])
    parser.add_argument("--conditioned", action="store_true", help="a conditioned synthetic model (synth-weights --conditioned)")
    args = parser.parse_args()

    work = tempfile.TemporaryDirectory()
    model = pathlib.Path(work.name) / "seresnet50"
    subprocess.run([args.binary, "synth-weights", "--out", str(model), "--preset", "seresnet50"] + (["--conditioned"] if args.conditioned else []),
                   check=True, stdout=subprocess.DEVNULL)
    servers = {}
    processes = []  # the peers' uvicorn processes
    services = []  # seresnet, through the tests' harness
    log = open(pathlib.Path(work.name) / "servers.log", "w")

    def seresnet(*extra_args):
        service = ServiceProcess(
            args.binary, model, "--threads", "2", "--log-level", "warning", "--precision", args.precision, *extra_args, port=free_port())
        services.append(service)
        return service.port

    # What each server is sent: the path, the body and its type (the JPEG to /classify unless a mode says otherwise).
    requests = {}
    if args.tracing_compare:
        sys.path.insert(0, str(ROOT / "Tests" / "python"))
        from otlp_collector import Collector
        collector = Collector()
        servers["no tracing"] = f"http://127.0.0.1:{seresnet()}"
        servers["tracing, live collector"] = f"http://127.0.0.1:{seresnet('--otel-traces-endpoint', collector.endpoint)}"
        servers["tracing, dead collector"] = f"http://127.0.0.1:{seresnet('--otel-traces-endpoint', 'http://127.0.0.1:1/v1/traces')}"
    elif args.explain_compare:
        import base64
        import json
        body = pathlib.Path(work.name) / "instances.json"
        body.write_text(json.dumps({"instances": [{"image": {"b64": base64.b64encode(open(args.image, "rb").read()).decode()}}]}))
        base = f"http://127.0.0.1:{seresnet('--model-name', 'm')}"
        for name, path in ((":predict", "/v1/models/m:predict"), (":explain", "/v1/models/m:explain"),
                           (":explain heatmap=png", "/v1/models/m:explain?heatmap=png")):
            servers[name] = base
            requests[name] = (path, body, "application/json")
    elif args.engines_compare:
        for name, engines in (("1 engine × 2 threads", "1"), ("2 engines × 1 thread", "2")):
            servers[name] = f"http://127.0.0.1:{seresnet('--engines', engines)}"
    elif args.tls_compare:
        cert, key = pathlib.Path(work.name) / "cert.pem", pathlib.Path(work.name) / "key.pem"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "30",
                        "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
        for name, tls in (("seresnet HTTP", []), ("seresnet HTTPS", ["--tls-cert", str(cert), "--tls-key", str(key)])):
            servers[name] = f"{'https' if tls else 'http'}://127.0.0.1:{seresnet(*tls)}"
    else:
        onnx_path = pathlib.Path(work.name) / "seresnet50.onnx"
        subprocess.run([sys.executable, str(ROOT / "Tests" / "python" / "onnx_reference.py"), "export", str(model), str(onnx_path)], check=True)
        if args.precision == "int8":
            onnx_path = calibrate_both(args.binary, model, onnx_path, pathlib.Path(work.name))
        servers[f"seresnet {args.precision}"] = f"http://127.0.0.1:{seresnet()}"
        for mode in ("threadpool", "eventloop"):
            port = free_port()
            processes.append(subprocess.Popen([sys.executable, "-m", "uvicorn", "--app-dir", str(ROOT / "Benchmarks"), "peer_fastapi_server:app",
                                               "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log",
                                               "--workers", str(args.peer_workers)],
                                              env=dict(os.environ, PEER_ONNX=str(onnx_path), PEER_THREADS="2", PEER_MODE=mode,
                                                       PEER_ENGINE=args.peer_engine), stderr=log))
            name = f"fastapi {args.peer_engine} ({mode})"
            servers[name if args.peer_workers == 1 else f"{name} ×{args.peer_workers}"] = f"http://127.0.0.1:{port}"
    try:
        for name, base in servers.items():
            if name.startswith("fastapi"):
                deadline = time.time() + 60
                while True:
                    try:
                        urllib.request.urlopen(urllib.request.Request(f"{base}/classify", data=open(args.image, "rb").read()), timeout=10).read()
                        break
                    except OSError:
                        if time.time() > deadline:
                            raise
                        time.sleep(0.2)
            else:
                wait_ready(f"{base}/readyz")

        def run_hey(name, base, concurrency, seconds):
            path, body, content_type = requests.get(name, ("/classify", args.image, "image/jpeg"))
            return hey(f"{base}{path}", body, concurrency, seconds, content_type)
        print(f"image {pathlib.Path(args.image).name}, {args.rounds} rounds × {args.seconds} s per server and concurrency (hey), medians")
        print(f"{'server':<24} {'conc':>4} {'req/s':>8} {'p50 ms':>8}  non-200")
        summary = {}
        for concurrency in args.concurrency:
            for name, base in servers.items():  # warm-up
                run_hey(name, base, concurrency, 2)
            rounds = {name: [] for name in servers}
            for r in range(args.rounds):
                order = list(servers.items()) if r % 2 == 0 else list(reversed(list(servers.items())))
                for name, base in order:
                    rounds[name].append(run_hey(name, base, concurrency, args.seconds))
            for name, results in rounds.items():
                rps = statistics.median(r[0] for r in results)
                p50 = statistics.median(r[1] for r in results)
                bad = sum(n for result in results for code, n in result[2].items() if code != 200)
                summary[(name, concurrency)] = (rps, p50)
                print(f"{name:<24} {concurrency:>4} {rps:>8.2f} {p50:>8.1f}  {bad}")
        names = list(servers)
        for concurrency in args.concurrency:
            a = summary[(names[0], concurrency)]
            for other in names[1:]:
                b = summary[(other, concurrency)]
                print(f"concurrency {concurrency}: {names[0]} / {other}: throughput ×{a[0] / b[0]:.2f}, p50 ×{a[1] / b[1]:.2f}")
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(timeout=40)
        for service in services:
            service.stop()


if __name__ == "__main__":
    main()
