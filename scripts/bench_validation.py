"""Benchmark request validation: naive openapi-core vs ContractValidator vs a pydantic floor.

Usage: python scripts/bench_validation.py [--number N] [--repeat R]

Prints µs per request (best of R runs of N calls) for three representative requests: a run
request with a small response_schema, a GET of a conversation with a query parameter, and the
health check. "adapter" is the cost of wrapping the func.HttpRequest (paid once per request).
"pydantic floor" is the generated model alone (no contract check, no strict JSON parsing).

This script is where validation speed is measured; it replaces the timed assertion that
tests/unit/contract/test_validate.py used to make (`test_validation_is_cheap`: tests assert
behaviour, never timings). Compare runs on the same machine, minutes apart.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from collections.abc import Callable

import azure.functions as func
from durableagent_models import AgentName, RunRequest, SessionId
from openapi_core import Config, OpenAPI

from durableagent.contract.spec import spec_dict
from durableagent.contract.validate import ContractValidator
from durableagent.http.edge import AzureOpenAPIRequest

RUN_BODY = json.dumps(
    {
        "message": "What is the weather like in Seattle?",
        "sessionId": "user-123",
        "response_schema": {
            "type": "object",
            "properties": {"location": {"type": "string"}, "temperature": {"type": "number"}},
            "required": ["location", "temperature"],
        },
    }
).encode()

REQUESTS = {
    "run (POST, 239 B JSON)": func.HttpRequest(
        "POST",
        "http://localhost:7071/api/agents/WeatherAgent/run",
        headers={"Content-Type": "application/json", "Idempotency-Key": "req-0001"},
        body=RUN_BODY,
    ),
    "state (GET ?limit=10)": func.HttpRequest(
        "GET", "http://localhost:7071/api/agents/WeatherAgent/user-123?limit=10", headers={}, body=b""
    ),
    "health (GET)": func.HttpRequest("GET", "http://localhost:7071/api/health", headers={}, body=b""),
}


def _floor(name: str) -> Callable[[], object] | None:
    if name.startswith("run"):
        return lambda: RunRequest.model_validate_json(RUN_BODY)
    if name.startswith("state"):
        return lambda: (AgentName.model_validate("WeatherAgent"), SessionId.model_validate("user-123"))
    return None


def best_us(fn: Callable[[], object], number: int, repeat: int) -> float:
    """Best per-call time in µs over `repeat` runs of `number` calls."""
    fn()
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - start) / number)
    return best * 1e6


def main() -> None:
    """Run the benchmark and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    config = Config(extra_media_type_deserializers={"application/problem+json": json.loads})
    naive = OpenAPI.from_dict(spec_dict(), config=config)
    start = time.perf_counter()
    validator = ContractValidator()
    build_ms = (time.perf_counter() - start) * 1e3
    print(f"ContractValidator build: {build_ms:.1f} ms (once per app)")
    header = f"{'request':<26}{'adapter':>10}{'naive openapi-core':>20}{'ContractValidator':>19}"
    print(header + f"{'pydantic floor':>16}")
    for name, request in REQUESTS.items():
        adapted = AzureOpenAPIRequest(request)
        adapter = best_us(lambda request=request: AzureOpenAPIRequest(request), args.number, args.repeat)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            slow_number = max(args.number // 10, 20)
            slow = best_us(lambda a=adapted: naive.validate_request(a), slow_number, args.repeat)
        fast = best_us(lambda a=adapted: validator.validate(a), args.number, args.repeat)
        floor_fn = _floor(name)
        floor = f"{best_us(floor_fn, args.number, args.repeat):>14.1f}" if floor_fn else f"{'n/a':>14}"
        print(f"{name:<26}{adapter:>8.1f}µs{slow:>18.1f}µs{fast:>17.1f}µs{floor}µs")


if __name__ == "__main__":
    main()
