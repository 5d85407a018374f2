"""--require-keys: each function's auth level is enforced; keys never appear in the host's output."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from durableagent.testing.host import LocalHost

from .conftest import PLAIN_DF

MASTER, HOST = "master-key-for-tests-0001", "host-key-for-tests-0002"


def test_auth_levels_are_enforced(local_host: Callable[..., LocalHost]) -> None:
    host = local_host(
        PLAIN_DF, require_keys=True, env={"DURABLEAGENT_MASTER_KEY": MASTER, "DURABLEAGENT_HOST_KEY": HOST}
    )
    with httpx.Client(base_url=host.base_url, timeout=30) as http:
        assert http.get("/api/keys/open").status_code == 200
        for path in ("/api/keys/function", "/api/keys/admin"):
            resp = http.get(path)
            assert resp.status_code == 401
            assert resp.headers["content-type"] == "application/problem+json"
            assert "www-authenticate" in resp.headers
        assert http.get("/api/keys/function", params={"code": "nope"}).status_code == 401
        assert http.get("/api/keys/function", params={"code": HOST}).text == "function"
        assert http.get("/api/keys/function", headers={"x-functions-key": MASTER}).text == "function"
        assert http.get("/api/keys/admin", headers={"x-functions-key": HOST}).status_code == 401
        assert http.get("/api/keys/admin", headers={"x-functions-key": MASTER}).text == "admin"
        # The app-level default is ANONYMOUS, so other routes stay open.
        assert http.get("/api/hello").status_code == 200
        # Durable webhooks: the master key works too, a host key does not.
        assert (
            http.get("/runtime/webhooks/durabletask/entities/Counter/x", params={"code": MASTER}).status_code
            == 404
        )
        assert (
            http.get("/runtime/webhooks/durabletask/entities/Counter/x", params={"code": HOST}).status_code
            == 401
        )
    host.stop()
    out = host.output()
    assert MASTER not in out
    assert HOST not in out
    assert (host.system_key or "?") not in out


def test_without_the_flag_keys_are_not_enforced(local_host: Callable[..., LocalHost]) -> None:
    host = local_host(PLAIN_DF)
    with httpx.Client(base_url=host.base_url, timeout=30) as http:
        assert http.get("/api/keys/admin").text == "admin"
        assert http.get("/runtime/webhooks/durabletask/entities/Counter/x").status_code == 401


def test_generated_keys_are_printed_once_configured_and_survive_restart(
    local_host: Callable[..., LocalHost],
) -> None:
    host = local_host(PLAIN_DF, require_keys=True)
    out = host.output()
    master = out.split("\tmaster: ", 1)[1].split()[0]
    system = host.system_key
    with httpx.Client(base_url=host.base_url, timeout=30) as http:
        assert http.get("/api/keys/admin", params={"code": master}).status_code == 200
    host.restart()
    assert host.system_key == system
    with httpx.Client(base_url=host.base_url, timeout=30) as http:
        assert http.get("/api/keys/admin", params={"code": master}).status_code == 200
