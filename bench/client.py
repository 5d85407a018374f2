"""A minimal keep-alive HTTP/1.1 client on a raw socket (TCP_NODELAY), and its own overhead.

Why raw: the benchmark should measure the server, not the client. ``http.client`` costs ~60 µs per
request on this machine class and httpx several times that; this client formats one request with
one ``sendall`` and parses only the status line, ``Content-Length`` and the body.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Mapping

_CANNED_SERVER = r"""
import socket, sys
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0)); srv.listen(8); print(srv.getsockname()[1], flush=True)
body = b'{"status":"healthy"}'
head = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n"
reply = head % len(body) + body
conn, _ = srv.accept(); conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
buf = b""
while True:
    data = conn.recv(65536)
    if not data:
        break
    buf += data
    while b"\r\n\r\n" in buf:
        head, _, buf = buf.partition(b"\r\n\r\n")
        conn.sendall(reply)
"""


class RawClient:
    """One keep-alive connection; ``request`` returns ``(status, headers, body)``."""

    def __init__(self, host: str, port: int, timeout: float = 60.0) -> None:
        self.host, self.port = host, port
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._buf = b""

    def close(self) -> None:
        self.sock.close()

    def request(
        self, method: str, path: str, body: bytes = b"", headers: Mapping[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        self.send(method, path, body, headers)
        return self.receive()

    def send(
        self, method: str, path: str, body: bytes = b"", headers: Mapping[str, str] | None = None
    ) -> None:
        """Write one request; ``receive`` reads its response (``request`` does both)."""
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
        for name, value in (headers or {}).items():
            head += f"{name}: {value}\r\n"
        if body or method in ("POST", "PUT"):
            head += f"Content-Length: {len(body)}\r\n"
        self.sock.sendall(head.encode("latin-1") + b"\r\n" + body)

    def receive(self) -> tuple[int, dict[str, str], bytes]:
        """The next response on this connection: ``(status, headers, body)``."""
        return self._response()

    def _response(self) -> tuple[int, dict[str, str], bytes]:
        while b"\r\n\r\n" not in self._buf:
            self._recv()
        head, _, rest = self._buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            self._buf = rest
            return status, headers, self._chunked()
        length = int(headers.get("content-length", "0"))
        while len(rest) < length:
            rest += self._more()
        self._buf = rest[length:]
        return status, headers, rest[:length]

    def _chunked(self) -> bytes:
        body = b""
        while True:
            while b"\r\n" not in self._buf:
                self._recv()
            size_line, _, self._buf = self._buf.partition(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            while len(self._buf) < size + 2:
                self._recv()
            body += self._buf[:size]
            self._buf = self._buf[size + 2 :]
            if size == 0:
                return body  # no trailers are expected from the servers benchmarked here

    def _recv(self) -> None:
        self._buf += self._more()

    def _more(self) -> bytes:
        data = self.sock.recv(262144)
        if not data:
            raise ConnectionError("server closed the connection")
        return data


def overhead(n: int = 2000) -> list[float]:
    """Round trips of this client against a canned server in another process (client + loopback)."""
    proc = subprocess.Popen([sys.executable, "-c", _CANNED_SERVER], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        client = RawClient("127.0.0.1", port)
        samples = []
        for i in range(n + 200):
            t = time.perf_counter()
            client.request("GET", "/api/health")
            if i >= 200:
                samples.append(time.perf_counter() - t)
        client.close()
        return samples
    finally:
        proc.kill()
        proc.wait()
