"""Full-size check of the engine against an independent oracle: the same checkpoint built as an ONNX graph
by onnx_reference.py (BatchNorm unfolded, SE as separate nodes) and run by onnxruntime."""
import subprocess

import numpy as np

import onnx_reference
from harness import fixture


def engine_logits(binary, model, inputs, tmp_path, threads):
    batch = inputs.shape[0]
    inputs.astype("<f4").tofile(tmp_path / "input.f32")
    subprocess.run([str(binary), "bench", "--model", str(model), "--batch", str(batch), "--iterations", "1", "--warmup", "0",
                    "--threads", str(threads), "--input", str(tmp_path / "input.f32"), "--dump-logits", str(tmp_path / "logits.f32")],
                   check=True, stdout=subprocess.DEVNULL)
    return np.fromfile(tmp_path / "logits.f32", dtype="<f4").reshape(batch, -1)


def test_seresnet50_logits_match_onnxruntime(binary, seresnet50_model, tmp_path):
    images = [np.fromfile(fixture("golden") / f"{name}.input.f32", dtype="<f4").reshape(3, 224, 224)
              for name in ("cat-baseline-420", "astronaut-restart", "coffee-gray")]
    images.append(np.random.default_rng(3).uniform(-2, 2, size=(3, 224, 224)).astype(np.float32))
    inputs = np.stack(images)
    model, _ = onnx_reference.build_model(str(seresnet50_model))
    expected = onnx_reference.session(model, 2).run(["logits"], {"input": inputs})[0]
    assert np.abs(expected[0] - expected[1]).max() > 1.0, "synthetic logits should depend on the image"
    for threads in (1, 2):
        actual = engine_logits(binary, seresnet50_model, inputs, tmp_path, threads)
        tolerance = 1e-4 * max(1.0, float(np.abs(expected).max()))
        error = float(np.abs(actual - expected).max())
        assert error <= tolerance, f"threads={threads}: max |Δlogit| {error} > {tolerance}"
        assert (np.argsort(-actual, axis=1)[:, :5] == np.argsort(-expected, axis=1)[:, :5]).all()


def test_tiny_fixture_model_matches_through_the_onnx_builder(binary, tmp_path):
    """The oracle itself is checked against timm's own logits, so a wrong oracle cannot pass the test above."""
    model, _ = onnx_reference.build_model(str(fixture("tiny-seresnet")))
    inputs = np.fromfile(fixture("tiny-seresnet/random-batch2.input.f32"), dtype="<f4").reshape(2, 3, 224, 224)
    timm = np.fromfile(fixture("tiny-seresnet/random-batch2.logits.f32"), dtype="<f4").reshape(2, -1)
    oracle = onnx_reference.session(model, 2).run(["logits"], {"input": inputs})[0]
    assert np.abs(oracle - timm).max() <= 1e-4 * max(1.0, float(np.abs(timm).max()))
