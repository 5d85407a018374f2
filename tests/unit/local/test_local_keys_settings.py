"""Function keys (levels, sources, persistence) and the app settings files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from durableagent.local.keys import HOST_DEFAULT, MASTER, SYSTEM, build_keyring, new_key, presented_key
from durableagent.local.settings import KeySettings, SettingsError, apply_values, load_settings


def test_generated_keys_are_random_base64url_and_persisted_once() -> None:
    ring, persist = build_keyring(KeySettings(), {}, environ={})
    assert set(persist) == {SYSTEM, MASTER, HOST_DEFAULT}
    assert len(ring.system) == 43
    assert "=" not in ring.system
    assert ring.system != ring.master
    again, persist_again = build_keyring(KeySettings(), persist, environ={})
    assert persist_again == {}
    assert (again.system, again.master, again.host) == (ring.system, ring.master, ring.host)
    assert set(again.generated) == {SYSTEM, MASTER, HOST_DEFAULT}


def test_configured_and_environment_keys_win() -> None:
    settings = KeySettings(master="m-conf", host={"ci": "h-conf"}, functions={"fn": {"default": "f-conf"}})
    ring, persist = build_keyring(
        settings, {MASTER: "m-stored"}, environ={"DURABLEAGENT_SYSTEM_KEY": "s-env"}
    )
    assert ring.system == "s-env"
    assert ring.master == "m-conf"
    assert ring.host == {"ci": "h-conf"}
    assert persist == {}
    ring2, _ = build_keyring(
        KeySettings(), {}, environ={"DURABLEAGENT_MASTER_KEY": "m-env", "DURABLEAGENT_HOST_KEY": "h"}
    )
    assert ring2.master == "m-env"
    assert ring2.host == {"default": "h"}


@pytest.mark.parametrize(
    ("level", "key", "allowed"),
    [
        ("anonymous", None, True),
        ("function", None, False),
        ("function", "wrong", False),
        ("function", "f1", True),
        ("function", "other-fn", False),
        ("function", "h1", True),
        ("function", "m1", True),
        ("admin", "h1", False),
        ("admin", "f1", False),
        ("admin", "m1", True),
    ],
)
def test_auth_levels(level: str, key: str | None, allowed: bool) -> None:
    settings = KeySettings(
        master="m1", host={"default": "h1"}, functions={"fn": {"default": "f1"}, "x": {"d": "other-fn"}}
    )
    ring, _ = build_keyring(settings, {}, environ={})
    assert ring.allows(level, "fn", key) is allowed


def test_system_key_or_master_opens_webhooks() -> None:
    ring, _ = build_keyring(KeySettings(master="m1", host={"default": "h1"}), {SYSTEM: "s1"}, environ={})
    assert ring.allows_system("s1")
    assert ring.allows_system("m1")
    assert not ring.allows_system("h1")
    assert not ring.allows_system(None)
    assert not ring.allows_system("")


def test_presented_key_header_then_query() -> None:
    assert presented_key({"x-functions-key": "h"}, {"code": "q"}) == "h"
    assert presented_key({}, {"code": "q"}) == "q"
    assert presented_key({}, {}) is None
    assert new_key() != new_key()


def test_settings_defaults_without_files(tmp_path: Path) -> None:
    s = load_settings(tmp_path)
    assert (s.route_prefix, s.hub_name, s.max_batch_size, s.script) == (
        "api",
        "TestHubName",
        50,
        "function_app.py",
    )


def test_settings_from_files(tmp_path: Path) -> None:
    (tmp_path / "host.json").write_text(
        json.dumps(
            {
                "extensions": {
                    "http": {"routePrefix": "/v1/"},
                    "durableTask": {"hubName": "H", "maxEntityOperationBatchSize": 5},
                }
            }
        )
    )
    (tmp_path / "local.settings.json").write_text(
        "\ufeff"
        + json.dumps(
            {
                "Values": {"A": "from-file", "B": "b", "PYTHON_SCRIPT_FILE_NAME": "app.py"},
                "Host": {"LocalHttpPort": 7777},
                "Keys": {"master": "m", "host": {"default": "h"}, "functions": {"fn": {"default": "f"}}},
            }
        )
    )
    s = load_settings(tmp_path)
    assert (s.route_prefix, s.hub_name, s.max_batch_size, s.script, s.local_http_port) == (
        "v1",
        "H",
        5,
        "app.py",
        7777,
    )
    assert s.keys.master == "m"
    assert s.keys.functions["fn"]["default"] == "f"
    env = {"A": "from-env"}
    apply_values(s.values, env)
    assert env["A"] == "from-env"
    assert env["B"] == "b"


def test_empty_route_prefix(tmp_path: Path) -> None:
    (tmp_path / "host.json").write_text(json.dumps({"extensions": {"http": {"routePrefix": ""}}}))
    assert load_settings(tmp_path).route_prefix == ""


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("host.json", "{not json"),
        ("host.json", json.dumps({"extensions": {"durableTask": {"maxEntityOperationBatchSize": 0}}})),
        ("local.settings.json", json.dumps({"Values": {"A": 1}})),
        ("local.settings.json", json.dumps({"Keys": {"master": 5}})),
    ],
)
def test_bad_settings_name_the_file(tmp_path: Path, name: str, content: str) -> None:
    (tmp_path / name).write_text(content)
    with pytest.raises(SettingsError):
        load_settings(tmp_path)
