"""A loopback TCP proxy in front of the S3 server that fails some requests on purpose.

Each client connection carries one request: the proxy reads the request head, then either
answers 503 SlowDown, drops the connection, or forwards it with `Connection: close` and
pumps bytes both ways. It records every request head so tests can see what was sent.

Faults follow a plan per HTTP method, not a random draw: `plan={"PUT": ["503", None, "drop"]}`
fails the first PUT with 503, lets the second through, drops the third, and so on, the plan
repeating. An extra request of another method (one more HEAD, say) never shifts which PUT
fails, so a test can count on every planned fault firing.
"""

from __future__ import annotations

import selectors
import socket
import threading
import time
from collections.abc import Callable, Sequence
from typing import Self

SLOWDOWN = (b"HTTP/1.1 503 Slow Down\r\nContent-Type: application/xml\r\n"
            b"Connection: close\r\nContent-Length: %d\r\n\r\n%s")
SLOWDOWN_BODY = (b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SlowDown</Code>"
                 b"<Message>Please reduce your request rate.</Message></Error>")
SLOW_S = 0.3   # "slow": the answer comes, late
STALL_S = 3.0  # "stall": no answer at all for longer than the client's read timeout


class FaultProxy:
    def __init__(self, upstream_port: int, *,
                 plan: dict[str, Sequence[str | None]] | None = None,
                 rewrite: Callable[[bytes], bytes] | None = None):
        self.upstream = ("127.0.0.1", upstream_port)
        self.plan = {method: list(faults) for method, faults in (plan or {}).items()}
        self.rewrite = rewrite
        self.heads: list[bytes] = []
        self.faults: dict[str, int] = {}
        self.cut = False  # when set, every new request is dropped: the endpoint is gone
        self.cut_when: Callable[[bytes], bool] | None = None
        self._seen: dict[str, int] = {}  # requests per method so far
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Self:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._listener.close()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            head, rest = _read_head(conn)
            if not head:
                return
            with self._lock:
                self.heads.append(head)
                if self.cut_when is not None and self.cut_when(head):
                    self.cut = True
                fault = "drop" if self.cut else self._planned(head)
                if fault:
                    self.faults[fault] = self.faults.get(fault, 0) + 1
            if fault == "503":
                conn.sendall(SLOWDOWN % (len(SLOWDOWN_BODY), SLOWDOWN_BODY))
            if fault == "stall":
                time.sleep(STALL_S)
            if fault == "slow":
                time.sleep(SLOW_S)
            elif fault:
                return
            if self.rewrite:
                head = self.rewrite(head)
            with socket.create_connection(self.upstream) as up:
                up.sendall(_close_after(head) + rest)
                _pump(conn, up)

    def _planned(self, head: bytes) -> str | None:
        method = head.split(b" ", 1)[0].decode()
        faults = self.plan.get(method) or self.plan.get("*")
        n = self._seen.get(method, 0)
        self._seen[method] = n + 1
        return faults[n % len(faults)] if faults else None

    def requests(self, method: str) -> list[bytes]:
        """Request heads seen with this HTTP method, in arrival order."""
        return [h for h in self.heads if h.startswith(method.encode() + b" ")]


def header(head: bytes, name: str) -> str | None:
    for line in head.split(b"\r\n")[1:]:
        key, _, value = line.partition(b":")
        if key.strip().lower() == name.lower().encode():
            return value.strip().decode()
    return None


def _read_head(conn: socket.socket) -> tuple[bytes, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        block = conn.recv(65536)
        if not block:
            return b"", b""
        data += block
    head, _, rest = data.partition(b"\r\n\r\n")
    return head + b"\r\n\r\n", rest


def _close_after(head: bytes) -> bytes:
    """One request per upstream connection, so each request gets its own fault roll."""
    lines = [ln for ln in head.split(b"\r\n") if not ln.lower().startswith(b"connection:")]
    return b"\r\n".join(lines[:1] + [b"Connection: close"] + lines[1:])


def _pump(client: socket.socket, upstream: socket.socket) -> None:
    sel = selectors.DefaultSelector()
    sel.register(client, selectors.EVENT_READ, upstream)
    sel.register(upstream, selectors.EVENT_READ, client)
    try:
        while sel.get_map():
            for key, _ in sel.select(timeout=30):
                src, dst = key.fileobj, key.data
                try:
                    block = src.recv(65536)
                except OSError:
                    block = b""
                if not block:
                    if src is upstream:
                        return  # the answer is complete
                    sel.unregister(src)
                    dst.shutdown(socket.SHUT_WR)
                    continue
                dst.sendall(block)
    except OSError:
        return
    finally:
        sel.close()
