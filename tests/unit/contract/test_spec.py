"""The shipped spec: loaded from the package, byte-identical to openapi.yaml, servers rewritten per prefix."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import durableagent_models
import pytest
import yaml

from durableagent.contract import spec

ROOT = Path(__file__).resolve().parents[3]


def test_shipped_spec_is_the_repository_spec() -> None:
    assert spec.spec_yaml() == (ROOT / "openapi.yaml").read_bytes()
    assert (
        spec.spec_sha256()
        == hashlib.sha256(spec.spec_yaml()).hexdigest()
        == durableagent_models.SOURCE_SHA256
    )


def test_forms_agree() -> None:
    data = spec.spec_dict()
    assert json.loads(spec.spec_json()) == data == yaml.safe_load(spec.spec_yaml())
    assert data["servers"][0]["url"] == "/api"


@pytest.mark.parametrize(("prefix", "url"), [("", "/"), ("v1", "/v1"), ("/a/b/", "/a/b"), (None, "/api")])
def test_route_prefix_rewrites_only_the_server_url(prefix: str | None, url: str) -> None:
    rewritten = spec.spec_dict(prefix)
    assert rewritten["servers"][0]["url"] == url
    assert json.loads(spec.spec_json(prefix))["servers"][0]["url"] == url
    assert yaml.safe_load(spec.spec_yaml(prefix))["servers"][0]["url"] == url
    assert rewritten["paths"] == spec.spec_dict()["paths"]
    assert spec.spec_dict()["servers"][0]["url"] == "/api"  # the cached default is untouched


def test_spec_dict_is_a_private_copy() -> None:
    mine = spec.spec_dict()
    mine["paths"].clear()
    assert spec.spec_dict()["paths"]


def test_contract_does_not_import_azure_functions_or_agent_framework() -> None:
    code = (
        "import sys, durableagent.contract.validate, durableagent.contract.limits;"
        "bad = [m for m in sys.modules if m.startswith(('azure.functions', 'agent_framework'))];"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_problems_import_stays_light() -> None:
    code = "import sys, durableagent.contract.problems; assert 'openapi_core' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize(
    "module", sorted((ROOT / "src/durableagent/contract").glob("*.py")), ids=lambda p: p.name
)
def test_contract_modules_are_small_and_say_why(module: Path) -> None:
    text = module.read_text()
    assert len(text.splitlines()) < 250
    assert text.startswith(('"""', 'r"""'))  # a raw docstring when it shows regex escapes (D301)
