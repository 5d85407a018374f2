"""A browser's ``EventSource`` reads a streamed turn in pieces and reconnects when the server drops it.

Headless Chromium loads a small page on the sample host's origin (served by playwright's router, so
the page is same-origin with the API). The page starts a streamed turn with ``fetch`` (``Accept:
text/event-stream``), aborts that request once it has the turn's ids (the turn goes on), and opens
an ``EventSource`` on the turn's stream. The host ends every connection after a few events
(``DURABLEAGENT_STREAM_CONNECTION_EVENTS``), so the browser must reconnect, sending
``Last-Event-ID`` itself, several times before RUN_FINISHED.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from durableagent.testing.host import LocalHost
from tests.browser.test_swagger_ui import CHROMIUM, CHROMIUM_ARGS, SAMPLE

pytestmark = pytest.mark.integration

PAGE = """<!doctype html><html><body><pre id="reply"></pre><script>
window.log = {events: [], opens: 0, done: false};
async function go() {
  const sid = "browser-" + Math.random().toString(16).slice(2, 10);
  const abort = new AbortController();
  const started = await fetch("/api/agents/WeatherAgent/run", {
    method: "POST", signal: abort.signal,
    headers: {"Content-Type": "application/json", "Accept": "text/event-stream"},
    body: JSON.stringify({message: "tell me a story in many small words please", sessionId: sid})});
  const cid = started.headers.get("x-ms-correlation-id");
  abort.abort();  // drop the first connection: the turn keeps running
  const es = new EventSource(`/api/agents/WeatherAgent/${sid}/turns/${cid}/stream`);
  es.onopen = () => { window.log.opens += 1; };
  es.onmessage = (m) => {
    const d = JSON.parse(m.data);
    window.log.events.push({id: Number(m.lastEventId), type: d.type, delta: d.delta || null});
    if (d.type === "TEXT_MESSAGE_CONTENT") document.getElementById("reply").textContent += d.delta;
    if (d.type === "RUN_FINISHED") { window.log.result = d.result; window.log.done = true; es.close(); }
  };
}
go();
</script></body></html>"""


@pytest.fixture
def host(tmp_path: Path) -> Iterator[LocalHost]:
    env = {"DURABLEAGENT_OFFLINE_CHUNK_DELAY_MS": "20", "DURABLEAGENT_STREAM_CONNECTION_EVENTS": "5"}
    served = LocalHost(SAMPLE, store=tmp_path / "store.sqlite", env=env)
    served.start()
    yield served
    assert served.stop() == 0, served.output()


def test_event_source_sees_pieces_and_reconnects(host: LocalHost) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            url = host.url("/stream-page.html")
            page.route(url, lambda route: route.fulfill(status=200, content_type="text/html", body=PAGE))
            page.goto(url)
            page.wait_for_function("window.log.done", timeout=60_000)
            log: dict[str, Any] = page.evaluate("window.log")
            shown = page.inner_text("#reply")
        finally:
            browser.close()
    ids = [e["id"] for e in log["events"]]
    assert ids == list(range(1, len(ids) + 1))  # every reconnect resumed exactly after the last id
    assert log["opens"] >= 3  # the server dropped the connection and EventSource came back
    deltas = [e["delta"] for e in log["events"] if e["type"] == "TEXT_MESSAGE_CONTENT"]
    assert len(deltas) > 5  # the reply arrived in pieces
    assert "".join(deltas) == log["result"]["response"] == shown
