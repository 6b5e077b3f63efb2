"""Live-server tier: the real `seresnet serve` on loopback, driven by curl and Python's http.client."""
import concurrent.futures
import http.client
import json
import signal
import socket
import subprocess
import threading
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from harness import ServiceProcess, fixture

IMAGES = fixture("images")
GOLDEN = json.loads((fixture("tiny-seresnet/golden.json")).read_text())["images"]
BAD = {
    "bad-empty.jpg": (400, "empty_body"),
    "bad-not-an-image.jpg": (415, "unsupported_media_type"),
    "bad-png-named-jpg.jpg": (415, "unsupported_media_type"),
    "bad-garbage-after-soi.jpg": (422, "corrupt_image"),
    "bad-header-only.jpg": (422, None),
    "bad-truncated-60pct.jpg": (422, None),
    "bad-bomb-65000x65000.jpg": (422, "image_too_large"),
}


@pytest.fixture(scope="module")
def tiny_service(binary):
    service = ServiceProcess.ready(binary, fixture("tiny-seresnet"), "--max-batch", "4", "--max-batch-delay-ms", "5")
    yield service
    assert service.stop() == 0


def check_golden(name, body):
    golden = GOLDEN[name]
    indices = [p["index"] for p in body["predictions"]]
    comparable = 5 if golden["margin_5th_6th"] > 0.05 else 4
    # Decoded at full resolution (the default): the input tensor is timm's, so is the order.
    assert indices[:comparable] == golden["top5"][:comparable], (name, indices)
    assert "decode_scale" not in body["image"], body["image"]
    scores = [p["score"] for p in body["predictions"]]
    assert scores == sorted(scores, reverse=True)
    assert all(p["label"] and not p["label"].startswith("class_") for p in body["predictions"])


def curl(*args):
    result = subprocess.run(["curl", "-sS", "-o", "-", "-w", "\n%{http_code}", *args], capture_output=True, check=True)
    body, _, status = result.stdout.rpartition(b"\n")
    return int(status), body


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_curl_raw_and_multipart_give_timm_top5(tiny_service, name):
    url = f"http://127.0.0.1:{tiny_service.port}/classify"
    status, body = curl("--data-binary", f"@{IMAGES / name}", "-H", "Content-Type: image/jpeg", url)
    assert status == 200
    check_golden(name, json.loads(body))
    status, body = curl("-F", f"file=@{IMAGES / name}", url)
    assert status == 200
    check_golden(name, json.loads(body))
    status, body = curl("-F", f"image=@{IMAGES / name}", url + "?top_k=3")
    assert status == 200 and len(json.loads(body)["predictions"]) == 3


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_images_get_the_right_4xx(tiny_service, name):
    expected_status, expected_code = BAD[name]
    for request in ("raw", "multipart"):
        if request == "raw":
            status, body = curl("--data-binary", f"@{IMAGES / name}", f"http://127.0.0.1:{tiny_service.port}/classify")
        else:
            status, body = curl("-F", f"file=@{IMAGES / name}", f"http://127.0.0.1:{tiny_service.port}/classify")
        assert status == expected_status, (name, request, body)
        error = json.loads(body)["error"]
        assert error["status"] == expected_status and error["message"]
        if expected_code:
            assert error["code"] == expected_code
    # The service is still healthy afterwards.
    assert tiny_service.get("/healthz")[0] == 200


def test_http_client_keep_alive_and_headers(tiny_service):
    connection = tiny_service.connection()
    image = (IMAGES / "cat-baseline-420.jpg").read_bytes()
    for i in range(3):
        connection.request("POST", "/classify?top_k=5", body=image, headers={"X-Request-ID": f"req-{i}"})
        response = connection.getresponse()
        body = json.loads(response.read())
        assert response.status == 200
        assert response.getheader("X-Request-ID") == f"req-{i}"
        assert response.getheader("Content-Type") == "application/json"
        assert "inference;dur=" in response.getheader("Server-Timing")
        assert set(body["timing_ms"]) == {"queue", "decode", "preprocess", "inference", "total"}
        assert body["image"] == {"width": 451, "height": 300}
        check_golden("cat-baseline-420.jpg", body)
    connection.close()
    access = [e for e in tiny_service.log_entries() if e.get("logger") == "access" and e.get("request_id") == "req-2"]
    assert access and access[0]["status"] == 200 and access[0]["method"] == "POST" and access[0]["bytes_in"] > len(image)


def test_other_endpoints_and_errors(tiny_service):
    status, _, body = tiny_service.get("/healthz")
    assert status == 200 and json.loads(body) == {"status": "ok"}
    status, _, body = tiny_service.get("/v1/model")
    model = json.loads(body)
    assert status == 200 and model["classes"] == 1000 and model["architecture"]["depths"] == [3, 4, 6, 3]
    assert model["weights"]["sha256"] == json.loads((fixture("tiny-seresnet/golden.json")).read_text())["weights_sha256"]
    status, _, body = tiny_service.get("/nope")
    assert status == 404 and json.loads(body)["error"]["code"] == "not_found"
    connection = tiny_service.connection()
    connection.request("DELETE", "/classify")
    response = connection.getresponse()
    assert response.status == 405 and response.getheader("Allow") == "POST"
    response.read()
    connection.close()
    for query in ("top_k=0", "top_k=1001", "top_k=x", "top_k=%2B5"):
        status, _, body = tiny_service.post(f"/classify?{query}", (IMAGES / "cat-444.jpg").read_bytes())
        assert status == 400 and json.loads(body)["error"]["code"] == "invalid_top_k", query
    status, _, body = tiny_service.post("/classify", b"")
    assert status == 400 and json.loads(body)["error"]["code"] == "empty_body"


def test_oversized_body_is_413_with_the_limit(binary):
    service = ServiceProcess(binary, fixture("tiny-seresnet"), "--max-body-bytes", "10000")
    try:
        service.wait_ready()
        status, body = curl("--data-binary", f"@{IMAGES / 'cat-444.jpg'}", f"http://127.0.0.1:{service.port}/classify")
        assert status == 413
        error = json.loads(body)["error"]
        assert error["code"] == "payload_too_large" and "10000" in error["message"]
        # curl with Expect: 100-continue gets the 413 from the head instead of waiting out its expect timeout
        # (curl says "Done waiting for 100-continue" when it gives up and sends the body anyway).
        run = subprocess.run(["curl", "-sS", "-v", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Expect: 100-continue",
                              "--expect100-timeout", "30", "--data-binary", f"@{IMAGES / 'cat-444.jpg'}",
                              f"http://127.0.0.1:{service.port}/classify"], capture_output=True, text=True, timeout=60)
        assert run.stdout == "413" and "Done waiting for 100-continue" not in run.stderr, run.stderr
    finally:
        assert service.stop() == 0


@pytest.mark.parametrize("how", ["flag", "env"])
def test_dct_scaling_is_opt_in_and_reported(binary, how):
    """--jpeg-dct-scaling (or SERESNET_JPEG_DCT_SCALING=1) decodes the 4096² fixture at 1/8 and says so in
    image.decode_scale; a small image stays at full scale; the top-1 still matches timm's."""
    args, env = (["--jpeg-dct-scaling"], None) if how == "flag" else ([], {"SERESNET_JPEG_DCT_SCALING": "1"})
    service = ServiceProcess(binary, fixture("tiny-seresnet"), *args, env=env)
    golden = json.loads((fixture("tiny-seresnet/golden.json")).read_text())["images"]
    try:
        service.wait_ready()
        status, _, body = service.post("/classify", (IMAGES / "astronaut-large-4096x4096.jpg").read_bytes())
        result = json.loads(body)
        assert status == 200 and result["image"] == {"width": 4096, "height": 4096, "decode_scale": 0.125}, result["image"]
        assert result["predictions"][0]["index"] == golden["astronaut-large-4096x4096.jpg"]["top5"][0]
        status, _, body = service.post("/classify", (IMAGES / "cat-baseline-420.jpg").read_bytes())
        assert status == 200 and "decode_scale" not in json.loads(body)["image"]
    finally:
        assert service.stop() == 0


def test_metrics_parse_with_prometheus_client(tiny_service):
    tiny_service.post("/classify", (IMAGES / "coffee-422.jpg").read_bytes())
    status, headers, body = tiny_service.get("/metrics")
    assert status == 200 and headers["Content-Type"].startswith("text/plain; version=0.0.4")
    families = {f.name: f for f in text_string_to_metric_families(body.decode())}
    for name in ("seresnet_http_requests", "seresnet_http_request_duration_seconds", "seresnet_queue_wait_seconds", "seresnet_decode_seconds",
                 "seresnet_preprocess_seconds", "seresnet_inference_seconds", "seresnet_batch_size", "seresnet_requests_in_flight",
                 "seresnet_queue_depth", "seresnet_images_classified", "process_resident_memory_bytes", "process_start_time_seconds"):
        assert name in families, name
    requests = {(s.labels.get("route"), s.labels.get("status")): s.value for s in families["seresnet_http_requests"].samples if s.name.endswith("_total")}
    assert requests[("/classify", "200")] >= 1
    assert [s.value for s in families["process_resident_memory_bytes"].samples][0] > 10_000_000
    assert abs([s.value for s in families["process_start_time_seconds"].samples][0] - time.time()) < 3600


def test_sixteen_concurrent_clients_fifty_requests_each(tiny_service):
    names = sorted(GOLDEN)
    images = {name: (IMAGES / name).read_bytes() for name in names}

    def client(index):
        connection = tiny_service.connection()
        failures = []
        for i in range(50):
            name = names[(index + i) % len(names)]
            connection.request("POST", "/classify", body=images[name])
            response = connection.getresponse()
            body = response.read()
            if response.status != 200:
                failures.append((name, response.status, body))
                continue
            try:
                check_golden(name, json.loads(body))
            except AssertionError as error:
                failures.append((name, str(error)))
        connection.close()
        return failures

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        failures = [f for result in pool.map(client, range(16)) for f in result]
    assert failures == []
    batches = [e for e in tiny_service.log_entries() if e.get("logger") == "access" and e.get("path") == "/classify"]
    assert len(batches) >= 800


def post_head(length):
    return f"POST /classify HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n".encode()


def read_response(sock):
    response = http.client.HTTPResponse(sock)
    response.begin()
    return response.status, dict(response.getheaders()), response.read()


def test_overload_gives_only_200_and_503_with_retry_after(binary, seresnet50_model):
    service = ServiceProcess(binary, seresnet50_model, "--max-queue", "2", "--max-batch", "1")
    try:
        service.wait_ready()
        image = (IMAGES / "cat-baseline-420.jpg").read_bytes()
        # All 24 are sent before any answer is read: a few milliseconds, against ~80 ms per inference, so the
        # queue overflows however the machine schedules the test (threads each doing a round trip may not).
        sockets = []
        for _ in range(24):
            sock = socket.create_connection(("127.0.0.1", service.port), timeout=60)
            sock.sendall(post_head(len(image)) + image)
            sockets.append(sock)
        results = []
        for sock in sockets:
            status, headers, body = read_response(sock)
            results.append((status, headers.get("Retry-After"), json.loads(body)))
            sock.close()
        statuses = [status for status, _, _ in results]
        assert set(statuses) <= {200, 503}, statuses
        assert statuses.count(200) >= 2 and statuses.count(503) >= 1, statuses
        for status, retry_after, body in results:
            if status == 503:
                assert body["error"]["code"] == "overloaded"
                assert retry_after is not None and int(retry_after) >= 1
        assert service.get("/healthz")[0] == 200
    finally:
        assert service.stop() == 0


def test_sigterm_finishes_uploads_in_flight_and_exits_zero(binary, seresnet50_model):
    service = ServiceProcess(binary, seresnet50_model, "--max-batch", "2")
    try:
        service.wait_ready()
        image = (IMAGES / "coffee-progressive.jpg").read_bytes()
        # In flight when SIGTERM arrives: a /readyz head without its final CRLF, and four uploads without their
        # last byte. They are completed after it, are answered, and the probe sees readiness already flipped.
        probe = socket.create_connection(("127.0.0.1", service.port), timeout=60)
        probe.sendall(b"GET /readyz HTTP/1.1\r\nHost: x\r\n")
        uploads = []
        for _ in range(4):
            sock = socket.create_connection(("127.0.0.1", service.port), timeout=60)
            sock.sendall(post_head(len(image)) + image[:-1])
            uploads.append(sock)
        # Barrier: the server polls every accepted connection each turn, so once a later connection has been
        # answered, the heads sent above have been read (no sleeps to guess at).
        assert service.get("/healthz")[0] == 200
        service.terminate_and_wait_for_draining()
        probe.sendall(b"\r\n")
        readiness = read_response(probe)[0]
        probe.close()
        statuses = []
        for sock in uploads:
            sock.sendall(image[-1:])
            statuses.append(read_response(sock)[0])
            sock.close()
        assert service.process.wait(timeout=40) == 0
        assert statuses == [200, 200, 200, 200], statuses
        assert readiness == 503, readiness
        messages = [e.get("message") for e in service.log_entries()]
        assert "draining" in messages and "stopped" in messages
    finally:
        service.stop()


@pytest.mark.parametrize("second_signal", [False, True])
def test_shutdown_delay_keeps_serving_with_readiness_at_503(binary, second_signal):
    # Without a second signal the delay (3 s) runs out on its own; a second signal cuts a 600 s one short.
    service = ServiceProcess(binary, fixture("tiny-seresnet"), "--shutdown-delay-s", "600" if second_signal else "3")
    try:
        service.wait_ready()
        service.terminate_and_wait_for_draining()
        # New connections are still accepted: readiness says go elsewhere, requests are still answered.
        status, _, body = service.get("/readyz")
        assert status == 503 and json.loads(body)["error"]["code"] == "shutting_down"
        assert service.post("/classify", (IMAGES / "cat-444.jpg").read_bytes())[0] == 200
        assert service.process.poll() is None
        if second_signal:
            service.process.send_signal(signal.SIGTERM)
        assert service.process.wait(timeout=30) == 0
    finally:
        service.stop()


def resident_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))


def test_memory_returns_to_baseline_after_a_burst_of_large_uploads(binary):
    # Bodies of 12 MB (not JPEGs: each gets its 415 after being read in full), 24 at once, twice. Without the
    # fixed mmap threshold (MemoryPolicy) glibc keeps them in its arenas and resident memory stays hundreds
    # of megabytes up after the burst.
    service = ServiceProcess(binary, fixture("tiny-seresnet"))
    try:
        service.wait_ready()
        service.post("/classify", (IMAGES / "cat-444.jpg").read_bytes())
        baseline = resident_kib(service.process.pid)
        body = bytes(range(256)) * (12_000_000 // 256)

        def upload(_):
            return service.post("/classify", body)[0]

        for _ in range(2):
            with concurrent.futures.ThreadPoolExecutor(24) as pool:
                assert set(pool.map(upload, range(24))) == {415}
        # Each body is freed once its connection is done; give a busy machine time to get there.
        deadline = time.time() + 10
        while (grown := resident_kib(service.process.pid) - baseline) >= 64 * 1024 and time.time() < deadline:
            time.sleep(0.1)
        assert grown < 64 * 1024, f"resident memory {grown} KiB above the {baseline} KiB baseline after the burst"
    finally:
        assert service.stop() == 0


def test_keep_alive_clients_never_lose_a_request_to_the_drain(binary):
    """16 keep-alive clients, no balancer in front, SIGTERM with a shutdown delay: during the delay every response
    says Connection: close, so no request is ever sent on a reused connection the drain then closes. The only
    failures allowed are on new connections as the listener closes: refused connects, and a connect the kernel
    completed into the listen queue just before the listener closed, which the close then resets before the request
    is read (TCP's own race, any server has it; the request was never read: a balancer or client retries it
    elsewhere). Before responses carried Connection: close from SIGTERM on, 0-5 requests on reused connections died
    with a reset or broken pipe per trial."""
    service = ServiceProcess.ready(binary, fixture("tiny-seresnet"), "--shutdown-delay-s", "2")
    image = (IMAGES / "cat-444.jpg").read_bytes()
    stop = time.time() + 30
    outcomes = {"ok": 0, "refused": 0, "reset_on_connect": 0, "lost": []}
    lock = threading.Lock()

    def client():
        connection = service.connection(timeout=10)
        while time.time() < stop and service.process.poll() is None:
            fresh = connection.sock is None  # http.client reconnects after a Connection: close response
            try:
                connection.request("POST", "/classify", body=image)
            except ConnectionRefusedError:
                with lock:
                    outcomes["refused"] += 1
                return
            except OSError as error:
                with lock:
                    if fresh:  # a new connection reset as the listener closed: its request was never read
                        outcomes["reset_on_connect"] += 1
                    else:  # sending on a reused connection the server had closed: what must not happen
                        outcomes["lost"].append(repr(error))
                return
            try:
                response = connection.getresponse()
                response.read()
                with lock:
                    if response.status == 200:
                        outcomes["ok"] += 1
                    else:
                        outcomes["lost"].append(response.status)
            except (OSError, http.client.HTTPException) as error:  # a request sent but never answered
                with lock:
                    if fresh and isinstance(error, (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected)):
                        outcomes["reset_on_connect"] += 1  # the same race, seen at the answer
                    else:
                        outcomes["lost"].append(repr(error))
                return
            time.sleep(0.03)

    try:
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            futures = [pool.submit(client) for _ in range(16)]
            time.sleep(1.5)
            service.terminate_and_wait_for_draining()
            for future in futures:
                future.result()
        assert service.process.wait(timeout=40) == 0
        assert outcomes["lost"] == [], outcomes
        assert outcomes["ok"] > 50, outcomes
    finally:
        service.stop()
