"""KServe v1's explain verb against the live server: class activation maps equal timm's (`fc.weight[c] ·
forward_features`, the goldens in Tests/Fixtures/tiny-seresnet), the predictions equal :predict's, the PNG heat map is
one Pillow reads, and bad parameters are 400s a client can act on."""
import base64
import io
import json
import math

import numpy as np
import pytest
from PIL import Image

from harness import ServiceProcess, fixture

MODEL = "seresnet-test"
IMAGES = fixture("images")
GOLDEN = json.loads(fixture("tiny-seresnet/golden.json").read_text())


@pytest.fixture(scope="module")
def service(binary):
    process = ServiceProcess.ready(binary, fixture("tiny-seresnet"), "--model-name", MODEL)
    yield process
    assert process.stop() == 0


def body(*names):
    return json.dumps({"instances": [{"image": {"b64": base64.b64encode((IMAGES / n).read_bytes()).decode()}}
                                     for n in names]}).encode()


def post(service, verb, payload, query=""):
    status, headers, raw = service.post(f"/v1/models/{MODEL}:{verb}{query}", payload,
                                        headers={"Content-Type": "application/json"})
    return status, json.loads(raw)


def golden_maps(name):
    cam = GOLDEN["images"][name]["cam"]
    return cam["classes"], np.fromfile(fixture("tiny-seresnet") / cam["file"], dtype="<f4").reshape(cam["shape"])


@pytest.mark.parametrize("name", sorted(GOLDEN["images"]))
def test_maps_match_timm(service, name):
    classes, expected = golden_maps(name)
    status, answer = post(service, "explain", body(name), "?classes=" + ",".join(map(str, classes)))
    assert status == 200, answer
    (explanation,) = answer["explanations"]
    assert explanation["method"] == "class_activation_map" and explanation["layer"] == "layer4"
    assert explanation["grid"] == {"height": 7, "width": 7}
    assert [m["index"] for m in explanation["maps"]] == classes
    ours = np.array([m["values"] for m in explanation["maps"]], dtype=np.float32)
    assert np.abs(ours - expected).max() <= 1e-4 * max(1.0, float(np.abs(expected).max()))
    # Without classes, the map is the top class's: timm's first.
    status, answer = post(service, "explain", body(name))
    (only,) = answer["explanations"][0]["maps"]
    assert only["index"] == classes[0] == answer["predictions"][0][0]["index"]
    assert "heatmap_png" not in only


def test_predictions_equal_predict_and_the_crop_is_timms(service):
    names = ["cat-baseline-420.jpg", "astronaut-exif-orientation6.jpg", "cat-wide-1600x300.jpg"]
    status, explained = post(service, "explain", body(*names), "?top_k=3")
    assert status == 200
    status, predicted = post(service, "predict", body(*names), "?top_k=3")
    assert explained["predictions"] == predicted["predictions"]
    assert len(explained["explanations"]) == 3
    # cat-baseline-420 is 451×300: the shorter side resized to 235, the longer to int(235·451/300) = 353, a centre crop
    # of 224 starting at round((353 − 224) / 2) = 64 (half to even), all scaled back by 451/353 and 300/235.
    crop = explained["explanations"][0]["crop"]
    assert crop == {"x": round(64 * 451 / 353, 2), "y": round(6 * 300 / 235, 2), "width": round(224 * 451 / 353, 2),
                    "height": round(224 * 300 / 235, 2)}


def test_heatmap_png(service):
    name = "cat-baseline-420.jpg"
    classes, expected = golden_maps(name)
    status, answer = post(service, "explain", body(name), f"?classes={classes[1]}&heatmap=png")
    assert status == 200
    (map_,) = answer["explanations"][0]["maps"]
    image = Image.open(io.BytesIO(base64.b64decode(map_["heatmap_png"])))
    image.load()
    assert image.format == "PNG" and image.size == (224, 224) and image.mode == "P"
    indices = np.asarray(image)
    # Min–max scaled: the hottest pixel (255) lies in the hottest grid cell's 32×32 block, the coldest (0) in the coldest's.
    grid = expected[1]
    for pick, value in ((np.argmax, 255), (np.argmin, 0)):
        row, column = np.unravel_index(pick(grid), grid.shape)
        y, x = np.unravel_index(pick(indices), indices.shape)
        assert indices[y, x] == value and (y // 32, x // 32) == (row, column)
    rgb = np.asarray(image.convert("RGB"))
    assert tuple(rgb[indices == 255][0]) == (128, 0, 0) and tuple(rgb[indices == 0][0]) == (0, 0, 128)
    assert math.isclose(map_["score"], answer["predictions"][0][1]["score"]) or map_["index"] != answer["predictions"][0][1]["index"]


@pytest.mark.parametrize("query, code", [
    ("?classes=1000", "invalid_classes"), ("?classes=-1", "invalid_classes"), ("?classes=1,,2", "invalid_classes"),
    ("?classes=" + ",".join(map(str, range(11))), "invalid_classes"), ("?heatmap=gif", "invalid_heatmap"),
    ("?top_k=0", "invalid_top_k"),
])
def test_bad_parameters_are_400(service, query, code):
    status, headers, raw = service.post(f"/v1/models/{MODEL}:explain{query}", body("cat-444.jpg"))
    # KServe's error shape, {"error": "…"}, names the parameter and what it takes.
    assert status == 400, raw
    message = json.loads(raw)["error"]
    assert message.startswith(code.removeprefix("invalid_") + " "), message


def test_unknown_model_wrong_method_and_bad_images(service):
    status, _, raw = service.post("/v1/models/other:explain", body("cat-444.jpg"))
    assert status == 404 and "error" in json.loads(raw)
    status, headers, _ = service.get(f"/v1/models/{MODEL}:explain")
    assert status == 405 and "POST" in headers.get("Allow", "")
    status, answer = post(service, "explain", body("bad-truncated-60pct.jpg"))
    assert 400 <= status < 500 and "error" in answer
    # The server is fine afterwards.
    assert post(service, "explain", body("coffee-422.jpg"))[0] == 200
