"""Bearer tokens (`--auth-tokens-file`) against the live server, with curl, tritonclient and raw sockets: 401 with the
RFC 6750 challenge and the service's JSON error, probes open, refusal before any body is read, reload on SIGHUP and on
change (a bad file keeps the old tokens), counted in /metrics, and no token in logs or metrics."""
import hashlib
import json
import os
import signal
import socket
import subprocess
import time

import numpy as np
import pytest
import tritonclient.http as httpclient
from prometheus_client.parser import text_string_to_metric_families

from harness import ServiceProcess, fixture

IMAGE = fixture("images") / "cat-444.jpg"
MODEL = "seresnet-test"
SECRET = "first-Secret_token.123"
HASHED = "hashed~token+/=="


def write_tokens(path, *lines):
    # Written beside and renamed over, as a Secret update swaps the file: the server never reads half a file.
    partial = f"{path}.partial"
    with open(partial, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(partial, path)


@pytest.fixture(scope="module")
def tokens_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("auth") / "tokens"
    write_tokens(path, "# who may call", SECRET, "sha256:" + hashlib.sha256(HASHED.encode()).hexdigest())
    return path


@pytest.fixture(scope="module")
def service(binary, tokens_file):
    process = ServiceProcess.ready(binary, fixture("tiny-seresnet"), "--model-name", MODEL, "--auth-tokens-file", str(tokens_file),
                                   "--auth-exempt", "/metrics", "--auth-reload-interval-s", "0")
    yield process
    assert process.stop() == 0


def curl(port, path, *args):
    """Status, headers (lower-cased names) and body of one curl request."""
    result = subprocess.run(["curl", "-s", "-D", "-", f"http://127.0.0.1:{port}{path}", *args], capture_output=True, check=True)
    head, _, body = result.stdout.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


def metric(service, name, **labels):
    _, _, body = service.get("/metrics")
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return None


def test_curl_without_or_with_a_wrong_token_gets_401_and_the_challenge(service):
    status, headers, body = curl(service.port, "/classify", "--data-binary", f"@{IMAGE}")
    assert status == 401 and headers["www-authenticate"] == 'Bearer realm="seresnet"'
    error = json.loads(body)["error"]
    assert error["code"] == "missing_token" and "Authorization: Bearer" in error["message"]
    status, headers, body = curl(service.port, "/classify", "--data-binary", f"@{IMAGE}", "-H", "Authorization: Bearer wrong")
    assert status == 401 and headers["www-authenticate"] == 'Bearer realm="seresnet", error="invalid_token"'
    assert json.loads(body)["error"]["code"] == "invalid_token"
    status, _, body = curl(service.port, "/classify", "-H", f"Authorization: Basic {SECRET}", "--data-binary", f"@{IMAGE}")
    assert status == 401 and json.loads(body)["error"]["code"] == "malformed_authorization"
    # The Open Inference surface answers in its own error shape.
    status, _, body = curl(service.port, f"/v2/models/{MODEL}")
    assert status == 401 and "bearer token" in json.loads(body)["error"]


def test_curl_with_a_token_or_its_digest_line_is_served(service):
    for token in (SECRET, HASHED):
        status, _, body = curl(service.port, "/classify", "--data-binary", f"@{IMAGE}", "-H", f"Authorization: Bearer {token}")
        assert status == 200 and len(json.loads(body)["predictions"]) == 5
        status, _, _ = curl(service.port, "/classify", "-F", f"file=@{IMAGE}", "-H", f"Authorization: Bearer {token}")
        assert status == 200


def test_probes_and_exempt_paths_are_open_the_rest_is_not(service):
    for path in ("/healthz", "/readyz", "/metrics"):
        assert service.get(path)[0] == 200, path
    for path in ("/", "/v1/model", "/openapi.json", "/v2/health/ready", "/nowhere"):
        assert service.get(path)[0] == 401, path
    assert service.get("/nowhere", headers={"Authorization": f"Bearer {SECRET}"})[0] == 404


def test_tritonclient_with_and_without_headers(service):
    client = httpclient.InferenceServerClient(f"127.0.0.1:{service.port}")
    try:
        assert not client.is_server_ready()
        with pytest.raises(Exception) as refused:
            client.get_model_metadata(MODEL)
        assert "bearer token" in str(refused.value)
        headers = {"Authorization": f"Bearer {SECRET}"}
        assert client.is_server_ready(headers=headers) and client.is_model_ready(MODEL, headers=headers)
        image = httpclient.InferInput("image", [1], "BYTES")
        image.set_data_from_numpy(np.array([IMAGE.read_bytes()], dtype=object), binary_data=True)
        result = client.infer(MODEL, [image], outputs=[httpclient.InferRequestedOutput("probabilities", binary_data=True)],
                              headers=headers)
        assert result.as_numpy("probabilities").shape == (1, 1000)
    finally:
        client.close()


def test_an_unauthenticated_upload_is_refused_from_its_head(service):
    """No 100 Continue and no body read: a client without a token cannot make the server buffer 10 MB."""
    with socket.create_connection(("127.0.0.1", service.port), timeout=10) as sock:
        sock.sendall(b"POST /classify HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nContent-Length: 10000000\r\n"
                     b"Expect: 100-continue\r\n\r\n")
        response = b""
        while b"\r\n\r\n" not in response:
            chunk = sock.recv(4096)
            if not chunk:
                break
            response += chunk
    assert response.startswith(b"HTTP/1.1 401 "), response[:80]


def test_failures_are_counted_by_reason_and_no_token_is_logged(service):
    before = {r: metric(service, "seresnet_auth_failures_total", reason=r) for r in ("missing", "malformed", "invalid")}
    assert None not in before.values()
    service.get("/v1/model")
    service.get("/v1/model", headers={"Authorization": "Bearer not-a-token"})
    service.get("/v1/model", headers={"Authorization": "Digest x"})
    for reason in before:
        assert metric(service, "seresnet_auth_failures_total", reason=reason) == before[reason] + 1, reason
    assert metric(service, "seresnet_auth_tokens") == 2
    _, _, metrics = service.get("/metrics")
    for secret in (SECRET, HASHED, "not-a-token"):
        assert secret not in service.log_text() and secret not in metrics.decode()


def test_sighup_reloads_and_a_bad_file_keeps_the_old_tokens(service, tokens_file):
    def status(token):
        return service.get("/v1/model", headers={"Authorization": f"Bearer {token}"})[0]

    entries = len(service.log_entries())
    write_tokens(tokens_file, "rotated-token")
    service.process.send_signal(signal.SIGHUP)
    service.wait_for_log("tokens reloaded", after=entries)
    assert status("rotated-token") == 200 and status(SECRET) == 401
    entries = len(service.log_entries())
    write_tokens(tokens_file, "# emptied by mistake")
    service.process.send_signal(signal.SIGHUP)
    service.wait_for_log("tokens reload failed; the previous tokens stay accepted", after=entries)
    assert status("rotated-token") == 200
    assert metric(service, "seresnet_auth_reload_total", result="failure") >= 1
    write_tokens(tokens_file, "# who may call", SECRET, "sha256:" + hashlib.sha256(HASHED.encode()).hexdigest())
    service.process.send_signal(signal.SIGHUP)
    deadline = time.time() + 10
    while status(SECRET) != 200 and time.time() < deadline:
        time.sleep(0.05)
    assert status(SECRET) == 200


def test_a_changed_file_is_reloaded_without_a_signal(binary, tmp_path):
    path = tmp_path / "tokens"
    write_tokens(path, "before-change")
    service = ServiceProcess.ready(binary, fixture("tiny-seresnet"), "--auth-tokens-file", str(path), "--auth-reload-interval-s", "1")
    try:
        assert service.get("/v1/model", headers={"Authorization": "Bearer before-change"})[0] == 200
        write_tokens(path, "after-change")
        service.wait_for_log("tokens reloaded")
        assert service.get("/v1/model", headers={"Authorization": "Bearer after-change"})[0] == 200
        assert service.get("/v1/model", headers={"Authorization": "Bearer before-change"})[0] == 401
    finally:
        assert service.stop() == 0


@pytest.mark.parametrize("content, message", [("# nobody\n", "holds no tokens"), ("two words\n", "line 1")])
def test_an_unusable_tokens_file_stops_the_start_naming_the_problem(binary, tmp_path, content, message):
    path = tmp_path / "tokens"
    path.write_text(content)
    result = subprocess.run([str(binary), "serve", "--model", str(fixture("tiny-seresnet")), "--port", "0", "--auth-tokens-file",
                             str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and message in result.stderr and "words" not in result.stderr
