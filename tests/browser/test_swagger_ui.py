"""Swagger UI at ``/api/docs``, driven in headless Chromium against the sample app.

Why: the docs page is only useful if it renders this spec (OpenAPI 3.1, which Swagger UI 4 could
not) from assets the app serves itself, and if "Try it out" really reaches the app from the
browser. The test loads the page from the local host, checks that every operation renders, runs
``GET /health`` and ``POST /agents/{agentName}/run`` from the page, asserts what the page shows,
and saves screenshots under artifacts/ (gitignored).

Uses Debian's Chromium (/usr/bin/chromium, installed by ``scripts/setup-test-tools chromium``)
through the ``playwright`` package; playwright never downloads a browser here. Skips with a reason
when Chromium is absent.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from durableagent.testing.host import LocalHost

pytestmark = pytest.mark.integration  # starts the local host (``browser`` comes from the directory)

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples" / "weather"
ARTIFACTS = ROOT / "artifacts"
CHROMIUM = Path(os.environ.get("DURABLEAGENT_CHROMIUM", "/usr/bin/chromium"))
# Chromium's own background connections (updates, sync, QUIC probes) are refused on CI machines.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
OPERATIONS = {
    "runAgent",
    "getConversation",
    "resetConversation",
    "getTurn",
    "getHealth",
    "getOpenApiJson",
    "getOpenApiYaml",
    "getDocs",
    "getDocsAsset",
}

if not CHROMIUM.is_file():
    pytest.skip(
        f"Chromium is not installed at {CHROMIUM} (run scripts/setup-test-tools chromium)",
        allow_module_level=True,
    )
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalHost]:
    with LocalHost(SAMPLE, store=tmp_path_factory.mktemp("docs") / "store.sqlite") as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, host: LocalHost) -> Iterator[Any]:
    """The docs page, loaded; fails the test on a script error or a request that left the host."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    foreign: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("request", lambda req: None if req.url.startswith(host.base_url) else foreign.append(req.url))
    page.goto(host.url("/api/docs"))
    page.wait_for_selector(".opblock .opblock-summary-operation-id")
    yield page
    context.close()
    assert errors == [], f"the page reported errors: {errors}"
    assert foreign == [], f"the page fetched from outside the app: {foreign}"


def _open(page: Any, tag: str, operation_id: str) -> Any:
    block = page.locator(f"#operations-{tag}-{operation_id}")
    block.locator(".opblock-summary").click()
    block.locator("button.execute").wait_for()
    return block


def _execute(page: Any, block: Any, path: str) -> tuple[int, str, str]:
    """Click Execute; return the status of the request the browser sent, and what the page shows."""
    with page.expect_response(lambda r: r.url.split("?")[0].endswith(path)) as sent:
        block.locator("button.execute").click()
    live = block.locator(".live-responses-table")
    live.wait_for()
    shown_status = live.locator("tbody .response-col_status").first.inner_text().strip()
    shown_body = live.locator(".response-col_description pre.microlight").first.inner_text()
    return sent.value.status, shown_status, shown_body


def test_every_operation_renders(page: Any) -> None:
    ids = {t.strip() for t in page.locator(".opblock-summary-operation-id").all_inner_texts()}
    assert ids >= OPERATIONS
    assert page.locator(".errors-wrapper").count() == 0
    assert "OAS 3.1" in page.locator(".info .version-stamp, .info").first.inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "swagger-ui.png"), full_page=True)


def test_try_it_out_health(page: Any) -> None:
    block = _open(page, "meta", "getHealth")
    status, shown_status, shown_body = _execute(page, block, "/api/health")
    assert (status, shown_status) == (200, "200")
    body = json.loads(shown_body)
    assert body["status"] == "healthy"
    assert [a["name"] for a in body["agents"]] == ["WeatherAgent", "MathAgent"]


def test_try_it_out_run_then_read_the_conversation(page: Any) -> None:
    session = "browser-" + uuid.uuid4().hex[:12]
    run = _open(page, "agents", "runAgent")
    run.locator("tr[data-param-name='agentName'] input").fill("WeatherAgent")
    message = {"message": "What is the weather like in Seattle?", "sessionId": session}
    run.locator(".body-param textarea").fill(json.dumps(message))
    status, shown_status, shown_body = _execute(page, run, "/api/agents/WeatherAgent/run")
    assert (status, shown_status) == (200, "200")
    reply = json.loads(shown_body)
    assert reply["status"] == "success"
    assert reply["sessionId"] == session
    assert reply["response"] == "Here is what I found: location=Seattle, temperature=72, conditions=Sunny."
    ARTIFACTS.mkdir(exist_ok=True)  # the curl line, the request URL and the server's response
    run.locator(".responses-inner > div").first.screenshot(path=str(ARTIFACTS / "swagger-ui-run.png"))

    read = _open(page, "agents", "getConversation")
    read.locator("tr[data-param-name='agentName'] input").fill("WeatherAgent")
    read.locator("tr[data-param-name='sessionId'] input").fill(session)
    status, shown_status, shown_body = _execute(page, read, f"/api/agents/WeatherAgent/{session}")
    assert (status, shown_status) == (200, "200")
    history = json.loads(shown_body)["conversation_history"]
    assert [e["role"] for e in history] == ["user", "assistant"]
    assert history[1]["agent_response"]["tool_calls"][0]["name"] == "get_weather"
