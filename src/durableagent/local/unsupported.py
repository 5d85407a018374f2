"""Functions with a binding the local host cannot run are never invoked: they are refused, loudly.

Why: running such a function would silently drop its output (a Twilio message, a Service Bus
message) or hand it ``None`` for an input. Instead the host lists it at startup (the banner), and
every invocation is refused before user code runs: an HTTP function answers a 501 problem naming
the bindings; an activity fails with that message (the orchestration sees a TaskFailed); an
orchestrator fails; an entity batch fails. What runs locally is decided by ``bindings_support``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import azure.functions as func

from durableagent.contract.problems import Problem
from durableagent.local.indexing import HTTP_TRIGGER, AppIndex, FunctionPlan, plan_function
from durableagent.local.json_functions import JsonBinding, JsonFunction

PROBLEM_CONTENT_TYPE = "application/problem+json"


class BindingNotSupportedLocally(Problem):
    """The function uses a binding the local host cannot run: nothing of it ran (no dropped outputs)."""

    status, slug, title = 501, "binding-not-supported", "Binding not supported by the local host"


def binding_problem(function: str, bindings: list[tuple[str, str]]) -> BindingNotSupportedLocally:
    """The 501 answer for ``function``, naming each binding (name, type) the host cannot run."""
    listed = ", ".join(f"'{name}' ({btype})" for name, btype in bindings)
    return BindingNotSupportedLocally(
        f"The function '{function}' uses bindings the local host cannot run: {listed}. "
        "It runs on Azure; the local host did not invoke it."
    )


class BindingNotSupported(RuntimeError):
    """Raised instead of running a durable function with an unsupported binding."""


def _binding(name: str, btype: str, direction: str) -> JsonBinding:
    return JsonBinding({"name": name, "type": btype, "direction": direction})


def _http_refusal(problem: Problem) -> Callable[..., Any]:
    body = json.dumps(problem.to_dict())

    async def refuse() -> func.HttpResponse:
        return func.HttpResponse(body, status_code=problem.status, mimetype=PROBLEM_CONTENT_TYPE)

    return refuse


def _durable_refusal(message: str) -> Callable[..., Any]:
    def refuse() -> Any:
        raise BindingNotSupported(message)

    return refuse


def refusal_plans(index: AppIndex) -> dict[str, FunctionPlan]:
    """A plan per function with unsupported bindings that refuses instead of running the function.

    The stub takes no parameters (the plan decodes no input) but keeps the real trigger binding,
    so the engines invoke it exactly as they would invoke the function.
    """
    by_function: dict[str, list[tuple[str, str]]] = {}
    for item in index.unsupported:
        by_function.setdefault(item.function, []).append((item.binding, item.type))
    plans: dict[str, FunctionPlan] = {}
    for fn in index.functions:
        name = fn.get_function_name()
        if name not in by_function:
            continue
        trigger = fn.get_trigger()
        problem = binding_problem(name, by_function[name])
        if str(trigger.type) == HTTP_TRIGGER:
            bindings = [_binding(trigger.name, HTTP_TRIGGER, "in"), _binding("$return", "http", "out")]
            stub = JsonFunction(name, bindings, _http_refusal(problem), "")
        else:
            bindings = [_binding(trigger.name, str(trigger.type), "in")]
            stub = JsonFunction(name, bindings, _durable_refusal(str(problem.detail)), "")
        plans[name] = plan_function(stub)
    return plans
