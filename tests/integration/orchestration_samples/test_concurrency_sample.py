"""samples/orchestration_concurrency: two agents in ``task_all``, each on its own session."""

from __future__ import annotations

import httpx

from .conftest import finished, start

SAMPLE = "orchestration_concurrency"


def test_both_agents_answer(http: httpx.Client) -> None:
    links = start(http, "/api/concurrency/run", {"prompt": "What is water?"})
    doc = finished(http, links)
    assert doc["runtimeStatus"] == "Completed", doc
    assert doc["output"] == {
        "physicist": "You said: 'What is water?'. This is offline reply #1 in this conversation.",
        "chemist": "You said: 'What is water?'. This is offline reply #1 in this conversation.",
    }
