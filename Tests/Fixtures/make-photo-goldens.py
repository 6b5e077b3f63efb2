#!/usr/bin/env python3
"""Large test photos and their timm goldens, for the exact-decoding tests (Tests/ImagingTests/PhotoGoldenTests).

Writes into OUT_DIR, from the fixtures' photos (scikit-image samples, public domain):
  <name>.jpg        a photo the fixtures do not have: several sizes ≥ 2× the 235-pixel resize target (the sizes a
                    DCT-scaled decode would shrink), baseline 4:2:0, progressive, 4:4:4, EXIF-rotated (6 and 8)
  <name>.input.f32  timm's eval transform of it — Resize(235, bicubic) on the shorter side, CenterCrop(224),
                    ToTensor, Normalize — as timm runs it on a Pillow image (torchvision's Resize calls Pillow's
                    resize; the crop offsets are torchvision's round((size − 224) / 2)), in float32 like torch.
  manifest.json     the photos and how they were written.

torch and timm are not installable here (PyPI's torch is the CUDA build), so the transform is the same Pillow
calls torchvision makes, with numpy float32 arithmetic in torch's order. Before writing anything the script
checks that this reproduces the fixtures' own timm goldens bit for bit on every full-scale fixture image, and
stops if it does not.

  Tests/Fixtures/make-photo-goldens.py OUT_DIR        (needs Pillow and numpy)
"""
import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from timm_transform import eval_transform_for

FIXTURES = Path(__file__).resolve().parent


def timm_eval_transform(config_path):
    """From a JPEG path: open, apply EXIF orientation, convert to RGB, then timm's eval transform."""
    transform = eval_transform_for(config_path)
    return lambda jpeg_path: transform(ImageOps.exif_transpose(Image.open(jpeg_path)).convert("RGB"))


def check_against_fixture_goldens(transform):
    manifest = json.loads((FIXTURES / "golden/manifest.json").read_text())
    checked = 0
    for name in sorted(manifest["images"]):
        expected = np.fromfile(FIXTURES / "golden" / name.replace(".jpg", ".input.f32"), dtype="<f4")
        actual = transform(FIXTURES / "images" / name).reshape(-1)
        if not np.array_equal(expected, actual):
            sys.exit(f"make-photo-goldens: the Pillow pipeline differs from timm's golden for {name} "
                     f"(max |Δ| {np.abs(expected - actual).max()}); not writing goldens")
        checked += 1
    return checked


def photos():
    """(name, how to make it): every one from a fixture photo, resized with Lanczos so it has real detail."""
    astronaut = FIXTURES / "images/astronaut-large-4096x4096.jpg"
    coffee = FIXTURES / "images/coffee-422.jpg"
    cat = FIXTURES / "images/cat-444.jpg"

    def base(path, size, box=None):
        img = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
        if box:
            img = img.crop(box)
        return img.resize(size, Image.LANCZOS)

    return [
        ("photo-3000x2000-420.jpg", lambda: base(astronaut, (3000, 2000), (0, 600, 4096, 3330)), {"quality": 90}),
        ("photo-1411x1411-progressive.jpg", lambda: base(coffee, (1411, 1411), (100, 0, 500, 400)),
         {"quality": 88, "progressive": True}),
        ("photo-2400x1600-444.jpg", lambda: base(cat, (2400, 1600)), {"quality": 92, "subsampling": 0}),
        ("photo-1000x1900-422.jpg", lambda: base(astronaut, (1000, 1900), (1000, 0, 3150, 4096)),
         {"quality": 85, "subsampling": 1}),
        ("photo-4096x2304-420.jpg", lambda: base(astronaut, (4096, 2304), (0, 900, 4096, 3204)), {"quality": 80}),
        # Stored rotated; EXIF Orientation brings them upright (6: rotate 90° clockwise to view, 8: counter-clockwise).
        ("photo-2000x3000-exif6.jpg", lambda: base(astronaut, (3000, 2000), (0, 500, 4096, 3230)).transpose(Image.ROTATE_90),
         {"quality": 90, "orientation": 6}),
        ("photo-1800x1200-exif8.jpg", lambda: base(coffee, (1200, 1800), (150, 0, 417, 400)).transpose(Image.ROTATE_90),
         {"quality": 90, "orientation": 8}),
    ]


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = Path(sys.argv[1])
    transform = timm_eval_transform(FIXTURES / "tiny-seresnet/config.json")
    checked = check_against_fixture_goldens(transform)
    out.mkdir(parents=True, exist_ok=True)
    manifest = {"reference": f"Pillow {Image.__version__} + numpy, timm's eval transform; bit-identical to the "
                             f"fixtures' timm goldens on {checked} images", "photos": {}}
    for name, make, options in photos():
        img = make()
        save = {k: v for k, v in options.items() if k != "orientation"}
        if "orientation" in options:
            exif = Image.Exif()
            exif[0x0112] = options["orientation"]
            save["exif"] = exif.tobytes()
        img.save(out / name, "JPEG", **save)
        transform(out / name).tofile(out / name.replace(".jpg", ".input.f32"))
        stored = Image.open(out / name)
        manifest["photos"][name] = {"stored_size": list(stored.size), **options}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"{len(manifest['photos'])} photos and goldens in {out} (pipeline checked on {checked} fixture goldens)")


if __name__ == "__main__":
    main()
