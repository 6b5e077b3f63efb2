"""`seresnet calibrate` as a user runs it: the fixture photos through the tiny model, each method, the file's content
against the model, unusable images skipped with a message, and refusals that say what to do."""
import hashlib
import json
import subprocess

import pytest

from harness import fixture

MODEL = fixture("tiny-seresnet")
IMAGES = fixture("images")


def calibrate(binary, *arguments):
    return subprocess.run([str(binary), "calibrate", "--model", str(MODEL), *arguments], capture_output=True, text=True,
                          timeout=600)


@pytest.mark.parametrize("method", ["minmax", "percentile", "entropy"])
def test_writes_a_file_for_these_weights(binary, tmp_path, method):
    out = tmp_path / "calibration.json"
    result = calibrate(binary, "--images", str(IMAGES), "--method", method, "--out", str(out), "--threads", "2")
    assert result.returncode == 0, result.stderr
    document = json.loads(out.read_text())
    good = [p for p in IMAGES.glob("*.jpg") if not p.name.startswith("bad-")]
    assert document["format"] == "seresnet-calibration" and document["version"] == 1 and document["method"] == method
    assert document["weights_sha256"] == hashlib.sha256((MODEL / "model.safetensors").read_bytes()).hexdigest()
    assert document["images"] == len(good)
    assert (document.get("percentile") == 99.99) == (method == "percentile")
    tensors = document["tensors"]
    assert len(tensors) == 3 * 16 + 1 and "layer4.2.conv3" in tensors and "fc" in tensors
    for name, tensor in tensors.items():
        assert tensor["min"] >= 0 and 0 < tensor["threshold"] <= tensor["max"] * (1 + 1e-6), name
        assert abs(tensor["scale"] - tensor["threshold"] / 255) <= 1e-6 * tensor["scale"], name
        if method == "minmax":
            assert tensor["threshold"] == tensor["max"]
    # Each bad fixture is named and skipped, never fatal.
    for bad in IMAGES.glob("bad-*.jpg"):
        assert bad.name in result.stderr
    assert "wrote" in result.stdout and "layer4" in result.stdout


def test_same_images_same_file(binary, tmp_path):
    files = [str(p) for p in sorted(IMAGES.glob("c*.jpg"))]
    runs = {}
    for name, threads in (("a", "2"), ("b", "2"), ("c", "1")):
        out = tmp_path / f"{name}.json"
        assert calibrate(binary, "--images", *files, "--out", str(out), "--threads", threads).returncode == 0
        runs[name] = json.loads(out.read_text())
    assert runs["a"] == runs["b"]
    # Another thread count splits the products differently: the same ranges to float precision.
    for name, tensor in runs["a"]["tensors"].items():
        other = runs["c"]["tensors"][name]
        assert abs(tensor["max"] - other["max"]) <= 1e-5 * tensor["max"], name


@pytest.mark.parametrize("arguments, message", [
    ([], "--images"),
    (["--images", "/nonexistent"], "no such file"),
    (["--images", str(IMAGES / "bad-empty.jpg")], "none of the 1 images"),
    (["--images", str(IMAGES), "--method", "median"], "method"),
    (["--images", str(IMAGES), "--method", "percentile", "--percentile", "0"], "--percentile"),
])
def test_refusals(binary, tmp_path, arguments, message):
    result = calibrate(binary, *arguments, "--out", str(tmp_path / "c.json"))
    assert result.returncode != 0 and message in result.stderr, result.stderr
