"""Request validation against openapi.yaml, cheap enough for every request.

Why this module exists: every request is checked against the contract before anything else runs,
and failures become Problems (404/405/413/415/400). openapi-core's `validate_request` costs
1-4 ms per call here because it re-resolves the spec and rebuilds validators each time; this
validator compiles routes and schemas once (`routing`). Strict JSON parsing and the bounds
(`request_body`, `limits`) come first; then a value is accepted at once when its fast check
(jsonschema-rs, `fast_checks`) and, for a JSON body, the strict parse into its generated model
(`request_body`) both accept it. Anything else goes to openapi-core's own schema validators
(`authority`), which decide: they reject with the error list, or accept (the model is then
built from what they accepted). `reference_validate` runs plain openapi-core (with the same
strictness, `reference.py`) for tests and the benchmark.

Error pointers: body errors are JSON pointers into the body (`/message`); parameter errors are
URI-fragment pointers into the request's parameters (`#/query/limit`, `#/path/agentName`,
`#/header/idempotency-key`), so the two can never be confused.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote_to_bytes

from openapi_core import OpenAPI
from openapi_core.protocols import Request, Response
from pydantic import BaseModel

from . import limits as _limits
from .authority import authority_errors
from .errors import summary
from .problems import InvalidRequest, MethodNotAllowed, NotFound, Problem, UnsupportedMediaType
from .reference import build_openapi, problem_from_openapi_error, reference_validate
from .request_body import CONTENT_CHECKS, check_body, check_size, fast_accepts, parse_json
from .routing import Operation, Param, Route, compile_routes
from .spec import internal_spec, normalize_route_prefix, server_url
from .validated import ValidatedRequest

__all__ = ["ContractValidator", "HttpRequestLike", "ValidatedRequest", "problem_from_openapi_error"]


HttpRequestLike = Request
"""openapi-core's `Request` protocol (host_url, path, method, parameters, content_type, body);
`durableagent.http.edge.AzureOpenAPIRequest` provides it for `func.HttpRequest`."""


class ContractValidator:
    """Validates requests against the spec; build once per app (construction takes ~10 ms)."""

    def __init__(
        self,
        spec: Mapping[str, Any] | None = None,
        route_prefix: str | None = "api",
        limits: _limits.Limits | None = None,
    ) -> None:
        """Compile the routes of ``spec`` (default: the shipped openapi.yaml) under ``route_prefix``.

        Args:
            spec: an OpenAPI document as a mapping; None loads the shipped contract.
            route_prefix: ``extensions.http.routePrefix`` of host.json; None means ``api``.
            limits: size and depth limits for bodies and response schemas; None takes the defaults.
        """
        base = internal_spec(route_prefix) if spec is None else spec
        self.route_prefix = normalize_route_prefix(route_prefix)
        self.spec: dict[str, Any] = {**base, "servers": [{"url": server_url(self.route_prefix)}]}
        self.limits = limits or _limits.Limits()
        self._base = server_url(self.route_prefix).rstrip("/")
        self._routes: tuple[Route, ...] = compile_routes(self.spec)
        self._openapi: OpenAPI | None = None

    # -- the hot path -------------------------------------------------------------------------

    def validate(self, request: HttpRequestLike) -> ValidatedRequest:
        """Check `request` against the contract; raise a `Problem` when it does not match."""
        operation, path = self._route(request.method.lower(), request.path)
        params, errors = self._params(operation, request.parameters, path)
        if errors:
            raise InvalidRequest(summary(errors), errors=errors)
        body, media_type, model = self._body(operation, request.content_type or "", request.body or b"")
        query: dict[str, Any] = {}
        headers: dict[str, Any] = {}
        for param in operation.params:
            if param.key in params and param.location in ("query", "header"):
                (query if param.location == "query" else headers)[param.key] = params[param.key]
        decoded = {name: value for name, value in path.items() if value is not None}
        return ValidatedRequest(operation.operation_id, decoded, query, headers, body, media_type, model)

    def _route(self, method: str, url_path: str) -> tuple[Operation, dict[str, str | None]]:
        """The operation and its percent-decoded path variables (None: not UTF-8)."""
        base = url_path[: len(self._base)]
        if base.lower() != self._base.lower() or url_path[len(base) : len(base) + 1] not in ("", "/"):
            raise NotFound("No such route.")
        rel = url_path[len(self._base) :] or "/"
        allowed: set[str] = set()
        for route in self._routes:
            match = route.regex.match(rel)
            if match is None:
                continue
            operation = route.operations.get(method)
            if operation is not None:
                groups = match.groups()
                return operation, {name: _percent_decode(groups[i]) for i, name in enumerate(route.names)}
            allowed.update(route.operations)
        if allowed:
            raise MethodNotAllowed(f"{method.upper()} is not allowed here.", allow=allowed)
        raise NotFound("No such route.")

    def _params(
        self, operation: Operation, parameters: Any, path: Mapping[str, str | None]
    ) -> tuple[dict[str, Any], list[dict[str, str]]]:
        values: dict[str, Any] = {}
        errors: list[dict[str, str]] = []
        sources: dict[str, Mapping[str, Any]] = {"path": path}
        for param in operation.params:
            if param.location not in sources:
                sources[param.location] = _flat(getattr(parameters, param.location, None), param.location)
            raw = sources[param.location].get(param.key)
            at = f"#/{param.location}/{param.key}"
            if raw is None:
                if param.location == "path":
                    errors.append({"pointer": at, "message": "not valid percent-encoded UTF-8"})
                elif param.required:
                    errors.append({"pointer": at, "message": f"{param.name} is required"})
                continue
            if param.location == "query" and (raw == "" or _repeated(parameters.query, param.name)):
                errors.append(
                    {"pointer": at, "message": "must be given once" if raw else "must not be empty"}
                )
                continue
            errors.extend(self._check_param(param, str(raw), values, at))
        return values, errors

    @staticmethod
    def _check_param(param: Param, raw: str, values: dict[str, Any], at: str) -> list[dict[str, str]]:
        try:
            value = param.cast(raw)
        except ValueError:
            return [{"pointer": at, "message": f"{raw[:64]!r} is not a valid {param.name}"}]
        if not fast_accepts(param.fast, value):
            errors = authority_errors(param.validator, value)
            if errors:
                return [{"pointer": at, "message": e["message"]} for e in errors]
        values[param.key] = value
        return []

    def _body(
        self, operation: Operation, content_type: str, raw: bytes
    ) -> tuple[Any, str | None, BaseModel | None]:
        if not operation.bodies:
            return None, None, None
        check_size(raw, self.limits)
        if not raw:
            if operation.body_required:
                missing = [{"pointer": "", "message": "a request body is required"}]
                raise InvalidRequest("A request body is required.", errors=missing)
            return None, None, None
        media_type, _, params = content_type.partition(";")
        media_type = media_type.strip().lower()
        spec = operation.bodies.get(media_type) or next(
            (b for key, b in operation.bodies.items() if fnmatch.fnmatchcase(media_type, key)), None
        )
        charset = _charset(params)
        if spec is None or not media_type or charset not in (None, "utf-8", "utf8"):
            accepted = ", ".join(operation.bodies)
            raise UnsupportedMediaType(f"Send the body as one of: {accepted} (UTF-8).")
        if spec.is_json:
            body: Any = parse_json(raw, max_depth=self.limits.max_json_depth)
        else:
            try:
                body = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise InvalidRequest("The body is not valid UTF-8.") from None
        content_check = CONTENT_CHECKS.get(operation.operation_id)
        if content_check is not None:
            content_check(body, self.limits)
        return body, spec.media_type, check_body(spec, body)

    # -- reference and test helpers (never on the request path) -------------------------------

    @property
    def openapi(self) -> OpenAPI:
        """Plain openapi-core over the same spec (strict patterns, problem+json registered)."""
        if self._openapi is None:
            self._openapi = build_openapi(self.spec)
        return self._openapi

    def reference_validate(self, request: HttpRequestLike) -> None:
        """Validate with openapi-core's own `validate_request` (slow; tests and the benchmark)."""
        reference_validate(self.openapi, request, self._allowed)

    def validate_response(self, request: HttpRequestLike, response: Response) -> None:
        """Check a response against the spec with openapi-core (tests only; raises its errors)."""
        self.openapi.validate_response(request, response)

    def _allowed(self, path: str) -> set[str]:
        try:
            self._route("", path)
        except MethodNotAllowed as problem:
            return {m.strip().lower() for m in problem.headers.get("Allow", "").split(",")}
        except Problem:
            pass
        return set()


def _percent_decode(raw: str) -> str | None:
    try:
        return unquote_to_bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        return None


def _flat(source: Mapping[str, Any] | None, location: str) -> Mapping[str, Any]:
    """One value per name (the first, as openapi-core does); header names lower-cased."""
    if not source:
        return {}
    if location == "header":
        return {name.lower(): value for name, value in source.items()}
    return source if isinstance(source, dict) else dict(source.items())


def _repeated(query: Any, name: str) -> bool:
    """`?a=1&a=2` for a scalar parameter (openapi-core would silently take the first)."""
    getlist = getattr(query, "getlist", None)
    return getlist is not None and len(getlist(name)) > 1


def _charset(params: str) -> str | None:
    for item in params.split(";"):
        name, _, value = item.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip('"').lower()
    return None
