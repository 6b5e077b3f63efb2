"""`--precision int8` as a user runs it: calibrate, then serve and classify with the calibration; what /v1/model,
/metrics and the log say; the refusals when the calibration is missing or made for other weights."""
import json
import subprocess

import pytest
from prometheus_client.parser import text_string_to_metric_families

from harness import ServiceProcess, fixture

MODEL = fixture("tiny-seresnet")
IMAGES = fixture("images")


@pytest.fixture(scope="module")
def calibration(binary, tmp_path_factory):
    path = tmp_path_factory.mktemp("int8") / "calibration.json"
    result = subprocess.run([str(binary), "calibrate", "--model", str(MODEL), "--images", str(IMAGES), "--out", str(path)],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    return path


def test_serve_int8(binary, calibration):
    process = ServiceProcess.ready(binary, MODEL, "--precision", "int8", "--calibration", str(calibration))
    try:
        status, _, body = process.get("/v1/model")
        engine = json.loads(body)["engine"]
        assert engine["precision"] == "int8" and engine["calibration"] == {"method": "minmax", "images": 12}
        # Every convolution after the stem runs int8 products, the 3×3s unfolded.
        algorithms = {layer["name"]: layer["algorithm"] for layer in engine["layers"]}
        assert "int8" not in algorithms["stem"] and all("int8" in a for n, a in algorithms.items() if n != "stem")
        assert not any("Winograd" in a for a in algorithms.values())
        _, _, body = process.get("/metrics")
        info = [s for f in text_string_to_metric_families(body.decode()) if f.name == "seresnet_engine_info" for s in f.samples]
        assert info and info[0].labels["precision"] == "int8"
        for name in ["cat-444.jpg", "coffee-422.jpg"]:
            status, _, body = process.post("/classify", (IMAGES / name).read_bytes())
            predictions = json.loads(body)["predictions"]
            assert status == 200 and len(predictions) == 5 and 0 < sum(p["score"] for p in predictions) <= 1.000001
        ready = [e for e in process.log_entries() if e.get("message") == "ready"]
        assert ready and ready[0]["precision"] == "int8" and ready[0]["calibration"] == "minmax, 12 images"
    finally:
        assert process.stop() == 0


def test_classify_int8_matches_serve(binary, calibration):
    result = subprocess.run([str(binary), "classify", "--model", str(MODEL), "--precision", "int8", "--calibration", str(calibration),
                             str(IMAGES / "cat-444.jpg")], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)["predictions"]) == 5


def test_refusals(binary, tmp_path):
    # No calibration file where the default looks (the fixture directory has none).
    result = subprocess.run([str(binary), "classify", "--model", str(MODEL), "--precision", "int8", str(IMAGES / "cat-444.jpg")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0 and "calibration.json" in result.stderr and "seresnet calibrate" in result.stderr
    # A calibration made for other weights.
    other = tmp_path / "other"
    subprocess.run([str(binary), "synth-weights", "--out", str(other), "--preset", "tiny"], check=True, capture_output=True)
    subprocess.run([str(binary), "calibrate", "--model", str(other), "--images", str(IMAGES / "cat-444.jpg")], check=True,
                   capture_output=True)
    result = subprocess.run([str(binary), "serve", "--model", str(MODEL), "--port", "0", "--precision", "int8", "--calibration",
                             str(other / "calibration.json")], capture_output=True, text=True, timeout=120)
    assert result.returncode != 0 and "made for weights" in result.stderr and "seresnet calibrate" in result.stderr
