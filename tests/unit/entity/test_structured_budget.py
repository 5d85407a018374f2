"""Checking a structured reply: off the caller's loop, under a work and a time budget (issue 11.1)."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from durableagent.contract.problems import StructuredOutputInvalid
from durableagent.entity.structured import check_structured, validate_within_budget

BUDGET = "Checking the agent's reply against the response_schema exceeded its work budget."
SCHEMA = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}


def _chain(levels: int) -> dict[str, Any]:
    defs: dict[str, Any] = {
        f"d{i}": {"allOf": [{"$ref": f"#/$defs/d{i + 1}"}, {"$ref": f"#/$defs/d{i + 1}"}]}
        for i in range(levels)
    }
    defs[f"d{levels}"] = {"type": "string"}
    return {"$ref": "#/$defs/d0", "$defs": defs}


def test_matching_and_mismatching_replies() -> None:
    assert validate_within_budget({"n": 1}, SCHEMA) == ({"n": 1}, None)
    value, problem = validate_within_budget({"n": "x"}, SCHEMA)
    assert value is None
    assert type(problem) is StructuredOutputInvalid
    assert problem.detail != BUDGET


def test_work_budget_stops_the_validation_itself() -> None:
    value, problem = validate_within_budget("x", _chain(20), work=5_000, seconds=3600)
    assert value is None
    assert isinstance(problem, StructuredOutputInvalid)
    assert problem.detail == BUDGET
    assert problem.status == 422
    assert validate_within_budget("x", _chain(4), work=5_000) == ("x", None)  # 2^4 leaves fit


def test_time_budget_stops_the_validation_itself() -> None:
    _value, problem = validate_within_budget("x", _chain(40), work=10**12, seconds=0.05)
    assert problem is not None
    assert problem.detail == BUDGET


class _Reply:
    def __init__(self, text: str) -> None:
        self.text = text
        self.value = None


def test_check_runs_on_a_worker_thread_not_the_loop() -> None:
    seen: list[str] = []

    async def main() -> tuple[Any, Any]:
        loop_thread = threading.current_thread().name
        import durableagent.entity.structured as structured

        original = structured.validate_within_budget

        def spy(value: Any, schema: Any, **kw: Any) -> Any:
            seen.append(threading.current_thread().name)
            return original(value, schema, **kw)

        structured.validate_within_budget = spy  # type: ignore[assignment]
        try:
            result = await check_structured(_Reply('{"n": 2}'), SCHEMA)
        finally:
            structured.validate_within_budget = original  # type: ignore[assignment]
        assert seen
        assert seen[0] != loop_thread
        return result

    assert asyncio.run(main()) == ({"n": 2}, None)
    assert seen[0].startswith("durableagent-validate")
