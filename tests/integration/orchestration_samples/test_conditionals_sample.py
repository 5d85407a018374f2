"""samples/orchestration_conditionals: the branch follows the agent's structured (pydantic) verdict."""

from __future__ import annotations

import httpx

from .conftest import finished, start

SAMPLE = "orchestration_conditionals"


def test_spam_is_quarantined(http: httpx.Client) -> None:
    doc = finished(http, start(http, "/api/spam/run", {"email": "WIN 1000 dollars now"}))
    assert doc["runtimeStatus"] == "Completed", doc
    assert doc["output"]["spam"] is True
    assert doc["output"]["score"] == 1000
    assert doc["output"]["outcome"].startswith("quarantined: ")


def test_a_legitimate_email_gets_a_drafted_reply(http: httpx.Client) -> None:
    doc = finished(http, start(http, "/api/spam/run", {"email": "Lunch at 12 with Sam?"}))
    assert doc["runtimeStatus"] == "Completed", doc
    assert doc["output"]["spam"] is False
    assert doc["output"]["score"] == 12
    assert doc["output"]["outcome"] == "sent: Reply to: Lunch at 12 with Sam?"
