"""The uvicorn names StrictHttpProtocol overrides or reads: fail clearly when a release changes them."""

from __future__ import annotations

import inspect

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from durableagent.local.http_protocol import StrictHttpProtocol, protocol_class

OVERRIDDEN = [
    "connection_made",
    "connection_lost",
    "data_received",
    "send_400_response",
    "on_url",
    "on_header",
    "on_headers_complete",
    "on_response_complete",
]


def test_uvicorn_still_has_every_hook_the_strict_protocol_overrides() -> None:
    for name in OVERRIDDEN:
        assert callable(getattr(HttpToolsProtocol, name, None)), f"uvicorn dropped {name}"
        assert getattr(StrictHttpProtocol, name) is not getattr(HttpToolsProtocol, name)
    assert list(inspect.signature(HttpToolsProtocol.send_400_response).parameters) == ["self", "msg"]


def test_uvicorn_still_tracks_connections_and_the_cycle() -> None:
    source = inspect.getsource(HttpToolsProtocol.__init__)
    assert "self.connections" in source, "uvicorn no longer keeps the server's connection set"
    assert "self.cycle" in source, "uvicorn no longer keeps the current request cycle"
    assert "self.transport" in inspect.getsource(HttpToolsProtocol.connection_made)


def test_protocol_class_carries_the_limits() -> None:
    cls = protocol_class(header_timeout=3.0, max_header_bytes=100, max_connections=2)
    assert issubclass(cls, StrictHttpProtocol)
    assert (cls.header_timeout, cls.max_header_bytes, cls.max_connections) == (3.0, 100, 2)
