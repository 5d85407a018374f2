"""Schemathesis fuzzes every operation of openapi.yaml against the sample app over real HTTP.

Why: the contract is only worth something if the running app keeps it. The sample (WeatherAgent,
MathAgent on the offline model) is served by the local host on a free loopback port, and the
Schemathesis CLI runs every check in every phase (examples, coverage, fuzzing, and stateful
through the spec's links: runAgent -> getConversation / getTurn / resetConversation) with the
fixed seed and budget of tests/contract/schemathesis.toml. Any failure, error or setup warning
fails the test, and so does a link of the spec that the stateful phase never followed. The number
of requests sent (counted in the HAR report) is printed and must be at least 1,000. Reports are
copied to artifacts/schemathesis/ (gitignored).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from durableagent.testing.host import LocalHost

pytestmark = pytest.mark.integration  # starts the local host (``contract`` comes from the directory)

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples" / "weather"
CONFIG = ROOT / "tests" / "contract" / "schemathesis.toml"
SPEC = ROOT / "openapi.yaml"
ARTIFACTS = ROOT / "artifacts" / "schemathesis"
PHASES = ("examples", "coverage", "fuzzing", "stateful")
MIN_REQUESTS = 1000


def _run_schemathesis(url: str, reports: Path, events: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "SCHEMATHESIS_TELEMETRY": "false",
        "SCHEMATHESIS_DROPPED_LOG": str(reports / "dropped-failures.txt"),
        "NO_COLOR": "1",
        "COLUMNS": "160",
    }
    args = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(CONFIG),
        "run",
        url,
        "--checks",
        "all",
        "--phases",
        ",".join(PHASES),
        "--workers",
        "1",
        "--no-color",
        "--report",
        "junit,json,har,ndjson",
        "--report-dir",
        str(reports),
        "--report-json-path",
        str(reports / "report.json"),
        "--report-har-path",
        str(reports / "requests.har.json"),
        "--report-junit-path",
        str(reports / "junit.xml"),
        "--report-ndjson-path",
        str(events),
    ]
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)


def _spec_links() -> list[str]:
    """Every link of openapi.yaml, named as Schemathesis names it (``SOURCE -> [STATUS] NAME -> TARGET``)."""
    spec = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    operations = {
        op["operationId"]: f"{method.upper()} {path}"
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if isinstance(op, dict) and "operationId" in op
    }
    return [
        f"{method.upper()} {path} -> [{status}] {name} -> {operations[link['operationId']]}"
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if isinstance(op, dict)
        for status, response in op.get("responses", {}).items()
        for name, link in response.get("links", {}).items()
    ]


def _links_followed(events: Path) -> dict[str, int]:
    """How often each link was applied in the stateful phase (from the NDJSON event stream)."""
    followed: dict[str, int] = {}
    with events.open(encoding="utf-8") as stream:
        for line in stream:
            finished = json.loads(line).get("ScenarioFinished")
            for case in (finished or {}).get("recorder", {}).get("cases", {}).values():
                transition = case.get("transition")
                if transition and case.get("is_transition_applied") and not transition.get("is_inferred"):
                    followed[transition["id"]] = followed.get(transition["id"], 0) + 1
    return followed


# Ten operations, two of them streamed turns: past the suite's 300 s on a loaded 2-core VM (the CLI's
# own timeout, 600 s, still bounds it).
@pytest.mark.timeout(700)
def test_schemathesis_finds_no_failure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    reports = tmp_path / "reports"
    reports.mkdir()
    with LocalHost(SAMPLE, store=tmp_path / "store.sqlite") as host:
        result = _run_schemathesis(host.url("/api/openapi.json"), reports, tmp_path / "events.ndjson")
    output = result.stdout + result.stderr
    (reports / "output.txt").write_text(output, encoding="utf-8")
    # Kept for humans and CI (gitignored); the test itself only reads its own scratch copy.
    shutil.copytree(reports, ARTIFACTS, dirs_exist_ok=True)
    report = json.loads((reports / "report.json").read_text(encoding="utf-8"))
    har = json.loads((reports / "requests.har.json").read_text(encoding="utf-8"))
    requests = len(har["log"]["entries"])
    followed = _links_followed(tmp_path / "events.ndjson")
    dropped_log = reports / "dropped-failures.txt"
    dropped = dropped_log.read_text(encoding="utf-8").splitlines() if dropped_log.exists() else []
    summary = (
        f"schemathesis: {requests} requests ({report['test_cases']['generated']} test cases), "
        f"seed {report['seed']}, {report['running_time']:.1f} s, phases "
        + ", ".join(f"{name}={data['status']}" for name, data in report["phases"].items())
        + "; links followed: "
        + ", ".join(f"{k.split(' -> ')[1]} x{v}" for k, v in sorted(followed.items()))
        + f"; failures dropped by filter_failure: {report['filtered']}"
        + "".join(f"\n  dropped (encoded-path false positive): {d}" for d in dropped)
    )
    with capsys.disabled():
        print("\n" + summary)
    lines = output.splitlines()
    first = next((i for i, line in enumerate(lines) if "FAILURES" in line or "ERRORS" in line), None)
    tail = "\n".join(lines[first : first + 80] if first is not None else lines[-60:])
    assert result.returncode == 0, f"{summary}\n{tail}"
    assert report["failures"] == [], f"{summary}\n{tail}"
    assert report["errors"] == [], f"{summary}\n{tail}"
    assert report["test_cases"]["with_failures"] == 0
    assert all(report["phases"][phase]["status"] == "success" for phase in PHASES), summary
    assert report["operations"]["tested"] == report["operations"]["total"], summary

    # A link counts as followed when the stateful phase applied it from any response status of its
    # operation: runAgent's 200 and 202 both carry the same six links (same parameter expressions),
    # and with a fixed seed and budget not every (status, link) pair comes up.
    def named(link: str) -> str:
        return re.sub(r"\[\d{3}\] ", "", link)

    missing = sorted({named(link) for link in _spec_links()} - {named(link) for link in followed})
    assert missing == [], f"OpenAPI links never followed: {missing}\n{summary}"
    assert len(dropped) == report["filtered"], "a failure was dropped by something other than filter_failure"
    assert requests >= MIN_REQUESTS, summary
