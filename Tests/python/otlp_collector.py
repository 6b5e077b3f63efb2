"""A stand-in OpenTelemetry collector: an OTLP/HTTP receiver on loopback that parses every export with the official
protobuf definitions (PyPI opentelemetry-proto) and keeps the spans. `mode` makes it refuse (503) or hang, as a sick
collector does; `close()` kills it."""
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (ExportTraceServiceRequest,
                                                                      ExportTraceServiceResponse)


class Collector:
    def __init__(self):
        self.requests = []  # (headers, ExportTraceServiceRequest)
        self.mode = "ok"  # "ok", "refuse" or "hang"
        self.lock = threading.Lock()
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if collector.mode == "hang":
                    time.sleep(30)
                    return
                if self.path != "/v1/traces" or self.headers.get("Content-Type") != "application/x-protobuf":
                    self.send_response(400)
                    self.end_headers()
                    return
                if collector.mode == "refuse":
                    self.send_response(503)
                    self.end_headers()
                    return
                request = ExportTraceServiceRequest()
                request.ParseFromString(body)  # raises on bytes that are not a valid message
                with collector.lock:
                    collector.requests.append((dict(self.headers), request))
                reply = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}/v1/traces"

    def spans(self):
        """Every span received so far, each with its resource's attributes: (resource dict, scope, span)."""
        with self.lock:
            found = []
            for _, request in self.requests:
                for resource_spans in request.resource_spans:
                    resource = {kv.key: value(kv.value) for kv in resource_spans.resource.attributes}
                    for scope_spans in resource_spans.scope_spans:
                        for span in scope_spans.spans:
                            found.append((resource, scope_spans.scope, span))
            return found

    def wait_for(self, predicate, timeout=15):
        """The spans once `predicate(spans)` holds (polls; fails after `timeout` seconds)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            spans = [s for _, _, s in self.spans()]
            if predicate(spans):
                return spans
            time.sleep(0.05)
        raise TimeoutError(f"the collector did not receive the expected spans: {[s.name for _, _, s in self.spans()]}")

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def value(any_value):
    """An AnyValue's Python value."""
    return getattr(any_value, any_value.WhichOneof("value"))


def attributes(span):
    return {kv.key: value(kv.value) for kv in span.attributes}
