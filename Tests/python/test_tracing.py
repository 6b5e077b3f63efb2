"""OpenTelemetry traces against a stand-in collector that parses every export with the official protobuf definitions
(otlp_collector.py): W3C Trace Context continued or started, one server span per request named and attributed as
the HTTP semantic conventions say, child spans for each image's stages, the batch's span linked both ways, samplers,
and a collector that refuses, hangs or is killed mid-run: requests unaffected, drops counted in /metrics."""
import base64
import json
import subprocess
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from harness import ServiceProcess, fixture
from otlp_collector import Collector, attributes

MODEL = "seresnet-test"
IMAGE = fixture("images") / "cat-444.jpg"
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = "00f067aa0ba902b7"
SERVER, INTERNAL = 2, 1


@pytest.fixture(scope="module")
def collector():
    collector = Collector()
    yield collector
    collector.close()


def start(binary, collector, *arguments, **env):
    return ServiceProcess.ready(
        binary, fixture("tiny-seresnet"), "--model-name", MODEL, "--otel-traces-endpoint", collector.endpoint, *arguments,
        env={"OTEL_BSP_SCHEDULE_DELAY": "50", **env})


@pytest.fixture(scope="module")
def service(binary, collector):
    process = start(binary, collector, "--otel-service-name", "classifier", "--otel-headers", "x-api-key=s%20cret",
                    OTEL_RESOURCE_ATTRIBUTES="deployment.environment=test")
    yield process
    assert process.stop() == 0


def trace_of(spans, trace_hex):
    return [s for s in spans if s.trace_id.hex() == trace_hex]


def span_counts(service):
    _, _, body = service.get("/metrics")
    counts = {}
    for family in text_string_to_metric_families(body.decode()):
        if family.name == "seresnet_trace_spans":
            for sample in family.samples:
                if sample.name.endswith("_total"):
                    counts[sample.labels["outcome"]] = sample.value
    return counts


def test_continues_the_callers_trace(service, collector):
    status, headers, _ = service.post("/classify", IMAGE.read_bytes(), headers={
        "traceparent": f"00-{TRACE}-{PARENT}-01", "tracestate": "vendor=abc,other=1"})
    assert status == 200
    version, trace, span_id, flags = headers["traceparent"].split("-")
    assert (version, trace, flags) == ("00", TRACE, "01") and span_id != PARENT and len(span_id) == 16
    assert headers["tracestate"] == "vendor=abc,other=1"
    spans = collector.wait_for(lambda spans: len(trace_of(spans, TRACE)) >= 5)
    ours = trace_of(spans, TRACE)
    (server,) = [s for s in ours if s.kind == SERVER]
    assert server.name == "POST /classify" and server.span_id.hex() == span_id and server.parent_span_id.hex() == PARENT
    assert server.trace_state == "vendor=abc,other=1"
    # Span.flags: sampled, and the parent's remoteness known (0x100) and true (0x200) for the caller's span.
    assert server.flags == 0x301
    a = attributes(server)
    assert a["http.request.method"] == "POST" and a["http.route"] == "/classify" and a["url.path"] == "/classify"
    assert a["http.response.status_code"] == 200 and a["url.scheme"] == "http" and a["server.port"] == service.port
    assert a["server.address"] == "127.0.0.1" and a["client.address"] == "127.0.0.1" and a["network.protocol.version"] == "1.1"
    assert a["http.request.body.size"] == len(IMAGE.read_bytes())
    assert server.status.code == 0 and server.end_time_unix_nano >= server.start_time_unix_nano
    children = {s.name: s for s in ours if s.kind == INTERNAL}
    assert set(children) == {"decode", "preprocess", "queue", "inference"}
    for child in children.values():
        assert child.parent_span_id == server.span_id and child.flags == 0x101
        assert server.start_time_unix_nano <= child.start_time_unix_nano <= child.end_time_unix_nano <= server.end_time_unix_nano
    # The stages follow one another.
    order = [children[n] for n in ("decode", "preprocess", "queue", "inference")]
    assert all(a.end_time_unix_nano <= b.start_time_unix_nano + 1000 for a, b in zip(order, order[1:]))
    inference = children["inference"]
    assert attributes(inference)["seresnet.batch.size"] >= 1
    # The batch's span: a trace of its own, linked from the request's inference span and linking back to its server span.
    (link,) = inference.links
    batch = collector.wait_for(lambda spans: any(s.span_id == link.span_id for s in spans))
    (batch,) = [s for s in batch if s.span_id == link.span_id]
    assert batch.name == "batch" and batch.trace_id == link.trace_id != server.trace_id and not batch.parent_span_id
    assert any(l.trace_id == server.trace_id and l.span_id == server.span_id for l in batch.links)
    # The resource and the exporter's headers.
    resource, scope, _ = next(r for r in collector.spans() if r[2].span_id == server.span_id)
    assert resource["service.name"] == "classifier" and resource["deployment.environment"] == "test"
    assert scope.name == "seresnet"
    assert all(h.get("x-api-key") == "s cret" for h, _ in collector.requests)


def test_starts_a_trace_without_or_with_a_bad_traceparent(service, collector):
    for header in (None, "00-00000000000000000000000000000000-00f067aa0ba902b7-01", f"00-{TRACE.upper()}-{PARENT}-01",
                   f"ff-{TRACE}-{PARENT}-01", "garbage"):
        status, headers, _ = service.get("/v1/model", headers={"traceparent": header} if header else {})
        assert status == 200
        version, trace, span_id, flags = headers["traceparent"].split("-")
        assert trace != TRACE.lower() and flags == "01" and "tracestate" not in headers
        spans = collector.wait_for(lambda spans: any(s.span_id.hex() == span_id for s in spans))
        (server,) = [s for s in spans if s.span_id.hex() == span_id]
        assert server.name == "GET /v1/model" and not server.parent_span_id


def test_repeated_trace_headers(service, collector):
    # Two traceparent fields are invalid (a new trace starts); several tracestate fields are one list.
    connection = service.connection()
    connection.putrequest("GET", "/healthz")
    connection.putheader("traceparent", f"00-{TRACE}-{PARENT}-01")
    connection.putheader("traceparent", f"00-{TRACE}-{PARENT}-01")
    connection.endheaders()
    response = connection.getresponse()
    response.read()
    assert response.status == 200 and TRACE not in response.getheader("traceparent")
    connection.putrequest("GET", "/healthz")
    connection.putheader("traceparent", f"00-{TRACE}-{PARENT}-01")
    connection.putheader("tracestate", "a=1")
    connection.putheader("tracestate", "b=2")
    connection.endheaders()
    response = connection.getresponse()
    response.read()
    assert TRACE in response.getheader("traceparent") and response.getheader("tracestate") == "a=1,b=2"
    connection.close()


def test_unsampled_callers_are_not_recorded(service, collector):
    trace = "11111111111111111111111111111111"
    status, headers, _ = service.post("/classify", IMAGE.read_bytes(), headers={"traceparent": f"00-{trace}-{PARENT}-00"})
    assert status == 200 and headers["traceparent"].startswith(f"00-{trace}-") and headers["traceparent"].endswith("-00")
    # A sampled request after it is exported; the unsampled one never is.
    marker = "22222222222222222222222222222222"
    service.get("/healthz", headers={"traceparent": f"00-{marker}-{PARENT}-01"})
    spans = collector.wait_for(lambda spans: trace_of(spans, marker))
    assert not trace_of(spans, trace)


def test_open_inference_batch_and_errors(service, collector):
    trace = "33333333333333333333333333333333"
    body = json.dumps({"inputs": [{"name": "image", "datatype": "BYTES", "shape": [2], "data": [
        base64.b64encode(IMAGE.read_bytes()).decode(), base64.b64encode(IMAGE.read_bytes()).decode()]}]}).encode()
    status, _, _ = service.post(f"/v2/models/{MODEL}/infer", body, headers={
        "traceparent": f"00-{trace}-{PARENT}-01", "Content-Type": "application/json"})
    assert status == 200
    spans = collector.wait_for(lambda spans: len(trace_of(spans, trace)) >= 9)
    (server,) = [s for s in trace_of(spans, trace) if s.kind == SERVER]
    assert server.name == "POST /v2/models/{model}/infer" and attributes(server)["http.route"] == "/v2/models/{model}/infer"
    indices = sorted(attributes(s)["seresnet.image.index"] for s in trace_of(spans, trace) if s.name == "decode")
    assert indices == [0, 1]
    # A client error is a span with its status code, not an error span (only 5xx are, for servers).
    trace = "44444444444444444444444444444444"
    status, _, _ = service.post("/classify", b"\xff\xd8 not a jpeg", headers={"traceparent": f"00-{trace}-{PARENT}-01"})
    assert status == 422
    spans = collector.wait_for(lambda spans: any(s.kind == SERVER for s in trace_of(spans, trace)))
    (server,) = [s for s in trace_of(spans, trace) if s.kind == SERVER]
    assert attributes(server)["http.response.status_code"] == 422 and server.status.code == 0
    assert "error.type" not in attributes(server)


def test_samplers(binary, collector):
    process = start(binary, collector, "--otel-traces-sampler", "traceidratio", "--otel-traces-sampler-arg", "0.5")
    try:
        # The ratio looks at the trace ID's last 8 bytes and ignores the caller's flag: below 2^63·0.5 after the shift
        # is sampled, above is not.
        low, high = "0" * 16 + "1000000000000000", "0" * 16 + "f000000000000000"
        assert process.get("/healthz", headers={"traceparent": f"00-{low}-{PARENT}-00"})[1]["traceparent"].endswith("-01")
        assert process.get("/healthz", headers={"traceparent": f"00-{high}-{PARENT}-01"})[1]["traceparent"].endswith("-00")
        collector.wait_for(lambda spans: trace_of(spans, low))
    finally:
        assert process.stop() == 0
    process = start(binary, collector, OTEL_TRACES_SAMPLER="always_off")
    try:
        assert process.get("/healthz", headers={"traceparent": f"00-{TRACE}-{PARENT}-01"})[1]["traceparent"].endswith("-00")
    finally:
        assert process.stop() == 0


@pytest.mark.parametrize("env, message", [
    ({"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, "http/protobuf"),
    ({"OTEL_TRACES_SAMPLER": "jaeger_remote"}, "OTEL_TRACES_SAMPLER"),
    ({"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "2"}, "OTEL_TRACES_SAMPLER_ARG"),
    ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "ftp://x/v1/traces"}, "not an http"),
])
def test_bad_settings_stop_the_start(binary, env, message):
    result = subprocess.run([str(binary), "serve", "--model", str(fixture("tiny-seresnet")), "--port", "0"],
                            env={"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1", **env}, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode != 0 and message in result.stderr, result.stderr


def test_a_sick_or_dead_collector_costs_requests_nothing(binary):
    collector = Collector()
    process = start(binary, collector, OTEL_BSP_MAX_QUEUE_SIZE="16", OTEL_BSP_MAX_EXPORT_BATCH_SIZE="8",
                    OTEL_EXPORTER_OTLP_TIMEOUT="2000")
    try:
        assert process.post("/classify", IMAGE.read_bytes())[0] == 200
        collector.wait_for(lambda spans: len(spans) >= 5)
        # Refusing: the exports fail and their spans are counted as dropped.
        collector.mode = "refuse"
        for _ in range(3):
            assert process.post("/classify", IMAGE.read_bytes())[0] == 200
        deadline = time.time() + 15
        while span_counts(process).get("export_failed", 0) == 0 and time.time() < deadline:
            time.sleep(0.1)
        assert span_counts(process)["export_failed"] > 0
        # Hanging: the exporter waits for its timeout while spans pile up; the queue (16) overflows and drops.
        collector.mode = "hang"
        for _ in range(20):
            assert process.post("/classify", IMAGE.read_bytes())[0] == 200
        assert span_counts(process)["queue_full"] > 0
        # Killed mid-run: connections are refused; requests are still answered.
        collector.close()
        for _ in range(5):
            assert process.post("/classify", IMAGE.read_bytes())[0] == 200
        counts = span_counts(process)
        assert counts["exported"] >= 5
    finally:
        assert process.stop() == 0
