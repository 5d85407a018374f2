"""A streamed turn survives SIGKILL of the host mid-stream, and its stream resumes exactly.

The host is killed while the model is producing text (the client has seen some deltas of an open
message). After the restart the turn runs again (attempt 2) under the same correlation id, and a
client resuming with its Last-Event-ID gets: the events committed after it (if any), the explicit
``durableagent.turn_restarted`` naming the message to discard, the new attempt's text, and
RUN_FINISHED with the committed reply. Ids continue with no gap and no repeat.
"""

from __future__ import annotations

import random
from pathlib import Path

import httpx

from durableagent.testing.host import LocalHost
from tests.sse_client import SseEvent, events, text_of

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "weather"
SSE = {"Accept": "text/event-stream"}
WORDS = " ".join(f"word{i}" for i in range(60))


def test_a_stream_resumes_after_sigkill_mid_stream(tmp_path: Path) -> None:
    env = {"DURABLEAGENT_OFFLINE_CHUNK_DELAY_MS": "25"}
    host = LocalHost(SAMPLE, store=tmp_path / "store.sqlite", env=env)
    host.start()
    session = "kill-stream"
    seen: list[SseEvent] = []
    cut = random.Random().randint(2, 20)
    try:
        with httpx.Client(base_url=host.url("/api"), timeout=60) as api:
            body = {"message": WORDS, "sessionId": session}
            with api.stream("POST", "/agents/WeatherAgent/run", json=body, headers=SSE) as response:
                cid = response.headers["x-ms-correlation-id"]
                for event in events(response):
                    seen.append(event)
                    if sum(e.type == "TEXT_MESSAGE_CONTENT" for e in seen) >= cut:
                        host.kill()  # SIGKILL while the text message is open
                        break
        open_message = next(e.data["messageId"] for e in seen if e.type == "TEXT_MESSAGE_START")
        host.start()
        with httpx.Client(base_url=host.url("/api"), timeout=60) as api:
            url = f"/agents/WeatherAgent/{session}/turns/{cid}/stream"
            with api.stream("GET", url, headers={**SSE, "Last-Event-ID": str(seen[-1].id)}) as response:
                assert response.status_code == 200
                rest = list(events(response))
            whole = seen + rest
            assert [e.id for e in whole] == list(range(1, len(whole) + 1))  # no gap, no repeat
            restarts = [e for e in rest if e.data.get("name") == "durableagent.turn_restarted"]
            assert len(restarts) == 1
            assert restarts[0].data["value"]["attempt"] == 2
            assert open_message in restarts[0].data["value"]["discardMessageIds"]
            assert whole[-1].type == "RUN_FINISHED"
            reply = whole[-1].data["result"]
            assert text_of(whole) == reply["response"]  # the discarded attempt's text is not mixed in
            assert WORDS in reply["response"]
            assert api.get(f"/agents/WeatherAgent/{session}/turns/{cid}").json() == reply
            assert api.get(f"/agents/WeatherAgent/{session}").json()["turn_count"] == 1
    finally:
        if host.running:
            assert host.stop() == 0, host.output()
