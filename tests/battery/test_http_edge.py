"""The HTTP edge is strict (issue 11.6): framing errors, slow headers, huge headers, too many
connections and foreign Host headers are refused with problem+json, and nothing reaches a function.

Raw sockets on 127.0.0.1: each test writes exactly the bytes it means and reads what comes back
until the server closes the connection (or a deadline passes).
"""

from __future__ import annotations

import json
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from durableagent.testing.host import LocalHost
from tests.battery.hosts import battery_host

RUN = "/api/agents/Battery/run"


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalHost]:
    workdir = Path(tmp_path_factory.mktemp("edge"))
    h = battery_host(workdir, extra_args=["--header-timeout", "1", "--max-connections", "8"]).start()
    yield h
    h.stop()


def _exchange(host: LocalHost, data: bytes, *, read_for: float = 5.0) -> bytes:
    """Send ``data``; everything the server sends until it closes (or ``read_for`` seconds pass)."""
    with socket.create_connection(("127.0.0.1", host.port), timeout=read_for) as sock:
        sock.sendall(data)
        out = b""
        deadline = time.monotonic() + read_for
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                return out + b"<closed>"
            out += chunk
        return out


def _problem(raw: bytes) -> tuple[int, dict[str, str], dict[str, object]]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    assert headers["content-type"] == "application/problem+json"
    length = int(headers["content-length"])
    doc = json.loads(body[:length])
    assert doc["status"] == status
    return status, headers, doc


def _host_line(host: LocalHost) -> bytes:
    return f"Host: 127.0.0.1:{host.port}\r\n".encode()


def test_content_length_with_transfer_encoding_is_refused_and_nothing_is_smuggled(host: LocalHost) -> None:
    hidden = b"GET /api/health HTTP/1.1\r\n" + _host_line(host) + b"\r\n"
    raw = (
        b"POST " + RUN.encode() + b" HTTP/1.1\r\n" + _host_line(host)
        + b"Content-Type: application/json\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
        + b"0\r\n\r\n" + hidden
    )  # fmt: skip
    answer = _exchange(host, raw)
    assert answer.endswith(b"<closed>")
    status, headers, doc = _problem(answer)
    assert status == 400
    assert headers["connection"] == "close"
    assert str(doc["type"]).endswith("/malformed-request")
    assert len(re.findall(rb"HTTP/1\.1 \d{3} ", answer)) == 1  # the hidden request was never answered


@pytest.mark.parametrize(
    "framing",
    [
        b"Content-Length: 3\r\nContent-Length: 4\r\n",
        b"Content-Length: +3\r\n",
        b"Content-Length: 3x\r\n",
        b"Transfer-Encoding: chunked\r\n",  # then a bad chunk size below
    ],
)
def test_framing_errors_are_problems(host: LocalHost, framing: bytes) -> None:
    body = b"zz\r\nabc\r\n0\r\n\r\n" if b"chunked" in framing else b"abcd"
    raw = b"POST " + RUN.encode() + b" HTTP/1.1\r\n" + _host_line(host) + framing + b"\r\n" + body
    status, headers, _ = _problem(_exchange(host, raw))
    assert (status, headers["connection"]) == (400, "close")


def test_a_malformed_request_line_is_a_problem(host: LocalHost) -> None:
    status, _, _ = _problem(_exchange(host, b"GET /api/health HTTP/1.1 extra\r\n\r\n"))
    assert status == 400


def test_headers_trickled_slower_than_the_timeout_get_408_and_the_connection_closes(host: LocalHost) -> None:
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", host.port), timeout=10) as sock:
        answer = b""
        for byte in b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 50:
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                break  # the server closed the connection
            sock.settimeout(0.2)  # a byte every 0.2 s: the pace of the attack itself
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                continue
            answer += chunk
            if not chunk or b"\r\n\r\n" in answer:
                break
    status, headers, doc = _problem(answer)
    assert status == 408
    assert headers["connection"] == "close"
    assert str(doc["type"]).endswith("/request-timeout")
    assert time.monotonic() - started < 8  # the 1 s header timeout, not the client's pace, ended it


def test_an_idle_connection_is_closed_quietly(host: LocalHost) -> None:
    assert _exchange(host, b"", read_for=6) == b"<closed>"


def test_huge_headers_get_431(host: LocalHost) -> None:
    raw = b"GET /api/health HTTP/1.1\r\n" + _host_line(host) + b"X-Big: " + b"a" * 70_000 + b"\r\n\r\n"
    status, headers, _ = _problem(_exchange(host, raw))
    assert (status, headers["connection"]) == (431, "close")


def test_connections_beyond_the_limit_get_503(host: LocalHost) -> None:
    idle = [socket.create_connection(("127.0.0.1", host.port)) for _ in range(8)]
    try:
        # the 9th: refused at once (the idle ones are closed only after the header timeout)
        status, headers, _ = _problem(_exchange(host, b"GET /api/health HTTP/1.1\r\n\r\n", read_for=2))
        assert status == 503
        assert headers["retry-after"] == "1"
    finally:
        for sock in idle:
            sock.close()


@pytest.mark.parametrize("foreign", [b"evil.example", b"evil.example:80", b"bad host", b"[zz]", b"a:99999"])
def test_a_foreign_host_never_reaches_a_link(host: LocalHost, foreign: bytes) -> None:
    body = b'{"message": "hi", "sessionId": "edge-host"}'
    raw = (
        b"POST " + RUN.encode() + b" HTTP/1.1\r\nHost: " + foreign + b"\r\nPrefer: respond-async\r\n"
        b"Content-Type: application/json\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )
    answer = _exchange(host, raw, read_for=3)
    status, headers, doc = _problem(answer)
    assert status == 421
    assert str(doc["type"]).endswith("/misdirected-request")
    assert "location" not in headers
    assert b"evil" not in answer


def test_a_loopback_host_is_answered_and_linked(host: LocalHost) -> None:
    body = b'{"message": "hi", "sessionId": "edge-host-ok"}'
    raw = (
        b"POST " + RUN.encode() + b" HTTP/1.1\r\nHost: localhost:" + str(host.port).encode() + b"\r\n"
        b"Prefer: respond-async\r\nConnection: close\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )
    answer = _exchange(host, raw)
    head = answer.split(b"\r\n\r\n", 1)[0].decode()
    assert head.startswith("HTTP/1.1 202") or head.startswith("HTTP/1.1 200")
    if head.startswith("HTTP/1.1 202"):
        link = f"location: http://localhost:{host.port}/api/agents/battery/edge-host-ok/turns/"
        assert link in head.lower()
