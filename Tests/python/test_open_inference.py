"""The Open Inference Protocol v2 and KServe v1 against the live server, with the ecosystem's own client (tritonclient),
curl and raw sockets: the same answers as /classify, the error shapes clients read, batching, overload and drain."""
import base64
import concurrent.futures
import json
import signal
import socket
import subprocess

import numpy as np
import pytest
import tritonclient.http as httpclient
from prometheus_client.parser import text_string_to_metric_families
from tritonclient.utils import InferenceServerException

from harness import ServiceProcess, fixture

IMAGES = fixture("images")
MODEL = "seresnet-test"
BATCH = ["cat-444.jpg", "coffee-422.jpg", "astronaut-restart.jpg"]


@pytest.fixture(scope="module")
def service(binary):
    # The default batch delay (2 ms): a request's images are batched together because a batch waits for the
    # siblings of its waiting images, however far apart their decodes finish.
    process = ServiceProcess.ready(binary, fixture("tiny-seresnet"), "--model-name", MODEL, "--max-batch", "8",
                             "--max-batch-images", "8")
    yield process
    assert process.stop() == 0


@pytest.fixture
def client(service):
    client = httpclient.InferenceServerClient(f"127.0.0.1:{service.port}")
    yield client
    client.close()


def classify(service, name, top_k=5):
    status, _, body = service.post(f"/classify?top_k={top_k}", (IMAGES / name).read_bytes())
    assert status == 200, body
    return json.loads(body)["predictions"]


def jpeg_input(names):
    tensor = httpclient.InferInput("image", [len(names)], "BYTES")
    tensor.set_data_from_numpy(np.array([(IMAGES / n).read_bytes() for n in names], dtype=object), binary_data=True)
    return tensor


def test_health_and_metadata(client):
    assert client.is_server_live() and client.is_server_ready() and client.is_model_ready(MODEL)
    assert client.is_model_ready(MODEL, model_version="1")
    server = client.get_server_metadata()
    assert server["name"] == "seresnet" and set(server["extensions"]) >= {"binary_tensor_data", "classification"}
    metadata = client.get_model_metadata(MODEL)
    assert metadata["inputs"] == [{"name": "image", "datatype": "BYTES", "shape": [-1, 1]}]
    assert metadata["outputs"] == [{"name": "probabilities", "datatype": "FP32", "shape": [-1, 1000]}]
    assert len(metadata["properties"]["weights_sha256"]) == 64
    assert not client.is_model_ready("other")


def test_tritonclient_batch_of_three_with_classification_matches_classify(service, client):
    result = client.infer(MODEL, [jpeg_input(BATCH)], outputs=[httpclient.InferRequestedOutput("probabilities", class_count=5)],
                          request_id="batch-3")
    assert result.get_response()["id"] == "batch-3"
    rows = result.as_numpy("probabilities")
    assert rows.shape == (3, 5)
    for row, name in zip(rows, BATCH):
        expected = classify(service, name)
        got = [element.decode().split(":", 2) for element in row]
        assert [int(index) for _, index, _ in got] == [p["index"] for p in expected], name
        for (score, _, label), prediction in zip(got, expected):
            assert abs(float(score) - prediction["score"]) <= 1e-6 and label == prediction["label"]


@pytest.mark.parametrize("binary_output", [True, False])
def test_probabilities_as_binary_and_as_json(service, client, binary_output):
    # The input is binary either way: tritonclient refuses to put non-UTF-8 bytes in JSON.
    result = client.infer(MODEL, [jpeg_input(BATCH[:2])],
                          outputs=[httpclient.InferRequestedOutput("probabilities", binary_data=binary_output)])
    probabilities = result.as_numpy("probabilities")
    assert probabilities.dtype == np.float32 and probabilities.shape == (2, 1000)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, atol=1e-4)
    for row, name in zip(probabilities, BATCH):
        expected = classify(service, name)
        assert list(np.argsort(-row, kind="stable")[:5]) == [p["index"] for p in expected]
        assert abs(float(row[expected[0]["index"]]) - expected[0]["score"]) <= 1e-6


def test_unknown_model_is_an_exception_with_our_message(client):
    with pytest.raises(InferenceServerException) as raised:
        client.infer("other", [jpeg_input(BATCH[:1])])
    assert "Unknown model 'other'" in str(raised.value) and MODEL in str(raised.value)
    with pytest.raises(InferenceServerException) as raised:
        client.get_model_metadata(MODEL, model_version="7")
    assert "no version '7'" in str(raised.value)


def test_a_corrupt_jpeg_in_the_batch_is_422_naming_it_and_others_in_flight_are_unaffected(service, client):
    names = ["cat-444.jpg", "bad-truncated-60pct.jpg", "coffee-422.jpg"]
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        good = [pool.submit(classify, service, BATCH[i % 3]) for i in range(6)]
        with pytest.raises(InferenceServerException) as raised:
            client.infer(MODEL, [jpeg_input(names)])
        assert all(len(f.result()) == 5 for f in good)
    assert raised.value.status() == "422"
    assert "Image 1 of the request" in str(raised.value)


def curl(*args, stdin=None):
    result = subprocess.run(["curl", "-sS", "-D", "-", "-o", "-", *args], input=stdin, capture_output=True, check=True)
    head, _, body = result.stdout.partition(b"\r\n\r\n")
    return int(head.split()[1]), head.decode("latin-1"), body


def test_curl_raw_binary_and_json_base64(service):
    url = f"http://127.0.0.1:{service.port}/v2/models/{MODEL}/infer"
    image = IMAGES / "coffee-422.jpg"
    status, head, body = curl(url, "-H", "Inference-Header-Content-Length: 0", "--data-binary", f"@{image}")
    assert status == 200
    length = int(next(line.split(":")[1] for line in head.splitlines() if line.lower().startswith("inference-header-content-length")))
    header = json.loads(body[:length])
    probabilities = np.frombuffer(body[length:], dtype="<f4")
    assert header["outputs"][0]["parameters"]["binary_data_size"] == 4000 and probabilities.shape == (1000,)
    expected = classify(service, "coffee-422.jpg")
    assert int(np.argmax(probabilities)) == expected[0]["index"]

    request = {"id": "json-1", "inputs": [{"name": "image", "shape": [1], "datatype": "BYTES",
                                           "data": [base64.b64encode(image.read_bytes()).decode()]}],
               "outputs": [{"name": "probabilities", "parameters": {"classification": 3}}]}
    status, _, body = curl(url, "--data-binary", "@-", stdin=json.dumps(request).encode())
    answer = json.loads(body)
    assert status == 200 and answer["id"] == "json-1"
    assert answer["outputs"][0]["data"] == [f"{p['score']}:{p['index']}:{p['label']}" for p in expected[:3]]


def test_kserve_v1_predict_with_two_images(service):
    names = ["cat-444.jpg", "coffee-422.jpg"]
    body = {"instances": [{"image": {"b64": base64.b64encode((IMAGES / n).read_bytes()).decode()}} for n in names]}
    status, _, answer = curl(f"http://127.0.0.1:{service.port}/v1/models/{MODEL}:predict", "-H", "Content-Type: application/json",
                             "--data-binary", "@-", stdin=json.dumps(body).encode())
    assert status == 200
    predictions = json.loads(answer)["predictions"]
    assert predictions == [classify(service, n) for n in names]
    status, _, answer = curl(f"http://127.0.0.1:{service.port}/v1/models/{MODEL}")
    assert status == 200 and json.loads(answer) == {"name": MODEL, "ready": True}


def batch_histogram(service):
    text = service.get("/metrics")[2].decode()
    family = next(f for f in text_string_to_metric_families(text) if f.name == "seresnet_batch_size")
    return {s.labels["le"]: s.value for s in family.samples if s.name.endswith("_bucket")}


def test_eight_images_in_one_request_run_as_one_engine_batch(service, client):
    before = batch_histogram(service)
    client.infer(MODEL, [jpeg_input([BATCH[i % 3] for i in range(8)])])
    after = batch_histogram(service)
    # Exactly one batch was added to the histogram, and it was a batch of 8 (in the le=8 bucket, not le=7).
    assert after["+Inf"] - before["+Inf"] == 1
    assert after["7.0"] == before["7.0"] and after["8.0"] - before["8.0"] == 1


def test_requests_are_counted_by_protocol(service, client):
    def requests_by_protocol():
        text = service.get("/metrics")[2].decode()
        family = next(f for f in text_string_to_metric_families(text) if f.name == "seresnet_http_requests")
        counts = {}
        for sample in family.samples:
            counts[sample.labels["protocol"]] = counts.get(sample.labels["protocol"], 0) + sample.value
        return counts

    before = requests_by_protocol()
    client.is_server_live()
    after = requests_by_protocol()
    assert after.get("v2", 0) - before.get("v2", 0) == 1, (before, after)  # the one OIP call, counted as v2
    assert "classify" in after  # /readyz and /metrics themselves


def oip_raw_request(port, image):
    head = (f"POST /v2/models/{MODEL}/infer HTTP/1.1\r\nHost: x\r\nInference-Header-Content-Length: 0\r\n"
            f"Content-Length: {len(image)}\r\n\r\n").encode()
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    sock.sendall(head + image)
    return sock


def test_overload_and_drain_behave_as_for_classify(binary, seresnet50_model):
    import http.client
    service = ServiceProcess(binary, seresnet50_model, "--model-name", MODEL, "--max-queue", "2", "--max-batch", "1",
                             "--shutdown-delay-s", "600")
    try:
        service.wait_ready()
        image = (IMAGES / "cat-baseline-420.jpg").read_bytes()
        sockets = [oip_raw_request(service.port, image) for _ in range(24)]
        statuses = []
        for sock in sockets:
            response = http.client.HTTPResponse(sock)
            response.begin()
            body = response.read()
            statuses.append(response.status)
            if response.status == 503:
                assert int(response.getheader("Retry-After")) >= 1
                assert "capacity" in json.loads(body)["error"]
            sock.close()
        assert set(statuses) <= {200, 503} and statuses.count(200) >= 2 and statuses.count(503) >= 1, statuses
        service.terminate_and_wait_for_draining()
        status, _, body = service.get("/v2/health/ready")
        assert status == 503 and "shutting down" in json.loads(body)["error"]
        assert service.get(f"/v2/models/{MODEL}/ready")[0] == 503
        assert service.get("/v2/health/live")[0] == 200
        service.process.send_signal(signal.SIGTERM)
        assert service.process.wait(timeout=30) == 0
    finally:
        service.stop()
