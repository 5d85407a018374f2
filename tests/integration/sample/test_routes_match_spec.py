"""Route handlers and openapi.yaml agree: every operation of the spec is served, and every HTTP route
the app registers is in the spec with exactly the spec's methods.

Probed over real HTTP against the sample on the local host: a method is "served" on a path when the
app answers it with anything but 405, and a path is routed when the host does not answer its own
route-not-found 404.
"""

from __future__ import annotations

import re

import httpx

from durableagent.contract.spec import spec_dict
from durableagent.http.routes import ROUTES as ROUTE_TABLE
from durableagent.local.problems import NO_ROUTE

ROUTES = {route.name: route.template for route in ROUTE_TABLE}

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
HOST_NO_ROUTE = NO_ROUTE  # the host's own "no function matches" 404
EXAMPLES = {
    "agentName": "WeatherAgent",
    "sessionId": "probe-session",
    "correlationId": "probe-turn",
    "assetName": "swagger-ui.css",
}


def _concrete(template: str) -> str:
    return re.sub(r"{(\w+)}", lambda m: EXAMPLES[m.group(1)], template)


def _probe(api: httpx.Client, path: str, method: str) -> httpx.Response:
    kwargs = {"json": {"message": "probe"}} if method in ("POST", "PUT", "PATCH") else {}
    return api.request(method, path, **kwargs)


def _spec_methods() -> dict[str, set[str]]:
    paths = spec_dict()["paths"]
    return {
        path: {m.upper() for m in ops if m in ("get", "post", "put", "patch", "delete")}
        for path, ops in paths.items()
    }


def test_every_spec_operation_is_served(api: httpx.Client) -> None:
    for path, methods in _spec_methods().items():
        for method in methods:
            response = _probe(api, _concrete(path), method)
            assert response.status_code != 405, (method, path)
            routed = response.status_code != 404 or response.json().get("detail") != HOST_NO_ROUTE
            assert routed, (method, path)


def test_every_registered_route_is_in_the_spec_with_its_methods(api: httpx.Client) -> None:
    spec = _spec_methods()
    for name, route in ROUTES.items():
        path = "/" + route
        assert path in spec, f"function {name} serves {path}, which openapi.yaml does not describe"
        served = {m for m in METHODS if _probe(api, _concrete(path), m).status_code != 405}
        assert served == spec[path], (name, path, served)
    assert {"/" + r for r in ROUTES.values()} == set(spec)
