"""The local host's HTTP/1.1 edge: uvicorn's httptools protocol made strict, and the Host names it answers.

Why httptools (llhttp): it refuses ambiguous framing that h11 accepts. A request with both
``Content-Length`` and ``Transfer-Encoding``, a duplicate or invalid ``Content-Length``, or a bad
chunk size is a parse error (RFC 9112 §6.3: such a message must be rejected, or a proxy that trusts
one length and this server the other see different requests, "request smuggling"). uvicorn answers
parse errors with a ``text/plain`` 400; this subclass (uvicorn accepts a protocol class in
``Config(http=...)``) answers them, and everything else the server produces itself, as
``application/problem+json`` with ``Connection: close``:

* 400 for a malformed request (framing, header syntax);
* 408 when a request's headers have not arrived within ``header_timeout`` seconds of the connection
  (or of the previous response): a client trickling headers a byte at a time (slowloris) cannot
  hold a connection (an idle connection that sent nothing is closed quietly instead);
* 431 when a request line and headers exceed ``max_header_bytes`` (llhttp has no limit of its own);
* 503 (with ``Retry-After``) for a connection beyond ``max_connections``.

Only names uvicorn documents or exposes without an underscore are used: the protocol class,
``send_400_response``, the parser callbacks and ``connections``; ``tests/unit/local/test_http_protocol.py``
fails clearly if a uvicorn release changes them.

:class:`HostNames` decides which ``Host`` headers the host answers for: the origin of a request's URL
(a function's ``req.url``, so the ``Location`` of a 202 or an orchestration's check-status links)
comes from ``Host``, and reflecting any name would let a hostile or misrouted request (behind a
proxy that forwards ``Host``) plant links to another server. The host answers only for loopback
names (``localhost``, ``127.0.0.1``, ``[::1]``), the address it listens on, the machine's own name
and ``--allowed-host`` names, plus any IP literal when it listens on every interface; every other
``Host`` (or one that is not a valid ``host[:port]``, RFC 9110 §7.2) is answered ``421
misdirected-request`` (RFC 9110 §15.5.20) by the front door before any function runs. A request
without ``Host`` (HTTP/1.0) gets the listening address.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import re
import socket
from collections.abc import Iterable
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from durableagent.contract.problems import (
    HeadersTooLarge,
    MalformedRequest,
    Problem,
    RequestTimeout,
    ServerBusy,
    render,
)

log = logging.getLogger("durableagent.local.http")

LINGER = 2.0  # seconds a refused connection is read (and dropped) before it is closed


def _raw_problem(problem: Problem) -> bytes:
    """The whole HTTP/1.1 response for ``problem``, closing the connection."""
    status, headers, body = render(problem)
    lines = [f"HTTP/1.1 {status} {problem.title}\r\n"]
    lines += [f"{name}: {value}\r\n" for name, value in headers.items()]
    lines.append(f"content-length: {len(body)}\r\nconnection: close\r\n\r\n")
    return "".join(lines).encode("latin-1") + body


class StrictHttpProtocol(HttpToolsProtocol):
    """``HttpToolsProtocol`` with problem+json errors, a header timeout, and bounds.

    The limits are class attributes so one ``uvicorn.Config(http=...)`` carries them; the host makes
    a subclass per server (:func:`protocol_class`).
    """

    header_timeout: float = 10.0
    max_header_bytes: int = 64 * 1024
    max_connections: int = 1024

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """As uvicorn's protocol; plus the state of the current request's headers."""
        super().__init__(*args, **kwargs)
        self._header_bytes = 0
        self._partial = False  # bytes of a request arrived since the clock started
        self._header_timer: asyncio.TimerHandle | None = None
        self._admitted = False
        self._closing_transport: asyncio.Transport | None = None  # refused: draining, then closed
        self._linger: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Refuse a connection beyond ``max_connections``; start the header clock."""
        if len(self.connections) >= self.max_connections:
            log.warning("connection refused: %d connections open", len(self.connections))
            busy = ServerBusy("Too many open connections; retry shortly.", retry_after=1)
            self._refuse_on(transport, busy)
            return
        self._admitted = True
        super().connection_made(transport)
        self._start_header_clock()

    def connection_lost(self, exc: Exception | None) -> None:
        """Stop the header clock (and a refused connection's linger)."""
        self._stop_header_clock()
        if self._linger is not None:
            self._linger.cancel()
        if self._admitted:
            super().connection_lost(exc)

    def _start_header_clock(self) -> None:
        self._stop_header_clock()
        self._header_bytes = 0
        self._partial = False
        self._header_timer = self.loop.call_later(self.header_timeout, self._headers_timed_out)

    def _stop_header_clock(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_timed_out(self) -> None:
        self._header_timer = None
        if self.cycle is not None and not self.cycle.response_complete:
            return  # a request is being served (its headers are complete)
        if not self._partial:  # an idle connection: close it quietly (no request to answer)
            self.transport.close()
            return
        self._refuse(RequestTimeout("The request's headers did not arrive in time."))

    def _refuse(self, problem: Problem) -> None:
        if self._closing_transport is None and not self.transport.is_closing():
            self._refuse_on(self.transport, problem)

    def _refuse_on(self, transport: asyncio.Transport, problem: Problem) -> None:
        """Answer ``problem``, then a lingering close (as nginx and Apache do).

        Closing a socket whose receive buffer still holds unread bytes makes the kernel send a
        reset, and a client that is still writing its request then loses the answer. So the
        write side is shut (FIN after the answer), what the client still sends is read and
        dropped, and the socket is closed when the client closes or after ``LINGER`` seconds.
        """
        self._closing_transport = transport
        transport.write(_raw_problem(problem))
        if transport.can_write_eof():
            transport.write_eof()
        self._linger = asyncio.get_running_loop().call_later(LINGER, transport.close)

    def send_400_response(self, msg: str) -> None:
        """A malformed request (uvicorn's message is not sent: it is not a problem document)."""
        self._stop_header_clock()
        self._refuse(MalformedRequest("The request is not valid HTTP/1.1 (for example its framing)."))

    def on_url(self, url: bytes) -> None:
        """Count the request line against ``max_header_bytes``."""
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        """Count each header against ``max_header_bytes``."""
        self._count(len(name) + len(value) + 4)
        super().on_header(name, value)

    def _count(self, size: int) -> None:
        self._header_bytes += size
        if self._header_bytes > self.max_header_bytes:
            self._stop_header_clock()
            self._refuse(
                HeadersTooLarge(f"The request line and headers exceed {self.max_header_bytes} bytes.")
            )
            raise ValueError("headers too large")  # stops the parser: llhttp reports a callback error

    def on_headers_complete(self) -> None:
        """The request arrived: stop the header clock and serve it."""
        self._stop_header_clock()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        """The response went out: the next request's headers are on the clock."""
        super().on_response_complete()
        if not self.transport.is_closing():
            self._start_header_clock()

    def data_received(self, data: bytes) -> None:
        """Feed the parser; after a refusal, drop what arrives."""
        if self._closing_transport is not None or self.transport.is_closing():
            return
        if self._header_timer is not None:
            self._partial = True
        super().data_received(data)


def protocol_class(
    *, header_timeout: float, max_header_bytes: int, max_connections: int
) -> type[StrictHttpProtocol]:
    """A :class:`StrictHttpProtocol` subclass with these limits (one per server)."""
    return type(
        "HostHttpProtocol",
        (StrictHttpProtocol,),
        {
            "header_timeout": header_timeout,
            "max_header_bytes": max_header_bytes,
            "max_connections": max_connections,
        },
    )


_HOST = re.compile(
    r"(?P<name>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?)"
    r"(?::(?P<port>[0-9]{1,5}))?"
)
_LOOPBACK = ("localhost", "127.0.0.1", "[::1]")
_WILDCARDS = ("0.0.0.0", "::", "")  # noqa: S104 - compared against, never bound here


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    return True


class HostNames:
    """The ``Host`` names this host answers for (see the module docstring)."""

    def __init__(self, listen: str, allowed: Iterable[str] = ()) -> None:
        """Answer for loopback, ``listen``, this machine's name and ``allowed`` (case-insensitive)."""
        names = {*_LOOPBACK, socket.gethostname(), *allowed}
        if listen not in _WILDCARDS:
            names.add(f"[{listen}]" if ":" in listen else listen)
        self._names = frozenset(n.lower().rstrip(".") for n in names)
        self._any_ip = listen in _WILDCARDS
        self._seen: dict[str, bool] = {}  # verdicts of recent Host values (bounded)

    def accepts(self, host: str) -> bool:
        """Whether ``host`` (a ``Host`` header value) is a valid ``host[:port]`` this host answers for."""
        verdict = self._seen.get(host)
        if verdict is None:
            verdict = self._check(host)
            if len(self._seen) < 256:
                self._seen[host] = verdict
        return verdict

    def _check(self, host: str) -> bool:
        match = _HOST.fullmatch(host)
        if match is None:
            return False
        port = match.group("port")
        if port is not None and not 0 < int(port) < 65536:
            return False
        name = match.group("name").lower().rstrip(".")
        return name in self._names or (self._any_ip and _is_ip(name))
