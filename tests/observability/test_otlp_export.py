"""Spans leave the process over OTLP/HTTP when ``configure_tracing`` is given an endpoint.

The receiver is a plain HTTP server on 127.0.0.1 that decodes what arrives at
``/v1/traces`` with the OpenTelemetry protos, as a collector would. The exporter
runs in a child process: ``configure_tracing`` installs the process-wide tracer
provider, which must not leak into the other tests.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

CHILD = """
import sys
from dubbo_recsys.provider.observability.tracing import configure_tracing, default_tracer
assert configure_tracing(sys.argv[1], service_name="otlp-test") is True
tracer = default_tracer()
with tracer.start_as_current_span("recommend") as span:
    span.set_attribute("rpc.method", "recommend")
from opentelemetry import trace
trace.get_tracer_provider().shutdown()  # flushes the batch processor
"""


def test_spans_are_exported_over_otlp_http():
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    received: list[tuple[str, bytes]] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            received.append((self.path, body))
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        endpoint = f"http://127.0.0.1:{server.server_address[1]}/v1/traces"
        done = subprocess.run(
            [sys.executable, "-c", CHILD, endpoint],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()
    assert [path for path, _ in received] == ["/v1/traces"]
    request = ExportTraceServiceRequest.FromString(received[0][1])
    (resource_spans,) = request.resource_spans
    service = {a.key: a.value.string_value for a in resource_spans.resource.attributes}["service.name"]
    spans = [span for scope in resource_spans.scope_spans for span in scope.spans]
    assert service == "otlp-test"
    assert [span.name for span in spans] == ["recommend"]
    assert {a.key: a.value.string_value for a in spans[0].attributes} == {"rpc.method": "recommend"}
