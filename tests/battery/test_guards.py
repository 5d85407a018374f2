"""The two guards the battery added to src: refusing catastrophic regexes, and tool idempotency keys.

In-process and fast: the HTTP-level proofs are ``test_hostile`` (a ReDoS ``response_schema`` used
to stall the whole host) and ``test_failures`` / ``test_kill9`` (a tool re-run after a crash takes
effect once because its key survives the crash).
"""

from __future__ import annotations

from typing import Any

import pytest
from agent_framework import Agent, AgentSession, FunctionInvocationContext, Message

from durableagent.callbacks import AgentCallbackContext
from durableagent.contract.limits import Limits, check_response_schema
from durableagent.contract.problems import InvalidResponseSchema
from durableagent.contract.regex_safety import backtracking_risk
from durableagent.entity.agent_call import CallSettings, call_agent, install_history_provider
from durableagent.entity.registration import AgentRegistration
from durableagent.offline.model import OfflineChatClient
from durableagent.tools import TURN_KWARG, ToolTurn, idempotency_key, turn_of
from tests.agent_loop_sync import run_sync

RISKY = [
    r"(a+)+$",
    r"(a*)*b",
    r"(\w+\s?)*$",
    r"(a{1,3})+$",
    r"(a+){2}",
    r"(?:a+)+",
    r"((a+))+",
    r"(?=(a+)+)x",
    r"(a|ab)+",
    r"(foo|fo)*$",
    r"\d*\d*",
    r"^\d*\d*\d*$",
    r"a+b?a+",
    r"(a)\1",
    r"(?P<x>a)(?P=x)",
]
SAFE = [
    r"^[a-z]+$",
    r"^\w+@\w+\.\w+$",
    r"^(\d{1,3}\.){3}\d{1,3}$",
    r"^\d{3}-\d{4}$",
    r"^[A-Z][a-z]*$",
    r"^(cat|dog)$",
    r"(cat|dog){2}",
    r"\d+\s\d+",
    r"^[a-z]+(\.[a-z]{2,3})?$",
    r"^.*$",
    r"^\d+(\.\d+)?$",
    r"(x|y)*",  # a character class in disguise
]


@pytest.mark.parametrize("pattern", RISKY)
def test_patterns_that_can_backtrack_catastrophically_are_refused(pattern: str) -> None:
    assert backtracking_risk(pattern) is not None
    with pytest.raises(InvalidResponseSchema) as raised:
        check_response_schema({"type": "string", "pattern": pattern}, Limits())
    assert raised.value.errors[0]["pointer"] == "/response_schema/pattern"


@pytest.mark.parametrize("pattern", SAFE)
def test_ordinary_patterns_are_accepted(pattern: str) -> None:
    assert backtracking_risk(pattern) is None
    check_response_schema({"type": "string", "pattern": pattern}, Limits())


def test_pattern_properties_and_property_names_are_checked_too() -> None:
    with pytest.raises(InvalidResponseSchema):
        check_response_schema({"type": "object", "patternProperties": {"(a+)+": {}}}, Limits())
    with pytest.raises(InvalidResponseSchema):
        check_response_schema({"type": "object", "propertyNames": {"pattern": "(a|aa)*"}}, Limits())


class _Ctx:
    def __init__(self, turn: ToolTurn | None, arguments: dict[str, Any], name: str = "pay") -> None:
        self.kwargs = {TURN_KWARG: turn} if turn is not None else {}
        self.arguments = arguments
        self.function = type("F", (), {"name": name})()


def test_idempotency_keys_are_stable_per_turn_tool_and_arguments() -> None:
    turn = ToolTurn("A", "s1", "req-1")
    key = idempotency_key(_Ctx(turn, {"amount": 5}))
    assert len(key) == 64
    assert key == idempotency_key(_Ctx(ToolTurn("A", "s1", "req-1"), {"amount": 5}))
    others = {
        idempotency_key(_Ctx(ToolTurn("A", "s1", "req-2"), {"amount": 5})),
        idempotency_key(_Ctx(ToolTurn("A", "s2", "req-1"), {"amount": 5})),
        idempotency_key(_Ctx(turn, {"amount": 6})),
        idempotency_key(_Ctx(turn, {"amount": 5}, name="refund")),
        idempotency_key(_Ctx(turn, {"amount": 5}), "second"),
    }
    assert key not in others
    assert len(others) == 5
    with pytest.raises(LookupError):
        idempotency_key(_Ctx(None, {}))


def test_a_turn_hands_its_identity_to_tools() -> None:
    seen: list[tuple[ToolTurn | None, str]] = []

    def pay(order: str, ctx: FunctionInvocationContext) -> str:
        """Pay for an order."""
        seen.append((turn_of(ctx), idempotency_key(ctx)))
        return "paid"

    agent = Agent(OfflineChatClient(), name="Payer", tools=[pay])
    registration = AgentRegistration(
        name="Payer", agent=agent, uses_provider=install_history_provider(agent), call=CallSettings()
    )
    context = AgentCallbackContext("Payer", "corr-9", "sess-1", "please pay 'o-1'")

    async def one_run() -> str:
        user = Message(role="user", contents=["please pay 'o-1'"])
        result = await call_agent(registration, user, [], "sess-1", {}, context)
        return str(result.response.text)

    assert run_sync(one_run(), timeout=30) == "Here is what I found: paid."
    assert run_sync(one_run(), timeout=30) == "Here is what I found: paid."  # the same turn, delivered again
    assert [t for t, _ in seen] == [ToolTurn("Payer", "sess-1", "corr-9")] * 2
    assert seen[0][1] == seen[1][1]
    assert AgentSession is not None
