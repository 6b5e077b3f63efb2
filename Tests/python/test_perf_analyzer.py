"""Triton's own load tool, perf_analyzer, against the live server over HTTP: it reads the model configuration extension
before it sends anything, sends JPEGs as BYTES in the binary tensor format, and reads the statistics extension for its
server-side figures. Checked: zero errors, the counts it reports against what it sent, and our statistics against both.
No figure of speed is asserted."""
import base64
import json
import os
import re
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from harness import ServiceProcess, fixture

MODEL = "seresnet-test"
IMAGE = fixture("images") / "cat-baseline-420.jpg"


def perf_analyzer():
    """The binary the tritonclient 2.51.0 wheel installs, and the library path its libcudart.so.12 needs."""
    binary = Path(sys.executable).parent / "perf_analyzer"
    import nvidia.cuda_runtime

    library = Path(list(nvidia.cuda_runtime.__path__)[0]) / "lib"
    assert binary.exists(), "perf_analyzer missing: Tests/requirements.txt pins tritonclient[http]==2.51.0, which ships it"
    return binary, library


@pytest.fixture(scope="module")
def service(binary):
    process = ServiceProcess.ready(binary, fixture("tiny-seresnet"), "--model-name", MODEL, "--max-batch", "4")
    yield process
    assert process.stop() == 0


@pytest.fixture(scope="module")
def input_data(tmp_path_factory):
    # perf_analyzer's BYTES content: base64 of a 4-byte little-endian length and the bytes (its binary tensor element).
    jpeg = IMAGE.read_bytes()
    path = tmp_path_factory.mktemp("perf") / "input.json"
    content = base64.b64encode(struct.pack("<I", len(jpeg)) + jpeg).decode()
    path.write_text(json.dumps({"data": [{"image": {"content": {"b64": content}, "shape": [1]}}]}))
    return path


def statistics(service):
    status, _, body = service.get(f"/v2/models/{MODEL}/stats")
    assert status == 200, body
    (stats,) = json.loads(body)["model_stats"]
    return stats


def run(service, input_data, *arguments):
    binary, library = perf_analyzer()
    env = dict(os.environ, LD_LIBRARY_PATH=f"{library}:{os.environ.get('LD_LIBRARY_PATH', '')}")
    command = [str(binary), "-m", MODEL, "-u", f"127.0.0.1:{service.port}", "-i", "http", "--input-data", str(input_data),
               "--measurement-mode", "count_windows", "--measurement-request-count", "40", "--stability-percentage", "999",
               "--max-trials", "3", *arguments]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"{' '.join(command)}\n{result.stdout}\n{result.stderr}"
    assert "error" not in result.stdout.lower() and "error" not in result.stderr.lower(), result.stdout + result.stderr
    return result.stdout


def levels(output):
    """Per concurrency level: the client's request count and the server's counts as perf_analyzer reports them."""
    found = []
    for block in re.split(r"\nRequest concurrency: ", output)[1:]:
        concurrency = int(block.split("\n", 1)[0])
        numbers = {key: int(value) for key, value in re.findall(
            r"(Request count|Inference count|Execution count|Successful request count): (\d+)", block)}
        found.append((concurrency, numbers))
    return found


def test_config_describes_what_is_served(service):
    status, _, body = service.get(f"/v2/models/{MODEL}/config")
    assert status == 200, body
    config = json.loads(body)
    assert config["name"] == MODEL and config["max_batch_size"] == 32
    assert config["input"] == [{"name": "image", "data_type": "TYPE_STRING", "format": "FORMAT_NONE", "dims": [1],
                                "is_shape_tensor": False}]
    assert config["output"][0]["data_type"] == "TYPE_FP32" and config["output"][0]["dims"] == [1000]
    assert config["dynamic_batching"] == {"preferred_batch_size": [4], "max_queue_delay_microseconds": 2000,
                                          "preserve_ordering": False}
    assert config["instance_group"][0]["kind"] == "KIND_CPU" and config["instance_group"][0]["count"] == 1
    assert config["parameters"]["precision"] == {"string_value": "fp32"}
    # The versioned path answers the same; another version and another model are 404 in the protocol's shape.
    assert json.loads(service.get(f"/v2/models/{MODEL}/versions/1/config")[2]) == config
    status, _, body = service.get(f"/v2/models/{MODEL}/versions/2/config")
    assert status == 404 and "error" in json.loads(body)
    assert service.get("/v2/models/other/config")[0] == 404
    _, _, body = service.get("/v2")
    assert {"model_configuration", "statistics"} <= set(json.loads(body)["extensions"])


def test_perf_analyzer_sync_concurrency_1_to_4(service, input_data):
    before = statistics(service)
    output = run(service, input_data, "--concurrency-range", "1:4")
    found = levels(output)
    assert [level for level, _ in found] == [1, 2, 3, 4], output
    for concurrency, numbers in found:
        # Every request the client counted succeeded on the server. perf_analyzer takes the server's figures from
        # statistics snapshots at its window's edges, where up to `concurrency` requests may be in flight.
        assert numbers["Request count"] > 0
        assert abs(numbers["Successful request count"] - numbers["Request count"]) <= concurrency, output
        assert abs(numbers["Inference count"] - numbers["Request count"]) <= concurrency, output
        assert 0 < numbers["Execution count"] <= numbers["Inference count"], output
    after = statistics(service)
    sent = sum(numbers["Request count"] for _, numbers in found)
    succeeded = after["inference_stats"]["success"]["count"] - before["inference_stats"]["success"]["count"]
    # perf_analyzer also sends requests outside its measurement windows (warm-up, between trials): at least `sent`.
    assert succeeded >= sent
    assert after["inference_stats"]["fail"]["count"] == before["inference_stats"]["fail"]["count"]
    assert after["inference_count"] - before["inference_count"] == succeeded
    executions = sum(b["compute_infer"]["count"] for b in after["batch_stats"])
    assert executions == after["execution_count"]
    assert sum(b["batch_size"] * b["compute_infer"]["count"] for b in after["batch_stats"]) == after["inference_count"]
    # Concurrency above 1 lets batches form: some ran with more than one image.
    assert any(b["batch_size"] > 1 for b in after["batch_stats"]), after["batch_stats"]
    assert all(after["inference_stats"][part]["ns"] > 0 for part in ("success", "queue", "compute_input", "compute_infer"))


def test_perf_analyzer_async_with_batches_of_two(service, input_data):
    before = statistics(service)
    output = run(service, input_data, "-a", "--concurrency-range", "2", "-b", "2")
    ((level, numbers),) = levels(output)
    assert level == 2 and numbers["Request count"] > 0, output
    assert abs(numbers["Successful request count"] - numbers["Request count"]) <= 2, output
    # Each request carries two images (shape [2, 1]): the server counts two inferences per request.
    assert abs(numbers["Inference count"] - 2 * numbers["Request count"]) <= 4, output
    after = statistics(service)
    requests = after["inference_stats"]["success"]["count"] - before["inference_stats"]["success"]["count"]
    assert after["inference_count"] - before["inference_count"] == 2 * requests
    assert after["inference_stats"]["fail"]["count"] == before["inference_stats"]["fail"]["count"]


def test_statistics_count_failures_and_every_api(service):
    before = statistics(service)
    assert service.post("/classify", IMAGE.read_bytes())[0] == 200
    assert service.post("/classify", b"\xff\xd8 not a jpeg")[0] == 422
    after = statistics(service)
    assert after["inference_stats"]["success"]["count"] == before["inference_stats"]["success"]["count"] + 1
    assert after["inference_stats"]["fail"]["count"] == before["inference_stats"]["fail"]["count"] + 1
    assert after["last_inference"] >= before["last_inference"] > 0
    # Every model's statistics: the one served.
    status, _, body = service.get("/v2/models/stats")
    assert status == 200 and [m["name"] for m in json.loads(body)["model_stats"]] == [MODEL]
    assert json.loads(service.get(f"/v2/models/{MODEL}/versions/1/stats")[2])["model_stats"][0]["version"] == "1"
