"""AgentFunctionApp registration: names, duplicates, functions it registers, custom functions beside it."""

from __future__ import annotations

import typing
from datetime import timedelta

import azure.functions as func
import pytest
from agent_framework import Agent

from durableagent import AgentFunctionApp, AppOptions
from durableagent.offline.model import OfflineChatClient


def _agent(name: str | None) -> Agent:
    return Agent(OfflineChatClient(), name=name)


def _functions(app: AgentFunctionApp) -> dict[str, object]:
    return {f.get_function_name(): f for f in app.get_functions()}


def test_one_entity_per_agent_and_the_contract_routes() -> None:
    app = AgentFunctionApp(agents=[_agent("WeatherAgent"), _agent("MathAgent")])
    functions = _functions(app)
    for name in (
        "agent_run",
        "agent_session",
        "agent_turn",
        "health",
        "openapi_json",
        "openapi_yaml",
        "docs",
        "docs_asset",
        "entity_WeatherAgent",
        "entity_MathAgent",
    ):
        assert name in functions
    entity = functions["entity_WeatherAgent"].get_trigger()  # type: ignore[attr-defined]
    assert entity.type == "entityTrigger"
    assert entity.entity_name == "WeatherAgent"
    assert set(app.agents) == {"WeatherAgent", "MathAgent"}


def test_add_agent_refuses_missing_bad_and_duplicate_names() -> None:
    app = AgentFunctionApp()
    with pytest.raises(ValueError, match="no name"):
        app.add_agent(_agent(None))
    with pytest.raises(ValueError, match="must match"):
        app.add_agent(_agent("bad name"))
    app.add_agent(_agent("Weather"))
    with pytest.raises(ValueError, match="already registered"):
        app.add_agent(_agent("weather"))


def test_health_can_be_disabled_and_auth_level_applies() -> None:
    app = AgentFunctionApp(
        agents=[_agent("A")], enable_health_check=False, http_auth_level=func.AuthLevel.FUNCTION
    )
    functions = _functions(app)
    assert "health" not in functions
    trigger = functions["agent_run"].get_trigger()  # type: ignore[attr-defined]
    assert trigger.auth_level == func.AuthLevel.FUNCTION
    docs = functions["docs"].get_trigger()  # type: ignore[attr-defined]
    assert docs.auth_level == func.AuthLevel.ANONYMOUS


def test_custom_functions_live_beside_the_agents() -> None:
    app = AgentFunctionApp(agents=[_agent("A")])

    @app.route(route="status", methods=["GET"])
    def status(req: func.HttpRequest) -> func.HttpResponse:
        return func.HttpResponse("Running")

    @app.timer_trigger(schedule="0 */5 * * * *", arg_name="timer")
    def periodic(timer: func.TimerRequest) -> None:
        return None

    functions = _functions(app)
    assert functions["status"].get_trigger().route == "status"  # type: ignore[attr-defined]
    assert functions["periodic"].get_trigger().type == "timerTrigger"  # type: ignore[attr-defined]


def test_options_are_checked() -> None:
    with pytest.raises(ValueError, match="wait_timeout"):
        AppOptions(wait_timeout=500)
    with pytest.raises(ValueError, match="allowed_roles"):
        AppOptions(allowed_roles=("assistant",))
    assert AppOptions(allowed_roles=("user", "system")).allowed_roles == ("user", "system")


def test_the_run_body_limit_is_an_app_option() -> None:
    from durableagent.http.edge import validator_for

    assert validator_for("api", 1024).limits.max_body_bytes == 1024
    assert validator_for("api").limits.max_body_bytes == 64 * 1024


def test_every_function_passes_the_workers_annotation_checks() -> None:
    """What the Python worker checks when it loads a function, for every function the app registers.

    The worker (azure-functions-python-worker, ``functions.py``) refuses to load a function whose
    bound parameter is annotated with a type its binding's converter does not accept ("type of
    context binding ... does not match its Python annotation"), so a type only a type checker
    sees would load on the local host and fail on Azure.
    """
    from azure.functions import meta

    options = AppOptions(session_ttl=timedelta(hours=1))  # the expiry sweep's timer function too
    app = AgentFunctionApp(agents=[_agent("WeatherAgent")], options=options)
    registry = meta.get_binding_registry()
    checked = 0
    for function in app.get_functions():
        fn = function.get_user_function()
        hints = typing.get_type_hints(fn)
        for binding in function.get_bindings():
            converter = registry.get(binding.type)
            if converter is None or binding.name not in hints:
                continue
            pytype = hints[binding.name]
            if pytype in (str, bytes) and not converter.has_implicit_output():
                continue  # the worker's generic binding: the raw value
            assert converter.check_input_type_annotation(pytype), (function.get_function_name(), binding.name)
            checked += 1
        trigger = registry.get(function.get_trigger().type)
        if "return" in hints and trigger is not None and trigger.has_implicit_output():
            assert trigger.check_output_type_annotation(hints["return"]), function.get_function_name()
    assert checked > 0
