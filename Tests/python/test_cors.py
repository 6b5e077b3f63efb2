"""CORS for browser clients on other origins (--cors-allow-origin): preflights answered before authentication, the
headers on every response to an allowed origin (errors included), nothing for other origins, off by default; and a
real browser (headless Chromium) on another origin calling /classify."""
import http.server
import json
import threading

import pytest

from harness import ServiceProcess, fixture

IMAGE = fixture("images") / "cat-444.jpg"
ORIGIN = "https://app.example"


@pytest.fixture(scope="module")
def service(binary, tmp_path_factory):
    tokens = tmp_path_factory.mktemp("cors") / "tokens"
    tokens.write_text("secret-token\n")
    process = ServiceProcess.ready(binary, fixture("tiny-seresnet"), "--auth-tokens-file", str(tokens),
                                   env={"SERESNET_CORS_ALLOW_ORIGIN": f"{ORIGIN}, http://Other.Example:8080"})
    yield process
    assert process.stop() == 0


def request(service, method, path, headers, body=None):
    connection = service.connection()
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, data


def test_preflight_is_answered_without_a_token(service):
    status, headers, body = request(service, "OPTIONS", "/classify", {
        "Origin": ORIGIN, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type, traceparent, x-unknown"})
    assert status == 204 and body == b""
    assert headers["access-control-allow-origin"] == ORIGIN and headers["access-control-allow-methods"] == "POST"
    assert headers["access-control-allow-headers"] == "authorization, content-type, traceparent"
    assert headers["access-control-max-age"] == "600" and "Origin" in headers["vary"]
    # A method the path does not have: the path's methods are granted, which the browser then refuses.
    status, headers, _ = request(service, "OPTIONS", "/classify", {"Origin": ORIGIN, "Access-Control-Request-Method": "DELETE"})
    assert status == 204 and headers["access-control-allow-methods"] == "POST"
    # With tokens an unknown path is not disclosed: a 204 that grants nothing (without tokens it is 404, below).
    status, headers, _ = request(service, "OPTIONS", "/nope", {"Origin": ORIGIN, "Access-Control-Request-Method": "GET"})
    assert status == 204 and "access-control-allow-methods" not in headers
    # Another origin gets no grant.
    status, headers, _ = request(service, "OPTIONS", "/classify", {
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert status == 204 and "access-control-allow-origin" not in headers and "access-control-allow-methods" not in headers


def test_responses_to_allowed_origins_carry_the_headers(service):
    status, headers, body = request(service, "POST", "/classify", {
        "Origin": "http://other.example:8080", "Authorization": "Bearer secret-token", "Content-Type": "image/jpeg"},
        IMAGE.read_bytes())
    assert status == 200 and json.loads(body)["predictions"]
    assert headers["access-control-allow-origin"] == "http://other.example:8080"
    assert "X-Request-ID" in headers["access-control-expose-headers"] and "Origin" in headers["vary"]
    # Errors too (a browser script can then read the 401), and errors the server itself makes (the 404).
    for path in ("/classify", "/nowhere"):
        status, headers, _ = request(service, "POST", path, {"Origin": ORIGIN}, b"x")
        assert status == 401 and headers["access-control-allow-origin"] == ORIGIN
    # No Origin, or another one: no grant.
    assert "access-control-allow-origin" not in request(service, "GET", "/healthz", {})[1]
    assert "access-control-allow-origin" not in request(service, "GET", "/healthz", {"Origin": "https://evil.example"})[1]


def test_off_by_default_and_star(binary):
    process = ServiceProcess.ready(binary, fixture("tiny-seresnet"))
    try:
        status, headers, _ = request(process, "OPTIONS", "/classify", {"Origin": ORIGIN, "Access-Control-Request-Method": "POST"})
        assert status == 405 and "access-control-allow-origin" not in headers
    finally:
        assert process.stop() == 0
    process = ServiceProcess.ready(binary, fixture("tiny-seresnet"), "--cors-allow-origin", "*")
    try:
        status, headers, _ = request(process, "GET", "/healthz", {"Origin": "https://anyone.example"})
        assert headers["access-control-allow-origin"] == "*" and "vary" not in headers
        assert request(process, "OPTIONS", "/nope", {"Origin": ORIGIN, "Access-Control-Request-Method": "GET"})[0] == 404
    finally:
        assert process.stop() == 0


@pytest.mark.parametrize("value", ["app.example", "https://app.example/", "https://*.example", "https://a.example/path", ","])
def test_bad_origins_stop_the_start(binary, value):
    import subprocess
    result = subprocess.run([str(binary), "serve", "--model", str(fixture("tiny-seresnet")), "--cors-allow-origin", value],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "--cors-allow-origin" in result.stderr


def test_a_page_on_another_origin_calls_classify(binary):
    from test_web_page import chromium
    from selenium.webdriver.support.ui import WebDriverWait

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = b"<!doctype html><title>other origin</title><p id=out>waiting</p>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    page = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=page.serve_forever, daemon=True).start()
    origin = f"http://127.0.0.1:{page.server_address[1]}"
    process = ServiceProcess.ready(binary, fixture("tiny-seresnet"), "--cors-allow-origin", origin)
    driver = chromium()
    try:
        driver.get(origin + "/")
        script = """
            const done = arguments[arguments.length - 1];
            const bytes = Uint8Array.from(atob(arguments[1]), (c) => c.charCodeAt(0));
            fetch(arguments[0] + "/classify?top_k=2", {method: "POST", body: bytes,
                  headers: {"Content-Type": "image/jpeg", "X-Request-ID": "from-the-browser"}})
              .then((r) => r.json().then((b) => done([r.status, r.headers.get("X-Request-ID"), b.predictions.length])))
              .catch((e) => done(["failed", String(e)]));"""
        import base64
        result = driver.execute_async_script(script, f"http://localhost:{process.port}",
                                             base64.b64encode(IMAGE.read_bytes()).decode())
        assert result == [200, "from-the-browser", 2], result
    finally:
        driver.quit()
        page.shutdown()
        assert process.stop() == 0
