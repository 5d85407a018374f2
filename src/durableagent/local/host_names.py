"""Which ``Host`` headers the local host answers for: the names that may go into a link it writes.

Why: the origin of a request's URL (what a function sees as ``req.url``, and so the ``Location`` of a
202 or the check-status links of an orchestration) comes from the ``Host`` header. Reflecting any
name would let a hostile or misrouted request (behind a proxy that forwards ``Host``) plant links to
another server. So the host answers only for:

* the names it was started with: loopback names (``localhost``, ``127.0.0.1``, ``[::1]``), the
  address it listens on, the machine's own name, and ``--allowed-host`` names;
* any IP literal when it listens on every interface (``0.0.0.0``/``::``): clients reach it by
  address;

and every other ``Host`` (or one that is not a valid ``host[:port]``, RFC 9110 §7.2) is answered
``421 misdirected-request`` (RFC 9110 §15.5.20) before any function runs. A request without
``Host`` (HTTP/1.0) gets the listening address.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable

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
