"""The OpenAPI document served at /openapi.json, checked against the live server by Schemathesis: every check on every
operation (property-based requests, negative data, unsupported methods, stateful links). The one narrowing is in
schemathesis.toml beside this file, with its reason."""
import json
import pathlib
import subprocess
import sys

import pytest

from harness import ServiceProcess, fixture

CONFIG = pathlib.Path(__file__).with_name("schemathesis.toml")


@pytest.fixture(scope="module")
def service(binary):
    process = ServiceProcess.ready(binary, fixture("tiny-seresnet"), "--model-name", "tiny", "--max-batch-images", "8")
    yield process
    assert process.stop() == 0


def test_the_document_is_openapi_3_1_and_names_the_served_model(service):
    status, headers, body = service.get("/openapi.json")
    document = json.loads(body)
    assert status == 200 and headers["Content-Type"] == "application/json"
    assert document["openapi"] == "3.1.0"
    infer = document["paths"]["/v2/models/{model}/infer"]["post"]
    assert {"$ref": "#/components/parameters/model"} in infer["parameters"]
    assert document["components"]["parameters"]["model"]["schema"]["enum"] == ["tiny"]
    inputs = document["components"]["schemas"]["InferenceRequest"]["properties"]["inputs"]
    assert inputs["items"]["properties"]["shape"]["items"]["maximum"] == 8


def test_schemathesis_finds_nothing(service, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "schemathesis.cli", "--config-file", str(CONFIG), "run", f"http://127.0.0.1:{service.port}/openapi.json",
         "--checks", "all", "--max-examples", "50", "--seed", "1", "--no-color"],
        capture_output=True, text=True, timeout=900, cwd=tmp_path)  # (its cache directory goes there)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    # And the server kept answering: nothing Schemathesis sent crashed or wedged it.
    assert service.get("/healthz")[0] == 200
    entries = service.log_entries()
    after_ready = entries[[e.get("message") for e in entries].index("ready"):]  # (wait_ready's probes saw 503 before)
    server_errors = [e for e in after_ready if str(e.get("status", "")).startswith("5")]
    assert not server_errors, json.dumps(server_errors[:3])
