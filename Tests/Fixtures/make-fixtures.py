#!/usr/bin/env python3
"""Rebuilds the reference data in Tests/Fixtures from timm + Pillow (the reference implementation), or checks the
committed copy against what they compute now. The tests never run this; they read the committed files.

  make-fixtures.py --check          recompute into a temporary folder and compare with the committed files
  make-fixtures.py --write          recompute and overwrite the committed goldens (then refresh SHA256SUMS)

What it computes (README.md says why each exists):
  golden/<image>.input.f32        timm's eval transform of each valid image in images/ for the tiny model's data
                                  config: EXIF orientation applied (ImageOps.exif_transpose), converted to RGB by
                                  Pillow, then timm.data.create_transform(**resolve_data_config(...)); 3×224×224
  golden/manifest.json            the data config, versions, and each source JPEG's SHA-256
  tiny-seresnet/<image>.logits.f32  the tiny model's logits for each golden input (timm's ResNet, eval mode)
  tiny-seresnet/random-batch2.logits.f32  its logits for the committed random-batch2.input.f32
  tiny-seresnet/golden.json       per image: top-5 classes and the gap between the 5th and 6th logit
  tiny-seresnet/<image>.cam.f32     class activation maps of its top-3 classes (3 × h × w): fc.weight[c] · forward_features
The inputs it starts from — the JPEGs, the tiny model's model.safetensors and config.json, and the random batch's
input — are sources, not recomputed.

Needs torch, timm, safetensors, Pillow and numpy (versions that made the committed set are in golden/manifest.json).
"""
import argparse
import hashlib
import json
import pathlib
import shutil
import sys
import tempfile

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
GOLDEN_TOLERANCE_REL = 1e-5  # logits from another CPU's float kernels may round differently in the last bits


def sha256(path):
    return hashlib.sha256(pathlib.Path(path).read_bytes()).hexdigest()


def tiny_model(model_dir):
    """timm's ResNet with SE bottlenecks in the tiny model's widths, loaded strictly from model.safetensors."""
    import torch
    from safetensors.torch import load_file
    from timm.models.resnet import Bottleneck, ResNet

    state = load_file(str(model_dir / "model.safetensors"))
    model = ResNet(block=Bottleneck, layers=(3, 4, 6, 3), stem_width=state["conv1.weight"].shape[0],
                   channels=tuple(state[f"layer{i}.0.conv1.weight"].shape[0] for i in range(1, 5)),
                   num_classes=state["fc.weight"].shape[0], block_args=dict(attn_layer="se"))
    model.load_state_dict(state, strict=True)
    torch.set_num_threads(1)
    return model.eval()


def compute(out):
    """Writes the whole golden set under `out` (golden/ and tiny-seresnet/ as in Tests/Fixtures)."""
    import PIL
    import timm
    import torch
    from PIL import Image, ImageOps
    from timm.data import create_transform, resolve_data_config

    config = json.loads((HERE / "tiny-seresnet" / "config.json").read_text())
    data_config = resolve_data_config({}, pretrained_cfg=config["pretrained_cfg"])
    transform = create_transform(**data_config)
    (out / "golden").mkdir(parents=True)
    (out / "tiny-seresnet").mkdir(parents=True)

    manifest = {"timm": timm.__version__, "torch": torch.__version__, "pillow": PIL.__version__,
                "data_config": {k: list(v) if isinstance(v, tuple) else v for k, v in data_config.items()}, "images": {}}
    inputs = {}
    for path in sorted((HERE / "images").glob("*.jpg")):
        if path.name.startswith("bad-"):
            continue
        image = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
        tensor = transform(image).numpy().astype("<f4")
        name = path.stem + ".input.f32"
        tensor.tofile(out / "golden" / name)
        inputs[path.name] = tensor
        manifest["images"][path.name] = {"input": name, "shape": list(tensor.shape), "sha256": sha256(path)}
    (out / "golden" / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")

    model = tiny_model(HERE / "tiny-seresnet")
    golden = {"weights_sha256": sha256(HERE / "tiny-seresnet" / "model.safetensors"), "images": {}}
    with torch.no_grad():
        for image_name, tensor in inputs.items():
            logits = model(torch.from_numpy(tensor)[None])[0].numpy().astype("<f4")
            name = pathlib.Path(image_name).stem + ".logits.f32"
            logits.tofile(out / "tiny-seresnet" / name)
            order = np.argsort(-logits, kind="stable")
            golden["images"][image_name] = {"logits": name, "top5": [int(i) for i in order[:5]],
                                            "margin_5th_6th": float(logits[order[4]] - logits[order[5]])}
            # Class activation maps (Zhou et al. 2016): the classifier's weights of a class over layer4's maps, no bias.
            features = model.forward_features(torch.from_numpy(tensor)[None])[0]
            classes = [int(i) for i in order[:3]]
            cams = torch.einsum("ck,khw->chw", model.fc.weight[classes], features).numpy().astype("<f4")
            cam_name = pathlib.Path(image_name).stem + ".cam.f32"
            cams.tofile(out / "tiny-seresnet" / cam_name)
            golden["images"][image_name]["cam"] = {"file": cam_name, "classes": classes, "shape": list(cams.shape)}
        batch = np.fromfile(HERE / "tiny-seresnet" / "random-batch2.input.f32", dtype="<f4").reshape(2, 3, 224, 224)
        model(torch.from_numpy(batch)).numpy().astype("<f4").tofile(out / "tiny-seresnet" / "random-batch2.logits.f32")
    (out / "tiny-seresnet" / "golden.json").write_text(json.dumps(golden, indent=2) + "\n")


def check(out):
    """Compares a computed set with the committed one: input tensors bit for bit, logits to float precision,
    top-5 classes exactly where timm's 5th and 6th logits do not nearly tie. Returns the problems found."""
    problems = []
    committed = json.loads((HERE / "golden" / "manifest.json").read_text())
    computed = json.loads((out / "golden" / "manifest.json").read_text())
    if sorted(committed["images"]) != sorted(computed["images"]):
        problems.append(f"images differ: {sorted(committed['images'])} vs {sorted(computed['images'])}")
    for name, entry in computed["images"].items():
        if committed["images"].get(name, {}).get("sha256") != entry["sha256"]:
            problems.append(f"{name}: the manifest names another JPEG")
        a = (HERE / "golden" / entry["input"]).read_bytes()
        b = (out / "golden" / entry["input"]).read_bytes()
        if a != b:
            x, y = np.frombuffer(a, dtype="<f4"), np.frombuffer(b, dtype="<f4")
            problems.append(f"{entry['input']}: not bit-identical (max |Δ| {np.abs(x - y).max() if x.shape == y.shape else 'shape'})")
    golden = json.loads((HERE / "tiny-seresnet" / "golden.json").read_text())
    fresh = json.loads((out / "tiny-seresnet" / "golden.json").read_text())
    if golden["weights_sha256"] != fresh["weights_sha256"]:
        problems.append("golden.json names other weights than model.safetensors")
    for name in [e["logits"] for e in fresh["images"].values()] + ["random-batch2.logits.f32"]:
        a = np.fromfile(HERE / "tiny-seresnet" / name, dtype="<f4")
        b = np.fromfile(out / "tiny-seresnet" / name, dtype="<f4")
        bound = GOLDEN_TOLERANCE_REL * max(1.0, float(np.abs(a).max()))
        delta = float(np.abs(a - b).max())
        print(f"  {name}: max |Δlogit| {delta:.3g} (bound {bound:.3g})")
        if delta > bound:
            problems.append(f"{name}: max |Δlogit| {delta} > {bound}")
    for entry in fresh["images"].values():
        a = np.fromfile(HERE / "tiny-seresnet" / entry["cam"]["file"], dtype="<f4")
        b = np.fromfile(out / "tiny-seresnet" / entry["cam"]["file"], dtype="<f4")
        bound = GOLDEN_TOLERANCE_REL * max(1.0, float(np.abs(a).max()))
        delta = float(np.abs(a - b).max())
        print(f"  {entry['cam']['file']}: max |Δ| {delta:.3g} (bound {bound:.3g})")
        if delta > bound:
            problems.append(f"{entry['cam']['file']}: max |Δ| {delta} > {bound}")
    for name, entry in fresh["images"].items():
        old = golden["images"][name]
        comparable = 5 if old["margin_5th_6th"] > 0.05 else 4
        if old["top5"][:comparable] != entry["top5"][:comparable]:
            problems.append(f"{name}: top-5 {entry['top5']} vs committed {old['top5']}")
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--check", action="store_true", help="compare a fresh computation with the committed files")
    mode.add_argument("--write", action="store_true", help="overwrite the committed goldens with a fresh computation")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="seresnet-fixtures-") as tmp:
        out = pathlib.Path(tmp)
        compute(out)
        if args.check:
            problems = check(out)
            for p in problems:
                print(f"make-fixtures: {p}")
            print("make-fixtures: the committed goldens are what timm + Pillow compute" if not problems else
                  "make-fixtures: MISMATCH")
            return 1 if problems else 0
        for sub in ("golden", "tiny-seresnet"):
            for path in (out / sub).iterdir():
                shutil.copyfile(path, HERE / sub / path.name)
        print("make-fixtures: goldens written; refresh the manifest: cd Tests/Fixtures && "
              "find images golden tiny-seresnet imagenet-1k-labels.tsv -type f | LC_ALL=C sort | xargs sha256sum > SHA256SUMS")
        return 0


if __name__ == "__main__":
    sys.exit(main())
