"""What a route handler gets from a request that matches the contract.

Why this module exists: `ContractValidator.validate` (validate.py) hands every route one
`ValidatedRequest`: the operation, its decoded parameters, and the body both as parsed JSON
(`body`) and as its generated pydantic model (`model`). Routes read `model`, narrowed with
`isinstance` (a JSON run body is a `durableagent_models.RunRequest`); `body` is the text of a
text/plain body.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

__all__ = ["ValidatedRequest"]


@dataclass(frozen=True, slots=True)
class ValidatedRequest:
    """What a route handler needs from a request that matches the contract."""

    operation_id: str
    path: dict[str, str] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, Any] = field(default_factory=dict)  # declared header parameters, lower-case names
    body: Any = None  # parsed JSON, or the str of a text/plain body, or None
    media_type: str | None = None
    # The JSON body as its generated model (`durableagent_models.RunRequest` for runAgent); None
    # for a text/plain or absent body (or a spec whose schema is not the shipped one).
    model: BaseModel | None = None
