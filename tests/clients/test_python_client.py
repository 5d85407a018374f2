"""The generated Python client (clients/python, openapi-python-client) drives a whole conversation.

Why: a client generated from openapi.yaml is how most callers will meet the contract; if its
models cannot parse what the server sends, or its calls cannot express what the server needs
(headers, a 202 to poll), the contract is wrong even when the server keeps it. Runs against the
sample on the local host: two turns in one session, the conversation, an Idempotency-Key replay,
a 202 polled through getTurn, a reset, health.
"""

from __future__ import annotations

import sys
import time
import uuid
from typing import Any

import pytest

from durableagent.testing.host import LocalHost

from .conftest import CLIENTS

pytestmark = pytest.mark.integration  # starts the local host (``clients`` comes from the directory)

if sys.version_info < (3, 11):  # pragma: no cover - the generated client uses typing.Self
    pytest.skip("the generated Python client needs Python >= 3.11", allow_module_level=True)
sys.path.insert(0, str(CLIENTS / "python"))

from durableagent_client import Client  # noqa: E402
from durableagent_client.api.agents import (  # noqa: E402
    get_conversation,
    get_turn,
    reset_conversation,
    run_agent,
)
from durableagent_client.api.meta import get_health  # noqa: E402
from durableagent_client.models import (  # noqa: E402
    Conversation,
    Health,
    Problem,
    ResetResult,
    RunAccepted,
    RunRequest,
    RunResult,
)

AGENT = "WeatherAgent"


def _parsed(response: Any, kind: type, status: int) -> Any:
    assert response.status_code == status, response.content
    assert isinstance(response.parsed, kind), response.content
    return response.parsed


def test_full_conversation_with_the_generated_python_client(sample_host: LocalHost) -> None:
    session = "py-" + uuid.uuid4().hex
    with Client(base_url=sample_host.url("/api"), raise_on_unexpected_status=True) as client:
        health = _parsed(get_health.sync_detailed(client=client), Health, 200)
        assert health.status == "healthy"
        assert [a.name for a in health.agents] == ["WeatherAgent", "MathAgent"]

        first = _parsed(
            run_agent.sync_detailed(
                AGENT,
                client=client,
                body=RunRequest(message="What is the weather like in Seattle?", sessionId=session),
            ),
            RunResult,
            200,
        )
        assert first.response == "Here is what I found: location=Seattle, temperature=72, conditions=Sunny."
        assert (first.sessionId, first.message_count, first.turn) == (session, 1, 1)
        second = run_agent.sync_detailed(
            AGENT, client=client, body=RunRequest(message="hello again"), session_id=session
        )
        reply = _parsed(second, RunResult, 200)
        assert reply.response == "You said: 'hello again'. This is offline reply #2 in this conversation."
        assert reply.message_count == 2
        assert second.headers["x-ms-session-id"] == session

        conversation = _parsed(
            get_conversation.sync_detailed(AGENT, session, client=client), Conversation, 200
        )
        assert conversation.message_count == 2
        assert [e.role for e in conversation.conversation_history] == ["user", "assistant"] * 2
        assert conversation.conversation_history[1].agent_response.tool_calls[0].name == "get_weather"
        assert conversation.last_response == reply.response

        key = "key-" + uuid.uuid4().hex
        once = _parsed(
            run_agent.sync_detailed(
                AGENT, client=client, body=RunRequest(message="once", sessionId=session), idempotency_key=key
            ),
            RunResult,
            200,
        )
        again = _parsed(
            run_agent.sync_detailed(
                AGENT, client=client, body=RunRequest(message="once", sessionId=session), idempotency_key=key
            ),
            RunResult,
            200,
        )
        assert once.correlationId == again.correlationId == key
        assert once.to_dict() == again.to_dict()  # replayed, not run again
        reused = _parsed(
            run_agent.sync_detailed(
                AGENT, client=client, body=RunRequest(message="twice", sessionId=session), idempotency_key=key
            ),
            Problem,
            422,
        )
        assert reused.type_ == "https://durableagent.dev/problems/idempotency-key-reused"

        slow = run_agent.sync_detailed(
            AGENT,
            client=client,
            body=RunRequest(message="slow #sleep:1", sessionId=session),
            prefer="wait=0.2",
        )
        accepted = _parsed(slow, RunAccepted, 202)
        assert slow.headers["location"] == accepted.location
        assert accepted.location.endswith(f"/api/agents/{AGENT}/{session}/turns/{accepted.correlationId}")
        deadline = time.monotonic() + 30
        polled = get_turn.sync_detailed(AGENT, session, accepted.correlationId, client=client)
        while polled.status_code == 202 and time.monotonic() < deadline:
            assert isinstance(polled.parsed, RunAccepted)
            time.sleep(float(polled.headers.get("retry-after", "1")) / 5)  # a client's poll, paced by Retry-After
            polled = get_turn.sync_detailed(AGENT, session, accepted.correlationId, client=client)
        done = _parsed(polled, RunResult, 200)
        assert done.response == "You said: 'slow #sleep:1'. This is offline reply #4 in this conversation."
        assert done.message_count == 4

        reset = _parsed(reset_conversation.sync_detailed(AGENT, session, client=client), ResetResult, 200)
        assert (reset.status, reset.session_id) == ("reset", session)
        gone = _parsed(get_conversation.sync_detailed(AGENT, session, client=client), Problem, 404)
        assert gone.status == 404
        assert _parsed(get_health.sync_detailed(client=client), Health, 200).agent_count == 2
