"""timm's eval transform as timm runs it on a Pillow image, without torch: Resize(floor(size / crop_pct)) on the
shorter side with the model's interpolation (torchvision's Resize calls Pillow's resize; the longer side is
int(short · long / short_side)), CenterCrop(size) at torchvision's round((side − size) / 2) offsets, ToTensor,
Normalize — in float32 and torch's order of operations. Tests/Fixtures/make-photo-goldens.py checks it bit for bit
against the fixtures' timm goldens before using it; Benchmarks/bench-preprocess.py times it when torch is missing."""
import json
import math

import numpy as np
from PIL import Image


def eval_transform(pretrained_cfg):
    """A function from an RGB Pillow image to the (3, size, size) float32 model input."""
    size = pretrained_cfg["input_size"][1]
    short = math.floor(size / pretrained_cfg["crop_pct"])
    mean = np.array(pretrained_cfg["mean"], dtype=np.float32).reshape(3, 1, 1)
    std = np.array(pretrained_cfg["std"], dtype=np.float32).reshape(3, 1, 1)
    resample = {"bicubic": Image.BICUBIC, "bilinear": Image.BILINEAR}[pretrained_cfg["interpolation"]]

    def transform(img):
        w, h = img.size
        nw, nh = (short, int(short * h / w)) if w <= h else (int(short * w / h), short)
        if (nw, nh) != (w, h):
            img = img.resize((nw, nh), resample)
        top, left = int(round((nh - size) / 2.0)), int(round((nw - size) / 2.0))
        img = img.crop((left, top, left + size, top + size))
        x = np.asarray(img, dtype=np.uint8).transpose(2, 0, 1).astype(np.float32) / np.float32(255)
        return ((x - mean) / std).astype(np.float32)
    return transform


def eval_transform_for(config_path):
    """`eval_transform` for a timm model directory's config.json (its pretrained_cfg)."""
    return eval_transform(json.loads(open(config_path).read())["pretrained_cfg"])
