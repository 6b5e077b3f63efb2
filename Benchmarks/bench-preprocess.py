#!/usr/bin/env python3
"""Side-by-side benchmark: this package's JPEG → model input vs Pillow + timm's eval transform.

Both sides start from the JPEG bytes in memory and end with the normalized 3×224×224 float32 tensor:
  ours:  decodeJPEG (libjpeg-turbo; at full resolution as the service decodes by default, and with --dct-scaling
         also at the reduced DCT scale of `serve --jpeg-dct-scaling`) + preprocess (Pillow-exact resize fused with
         the crop)
  timm:  Image.open → ImageOps.exif_transpose → convert("RGB") → create_transform(**resolve_data_config(...))
         i.e. Resize(235, bicubic) → CenterCrop(224) → ToTensor → Normalize, with torch on one thread.
If timm/torch cannot be imported, an exactly equivalent Pillow + numpy pipeline is timed instead and the
output says so. Prints per-image medians and the ratio ours / reference, plus max |Δ| between outputs.

usage: Benchmarks/bench-preprocess.py [--iterations N] [--large-iterations N] [--rounds N] [--dct-scaling] [--photos] [image ...]
       --photos adds the large photos of Tests/Fixtures/make-photo-goldens.py (3000×2000, 4096×2304, …); an image is a
       fixture name or a path
       (run under the build lock on shared machines: flock /tmp/swift-build.lock Benchmarks/bench-preprocess.py)
Environment: SWIFTC, CLANG.
"""
import argparse
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "Tests" / "python"))
sys.path.insert(0, str(ROOT / "Tests" / "Fixtures"))
from harness import fixture  # noqa: E402
DEFAULT_IMAGES = ["cat-baseline-420.jpg", "astronaut-large-4096x4096.jpg", "coffee-progressive.jpg",
                  "astronaut-exif-orientation6.jpg", "cat-cmyk.jpg"]


def build_ours(build_dir: Path, optimization: str) -> Path:
    """Compiles Sources/Imaging + the benchmark main with the given Swift optimization (the package's is -O; C at -O2)."""
    swiftc = os.environ.get("SWIFTC") or shutil.which("swiftc")
    clang = os.environ.get("CLANG") or str(Path(os.path.realpath(swiftc)).parent / "clang")
    build_dir.mkdir(parents=True, exist_ok=True)
    modules = build_dir / "modules" / "CJPEG"
    modules.mkdir(parents=True, exist_ok=True)
    (modules / "module.modulemap").write_text(
        f'module CJPEG {{\n    header "{ROOT}/Sources/CJPEG/include/cjpeg.h"\n    export *\n}}\n')
    subprocess.run([clang, "-O2", "-I", str(ROOT / "Sources/CJPEG/include"), "-c",
                    str(ROOT / "Sources/CJPEG/cjpeg.c"), "-o", str(build_dir / "cjpeg.o")], check=True)
    sources = sorted(str(p) for p in (ROOT / "Sources/Imaging").glob("*.swift"))
    binary = build_dir / "bench-preprocess"
    subprocess.run([swiftc, optimization, "-parse-as-library", "-module-name", "PreprocessBenchmark",
                    "-I", str(modules), *sources, str(ROOT / "Benchmarks/bench-preprocess.swift"),
                    str(build_dir / "cjpeg.o"), "-ljpeg", "-o", str(binary)], check=True)
    return binary


def reference_pipeline(config_path: Path):
    """timm's eval transform for the model config, or its exact Pillow + numpy equivalent."""
    cfg = json.loads(config_path.read_text())["pretrained_cfg"]
    try:
        import torch
        from timm.data import create_transform, resolve_data_config
        torch.set_num_threads(1)
        data_config = resolve_data_config({}, pretrained_cfg=cfg)
        transform = create_transform(**data_config)
        label = f"Pillow {Image.__version__} + timm {__import__('timm').__version__} (torch {torch.__version__}, 1 thread)"
        return label, transform, lambda t: t.numpy()
    except ImportError:
        from timm_transform import eval_transform
        transform = eval_transform(cfg)
        return f"Pillow {Image.__version__} + numpy (timm/torch not installed: exact equivalent pipeline)", transform, lambda t: t


def time_reference(transform, to_numpy, data: bytes, iterations: int):
    """Per-run milliseconds of the reference pipeline (after one warm-up run) and its last output."""
    def run():
        img = Image.open(io.BytesIO(data))
        img = ImageOps.exif_transpose(img)
        return transform(img.convert("RGB"))
    out = run()
    times = []
    for _ in range(iterations):
        start = time.perf_counter_ns()
        out = run()
        times.append((time.perf_counter_ns() - start) / 1e6)
    return times, to_numpy(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--iterations", type=int, default=50, help="timed runs per image (small images)")
    parser.add_argument("--large-iterations", type=int, default=15, help="timed runs for images over 1 MB")
    parser.add_argument("--rounds", type=int, default=5, help="alternations between the two sides")
    parser.add_argument("--dct-scaling", action="store_true", help="also time ours with DCT-scaled decoding")
    parser.add_argument("--photos", action="store_true", help="add Tests/Fixtures/make-photo-goldens.py's large photos")
    parser.add_argument("--swift-opt", default="-O", help="Swift optimization for Imaging (the package builds it with -O)")
    parser.add_argument("--against-opt", help="instead of Pillow + timm, compare with Imaging built with this optimization "
                        "(e.g. -Ounchecked): an A/B of two builds of our own code")
    parser.add_argument("images", nargs="*", default=DEFAULT_IMAGES)
    args = parser.parse_args()
    config_path = fixture("tiny-seresnet/config.json")
    label, transform, to_numpy = reference_pipeline(config_path)

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        binary = build_ours(tmp / "ours", args.swift_opt)
        if args.against_opt:
            other = build_ours(tmp / "other", args.against_opt)
            label = f"this package's Imaging, swiftc {args.against_opt}"
        paths = [Path(name) if Path(name).exists() else fixture("images") / name for name in args.images]
        if args.photos:
            subprocess.run([sys.executable, str(ROOT / "Tests" / "Fixtures" / "make-photo-goldens.py"), str(tmp / "photos")], check=True,
                           stdout=subprocess.DEVNULL)
            paths += [tmp / "photos" / n for n in ("photo-3000x2000-420.jpg", "photo-4096x2304-420.jpg", "photo-1411x1411-progressive.jpg")]
        modes = [("full", "0")] + ([("dct", "1")] if args.dct_scaling else [])
        print(f"reference: {label}")
        print(f"ours:      Imaging (libjpeg-turbo {subprocess.run(['dpkg-query', '-W', '-f=${Version}', 'libjpeg62-turbo'], capture_output=True, text=True).stdout or '?'}), "
              f"swiftc {args.swift_opt}")
        print(f"{'image':34} {'ours ms':>8} {'decode':>7} {'resize':>7} {'scale':>5} {'ref ms':>8} {'ratio':>6} {'max|Δ|':>7}")
        for path, (mode, flag) in [(p, m) for p in paths for m in modes]:
            name = path.name
            data = path.read_bytes()
            iterations = args.large_iterations if len(data) > 1_000_000 else args.iterations
            # Alternate the two sides in rounds so a busy neighbour slows both, not just one of them.
            rounds = min(args.rounds, iterations)
            ours_ms, decode_ms, resize_ms, ref_ms = [], [], [], []
            for r in range(rounds):
                chunk = iterations // rounds + (1 if r < iterations % rounds else 0)
                ours = json.loads(subprocess.run([str(binary), str(config_path), str(chunk), str(tmp), str(path)],
                                                 check=True, capture_output=True, text=True,
                                                 env=dict(os.environ, BENCH_DCT_SCALING=flag)).stdout)
                ours_ms += ours["samples_ms"]
                decode_ms += ours["decode_samples_ms"]
                resize_ms += ours["preprocess_samples_ms"]
                if args.against_opt:
                    theirs = json.loads(subprocess.run([str(other), str(config_path), str(chunk), str(tmp / "other"), str(path)],
                                                       check=True, capture_output=True, text=True,
                                                       env=dict(os.environ, BENCH_DCT_SCALING=flag)).stdout)
                    ref_ms += theirs["samples_ms"]
                    ref_out = np.fromfile(tmp / "other" / f"{name}.ours.f32", dtype=np.float32)
                else:
                    times, ref_out = time_reference(transform, to_numpy, data, chunk)
                    ref_ms += times
            mine = np.fromfile(tmp / f"{name}.ours.f32", dtype=np.float32).reshape(ref_out.shape)
            delta = float(np.abs(mine - ref_out).max())
            ours_median, ref_median = statistics.median(ours_ms), statistics.median(ref_ms)
            print(f"{name[:29] + ' ' + mode:34} {ours_median:8.2f} {statistics.median(decode_ms):7.2f} "
                  f"{statistics.median(resize_ms):7.2f} {ours['scale_eighths']:>3}/8 {ref_median:8.2f} "
                  f"{ours_median / ref_median:6.3f} {delta:7.4f}")
        print(f"medians of {args.iterations} runs per side ({args.large_iterations} for images over 1 MB), "
              f"interleaved in {args.rounds} rounds, each round after a warm-up; ratio = ours / reference")


if __name__ == "__main__":
    sys.exit(main())
