"""The witness over HTTP (standard library only): what ``sunledger witness serve`` runs.

* ``POST /add-checkpoint`` — c2sp.org/tlog-witness; 200 with the cosignature
  line(s), or the spec's status with a one-line reason (409 answers the known
  size as ``text/x.tlog.size``).
* ``GET /<hex SHA-256 of the origin>/checkpoint`` — the latest checkpoint this
  witness cosigned for that log, with the log's signature and its own.
* ``GET /`` — the witness's verifier key and the logs it follows.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from traceability.witnessing.witness import Witness, WitnessRefusal

logger = logging.getLogger("sunledger.witness")

MAX_REQUEST_BYTES = 1 << 20


def make_server(
    witness: Witness,
    host: str = "127.0.0.1",
    port: int = 0,
    clock: Callable[[], float] = time.time,
) -> ThreadingHTTPServer:
    """An HTTP server for ``witness`` (port 0: any free port; see ``server_address``)."""
    by_hash = {hashlib.sha256(o.encode()).hexdigest(): o for o in witness.logs}

    class Handler(BaseHTTPRequestHandler):
        server_version = "sunledger-witness"
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            logger.info("%s %s", self.address_string(), format % args)

        def _send(self, status: int, body: str, content_type: str = "text/plain") -> None:
            data = body.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", f"{content_type}; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            if self.path != "/add-checkpoint":
                self._send(404, f"no such endpoint {self.path}\n")
                return
            length_text = self.headers.get("Content-Length")
            if length_text is None or not length_text.isdigit():
                self._send(411, "a Content-Length is required\n")
                return
            length = int(length_text)
            if length > MAX_REQUEST_BYTES:
                self._send(413, f"requests are limited to {MAX_REQUEST_BYTES} bytes\n")
                self.close_connection = True
                return
            body = self.rfile.read(length)
            try:
                lines = witness.add_checkpoint(body, int(clock()))
            except WitnessRefusal as refusal:
                logger.warning("refused (%d): %s", refusal.status, refusal.detail)
                if refusal.status == 409 and refusal.known_size is not None:
                    self._send(409, f"{refusal.known_size}\n", "text/x.tlog.size")
                else:
                    self._send(refusal.status, refusal.detail + "\n")
                return
            self._send(200, lines)

        def do_GET(self) -> None:
            if self.path == "/":
                logs = "".join(f"log {origin}\n" for origin in sorted(witness.logs))
                self._send(200, f"witness {witness.signer.verifier.vkey()}\n{logs}")
                return
            parts = self.path.strip("/").split("/")
            if len(parts) == 2 and parts[1] == "checkpoint" and parts[0] in by_hash:
                record = witness.state.read(by_hash[parts[0]])
                if record is not None:
                    self._send(200, record.note)
                    return
            self._send(404, f"nothing at {self.path}\n")

    return ThreadingHTTPServer((host, port), Handler)


def serve_in_thread(server: ThreadingHTTPServer) -> threading.Thread:
    """Run a server in a daemon thread (the demo's in-process witness)."""
    thread = threading.Thread(target=server.serve_forever, name="witness", daemon=True)
    thread.start()
    return thread
