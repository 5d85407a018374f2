"""An app in the function.json programming model runs unmodified, over real HTTP.

The app (tests/apps/function_json_df) is a folder per function, written only with azure-functions
and azure-functions-durable: an HTTP starter using ``create_check_status_response`` through an
``http`` output binding, an orchestrator, an activity found through ``scriptFile``/``entryPoint``
that imports shared code relatively, an entity, a client function, a function with a Twilio output
the host cannot run and a function whose signature does not match its bindings.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from durableagent.testing.host import LocalHost
from durableagent.testing.polling import wait_for

pytestmark = pytest.mark.integration

APP = Path(__file__).resolve().parents[2] / "apps" / "function_json_df"
TERMINAL = ("Completed", "Failed", "Terminated")


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalHost]:
    local = LocalHost(APP, store=tmp_path_factory.mktemp("fjson") / "store.sqlite")
    local.start()
    yield local
    assert local.stop() == 0, local.output()


@pytest.fixture
def http(host: LocalHost) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=host.base_url, timeout=30) as client:
        yield client


def run(http: httpx.Client, name: str, value: Any = None) -> dict[str, Any]:
    """Start through the app's HttpStart and follow its check-status links to the end."""
    resp = (
        http.post(f"/api/orchestrators/{name}", json=value)
        if value is not None
        else http.post(f"/api/orchestrators/{name}")
    )
    assert resp.status_code == 202, resp.text
    links = resp.json()
    assert resp.headers["location"] == links["statusQueryGetUri"]

    def done() -> dict[str, Any] | None:
        doc = dict(http.get(links["statusQueryGetUri"]).json())
        return doc if doc["runtimeStatus"] in TERMINAL else None

    return dict(wait_for(done))


def test_startup_lists_functions_the_refused_binding_and_the_function_in_error(host: LocalHost) -> None:
    out = host.output()
    assert "\tHttpStart: [POST] " in out
    assert "\tSayHello: activityTrigger" in out
    assert "Warning: SendSms: binding 'msg' (twilioSms, out; Twilio) is not run by the local host" in out
    assert "Error: the 'Broken' function is in error: cannot load the Broken function: the following " in out
    assert "{'request'}" in out
    # host.json "hubName": "%TASKHUB_NAME%" resolved from local.settings.json Values
    assert "(task hub LegacyHub," in out


def test_orchestration_with_activities_and_an_entity_call(http: httpx.Client) -> None:
    doc = run(http, "HelloSequence", ["Tokyo", "Lima"])
    assert doc["runtimeStatus"] == "Completed", doc
    # SayHello/greet.py:say_hello (scriptFile + entryPoint) imports ..shared.phrases (GREETING=Howdy)
    assert doc["output"]["greetings"] == ["Howdy Tokyo!", "Howdy Lima!"]
    assert doc["output"]["visits"] >= 2
    assert "taskHub=LegacyHub" in http.post("/api/orchestrators/HelloSequence").json()["statusQueryGetUri"]


def test_entity_signal_and_read_through_a_client_function(http: httpx.Client) -> None:
    key = uuid.uuid4().hex[:8]
    assert http.post(f"/api/counters/{key}/add", json=5).status_code == 202
    assert http.post(f"/api/counters/{key}/add", json=2).status_code == 202
    state = wait_for(lambda: (d := http.get(f"/api/counters/{key}").json())["state"] == 7 and d)
    assert state == {"exists": True, "state": 7}


def test_a_failing_entity_operation_reaches_the_caller_and_the_log(
    http: httpx.Client, host: LocalHost
) -> None:
    key = uuid.uuid4().hex[:8]
    doc = run(http, "CallFail", key)
    assert doc["output"] == {"failed": True, "message": "the counter refuses this operation"}
    assert http.post(f"/api/counters/{key}/fail").status_code == 202  # a signal: nobody sees the result
    line = f"entity @counter@{key}: operation 'fail' (signal "
    wait_for(lambda: line in host.output())
    assert f"entity @counter@{key}: operation 'fail' (call " in host.output()
    assert "refuses this operation" not in host.output()  # the text only with --debug-logs


def test_a_function_with_a_binding_the_host_cannot_run_answers_501(http: httpx.Client) -> None:
    resp = http.post("/api/sms", content=b"hello")
    assert resp.status_code == 501
    assert resp.headers["content-type"] == "application/problem+json"
    problem = resp.json()
    assert problem["type"].endswith("/binding-not-supported")
    assert "'msg' (twilioSms)" in problem["detail"]


def test_the_function_in_error_is_not_served(http: httpx.Client) -> None:
    assert http.get("/api/broken").status_code == 404


def test_debug_logs_add_the_operation_text(tmp_path: Path) -> None:
    with LocalHost(APP, store=tmp_path / "store.sqlite", extra_args=["--debug-logs"]) as debug_host:
        key = uuid.uuid4().hex[:8]
        with httpx.Client(base_url=debug_host.base_url, timeout=30) as client:
            assert client.post(f"/api/counters/{key}/fail").status_code == 202
        wait_for(lambda: "refuses this operation" in debug_host.output())
        assert f"entity @counter@{key}: operation 'fail' (signal " in debug_host.output()
