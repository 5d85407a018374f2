"""The generated TypeScript client (clients/typescript + openapi-fetch) drives a whole conversation.

Why: the TypeScript types are generated from openapi.yaml; ``tsc --strict`` over
tests/clients/typescript/conversation.ts proves the calls type-check against them, and running
the compiled program with Node against the sample on the local host proves the server answers
what the types promise (two turns, the conversation, Idempotency-Key, a 202 polled through
getTurn, reset, health). Needs Node and ``scripts/setup-test-tools node_clients``; skips otherwise.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from durableagent.testing.host import LocalHost

from .conftest import CLIENTS, ROOT

pytestmark = [pytest.mark.node, pytest.mark.integration]  # needs Node.js; starts the local host

NODE_MODULES = ROOT / "tools" / "node" / "node_modules"
PROGRAM = Path(__file__).resolve().parent / "typescript" / "conversation.ts"
TSCONFIG = {
    "compilerOptions": {
        "target": "es2022",
        "module": "es2022",
        "moduleResolution": "bundler",
        "strict": True,
        "noUncheckedIndexedAccess": False,
        "skipLibCheck": True,
        "types": [],
        "rootDir": ".",
        "outDir": "out",
    },
    "files": ["tests/clients/typescript/conversation.ts"],
}


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """conversation.ts compiled by tsc into a scratch tree that mirrors the repository layout."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed")
    missing = [
        p for p in ("openapi-fetch", "typescript") if not (NODE_MODULES / p / "package.json").is_file()
    ]
    if missing:
        pytest.skip(f"npm packages {missing} are missing: run scripts/setup-test-tools node_clients")
    work = tmp_path_factory.mktemp("ts")
    (work / "node_modules").symlink_to(NODE_MODULES, target_is_directory=True)
    (work / "package.json").write_text('{"type": "module", "private": true}\n')
    (work / "tsconfig.json").write_text(json.dumps(TSCONFIG, indent=2))
    for source, target in (
        (PROGRAM, "tests/clients/typescript/conversation.ts"),
        (CLIENTS / "typescript" / "schema.d.ts", "clients/typescript/schema.d.ts"),
    ):
        (work / target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, work / target)
    tsc = subprocess.run(
        [node, str(NODE_MODULES / "typescript" / "bin" / "tsc"), "-p", str(work)],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert tsc.returncode == 0, f"tsc failed:\n{tsc.stdout}{tsc.stderr}"
    return work / "out" / "tests" / "clients" / "typescript" / "conversation.js"


def test_full_conversation_with_the_generated_typescript_client(
    compiled: Path, sample_host: LocalHost
) -> None:
    session = "ts-" + uuid.uuid4().hex
    node = shutil.which("node")
    assert node is not None
    result = subprocess.run(
        [node, str(compiled), sample_host.url("/api"), session],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"the TypeScript program failed:\n{result.stdout}{result.stderr}"
    lines = result.stdout.strip().splitlines()
    assert lines[-1] == "ok", result.stdout
    steps = [json.loads(line)["step"] for line in lines[:-1]]
    assert steps == ["health", "two turns", "conversation", "idempotency", "202 then 200", "reset"]
