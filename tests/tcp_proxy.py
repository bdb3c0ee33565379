"""A TCP proxy on 127.0.0.1 that a test can cut and restore: a database outage, for real.

``cut()`` closes the listening socket and every open connection (clients see their
connection reset, new connects are refused: nothing listens on the port); ``restore()``
listens again on the same port. Everything stays on the loopback interface; the number
of connections is bounded.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from local_ports import free_port

if TYPE_CHECKING:
    from traceability.settings import Settings

MAX_CONNECTIONS = 200


class TcpProxy:
    def __init__(self, target_port: int, *, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self.cuts = 0

    def __enter__(self) -> TcpProxy:
        self.restore()
        return self

    def __exit__(
        self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self.cut()

    def restore(self) -> None:
        with self._lock:
            if self._listener is not None:
                return
            listener = socket.socket()
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("127.0.0.1", self.port))
            listener.listen(64)
            self._listener = listener
        self._thread = threading.Thread(target=self._accept, args=(listener,), daemon=True)
        self._thread.start()

    def cut(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
            sockets, self._open = self._open, set()
        if listener is None:
            return
        self.cuts += 1
        with contextlib.suppress(OSError):
            listener.shutdown(socket.SHUT_RDWR)
        listener.close()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _addr = listener.accept()
            except OSError:
                return  # cut
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                if self._listener is not listener or len(self._open) >= 2 * MAX_CONNECTIONS:
                    client.close()
                    upstream.close()
                    continue
                self._open |= {client, upstream}
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            with self._lock:
                self._open.discard(source)
            source.close()  # each socket is the source of exactly one pump


@contextlib.contextmanager
def proxied_postgres(
    postgres_url: str, tmp_path: Path, origin: str
) -> Iterator[tuple[TcpProxy, Settings]]:
    """Settings whose database is a new private schema of the real PostgreSQL, reached
    through a ``TcpProxy`` (migrated, with a log key); the schema is dropped afterwards."""
    import psycopg

    from traceability.settings import Settings
    from traceability.storage.db import make_engine, migrate
    from traceability.transparency.checkpoints import NoteSigner, write_signer_key_file

    parts = urlsplit(postgres_url)
    plain = postgres_url.replace("postgresql+psycopg://", "postgresql://").split("?")[0]
    schema = f"sl_outage_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        with TcpProxy(parts.port or 5432) as proxy:
            netloc = f"{parts.username}@127.0.0.1:{proxy.port}"
            url = urlunsplit(
                (parts.scheme, netloc, parts.path, f"options=-csearch_path%3D{schema}", "")
            )
            engine = make_engine(url)
            migrate(engine)
            engine.dispose()
            key_file = tmp_path / "log.key"
            write_signer_key_file(key_file, NoteSigner.generate(origin.split("/")[0]))
            yield (
                proxy,
                Settings(
                    data_dir=tmp_path,
                    database_url=url,
                    log_origin=origin,
                    signing_key_file=key_file,
                ),
            )
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
