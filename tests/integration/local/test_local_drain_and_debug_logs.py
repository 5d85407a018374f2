"""An oversized body still gets a readable 413 for ordinary clients, and --debug-logs is what adds a
failure's text to the host log (by default only its type is logged)."""

from __future__ import annotations

import http.client
from pathlib import Path
from typing import Any

import httpx

from durableagent.testing.polling import wait_for

from .conftest import PLAIN_DF


def test_a_ten_megabyte_body_gets_a_413_that_clients_can_read(local_host: Any) -> None:
    host = local_host(PLAIN_DF)
    body = b"x" * (10 * 1024 * 1024)
    response = httpx.post(host.url("/api/echo"), content=body, timeout=30)
    assert response.status_code == 413
    assert response.json()["type"].endswith("/payload-too-large")
    connection = http.client.HTTPConnection("127.0.0.1", host.port, timeout=30)
    try:
        connection.request("POST", "/api/echo", body=body)
        assert connection.getresponse().status == 413
    finally:
        connection.close()
    assert httpx.get(host.url("/api/hello"), timeout=30).status_code == 200


def test_debug_logs_add_the_failure_text(local_host: Any, tmp_path: Path) -> None:
    host = local_host(PLAIN_DF, extra_args=["--debug-logs"])
    assert httpx.post(host.url("/api/boom"), content=b"x", timeout=30).status_code == 500
    log = wait_for(lambda: next((o for o in [host.output()] if "secret-boom-text" in o), None))
    assert "Traceback" in log
