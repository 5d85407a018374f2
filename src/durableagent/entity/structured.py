"""Structured output: the value of an agent's reply, checked against the caller's response schema.

The framework parses a reply made under ``response_format`` into ``response.value`` (a dict for a
JSON Schema, a model instance for a pydantic class); a reply that is not JSON has no value. The
caller's schema (already vetted by ``contract.limits``: size, depth, local refs, safe patterns, and
its size with every ``$ref`` expanded) decides; a mismatch is a ``422 structured-output-invalid``,
never a 500.

Isolation: validating is CPU work that grows with the schema times the reply, so it never runs on
the agent loop every session shares. It runs on a small pool of worker threads (``VALIDATORS``)
under a budget: at most ``WORK_BUDGET`` keyword evaluations and ``TIME_BUDGET`` seconds, counted by
the validator itself, so a validation over budget stops (it is not merely abandoned) and its turn
fails alone with ``422 structured-output-invalid`` (its detail names the budget), recorded once
like any other failed turn.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import jsonschema
from agent_framework import AgentResponse
from jsonschema.protocols import Validator

from durableagent.contract.problems import Problem, StructuredOutputInvalid

__all__ = ["TIME_BUDGET", "WORK_BUDGET", "check_structured", "parse_value", "validate_within_budget"]

WORK_BUDGET = 200_000  # keyword evaluations per reply (0.2 to 7 s of jsonschema on one core)
TIME_BUDGET = 2.0  # seconds per reply, whatever the keywords cost
_CLOCK_EVERY = 1024  # steps between two looks at the clock
VALIDATORS = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="durableagent-validate")


class BudgetExceeded(Exception):
    """Raised inside the validator when a validation has used up its work or time budget."""


class _Budget(threading.local):
    steps = 0
    limit = 0
    deadline = 0.0


_budget = _Budget()


def _counted(keyword: Callable[..., Iterator[Any]]) -> Callable[..., Iterator[Any]]:
    def run(validator: Any, value: Any, instance: Any, schema: Any) -> Iterator[Any]:
        budget = _budget
        budget.steps += 1
        if budget.steps > budget.limit:
            raise BudgetExceeded
        if budget.steps % _CLOCK_EVERY == 0 and time.monotonic() > budget.deadline:
            raise BudgetExceeded
        return keyword(validator, value, instance, schema) or iter(())

    return run


# Every keyword of draft 2020-12, counted (jsonschema's documented `extend` hook).
_Counted: type[Validator] = jsonschema.validators.extend(  # type: ignore[no-untyped-call]
    jsonschema.Draft202012Validator,
    validators={name: _counted(fn) for name, fn in jsonschema.Draft202012Validator.VALIDATORS.items()},
)


def parse_value(response: AgentResponse) -> Any:
    """The reply's structured value as plain JSON data, or None when the reply is not JSON."""
    value = getattr(response, "value", None)
    if value is None:
        try:
            value = json.loads(response.text)
        except ValueError:
            return None
    return value.model_dump(mode="json") if hasattr(value, "model_dump") else value


def validate_within_budget(
    value: Any, schema: Any, *, work: int = WORK_BUDGET, seconds: float = TIME_BUDGET
) -> tuple[Any, Problem | None]:
    """``(value, None)`` when ``value`` matches ``schema``, else ``(None, 422 problem)``; blocking."""
    _budget.steps, _budget.limit, _budget.deadline = 0, work, time.monotonic() + seconds
    try:
        error = next(_Counted(schema).iter_errors(value), None)
    except BudgetExceeded:
        return None, StructuredOutputInvalid(
            "Checking the agent's reply against the response_schema exceeded its work budget."
        )
    if error is not None:
        return None, StructuredOutputInvalid(
            "The agent's reply does not match the requested response_schema."
        )
    return value, None


async def check_structured(response: AgentResponse, schema: Mapping[str, Any]) -> tuple[Any, Problem | None]:
    """Parse and validate ``response`` against ``schema`` on the validator pool, off the caller's loop."""

    def work() -> tuple[Any, Problem | None]:
        return validate_within_budget(parse_value(response), schema)

    return await asyncio.get_running_loop().run_in_executor(VALIDATORS, work)
