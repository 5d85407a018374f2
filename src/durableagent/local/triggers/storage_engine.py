"""Placeholder replaced below."""

from __future__ import annotations
from typing import Any


class StorageEngine:
    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx

    def install(self) -> None:
        return None
