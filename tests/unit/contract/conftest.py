"""Fixtures for the contract tests: one ContractValidator per session (it compiles the spec)."""

from __future__ import annotations

import pytest

from durableagent.contract.validate import ContractValidator


@pytest.fixture(scope="session")
def validator() -> ContractValidator:
    """The validator for the shipped spec and the default `api` route prefix."""
    return ContractValidator()
