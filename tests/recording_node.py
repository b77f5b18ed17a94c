"""A JSON-RPC proxy on 127.0.0.1 in front of a test chain that keeps every request it forwards: the tests that
check what a node is told (nothing about the customer) read its record."""

from __future__ import annotations

import threading
import urllib.request
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@contextmanager
def recording_proxy(upstream: str):
    """Yields (its URL, the list of requests seen, each "PATH BODY"); answers browsers' CORS preflights too."""
    requests = []

    class Handler(BaseHTTPRequestHandler):
        def _cors(self):
            self.send_header("Access-Control-Allow-Origin", "*")
            self.send_header("Access-Control-Allow-Headers", "content-type")
            self.send_header("Access-Control-Allow-Methods", "POST")

        def do_OPTIONS(self):  # noqa: N802 (http.server's name)
            self.send_response(204)
            self._cors()
            self.end_headers()

        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            requests.append(self.path + " " + body.decode())
            request = urllib.request.Request(upstream, data=body, headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=30) as answer:
                data = answer.read()
            self.send_response(200)
            self._cors()
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", requests
    finally:
        server.shutdown()
        server.server_close()
