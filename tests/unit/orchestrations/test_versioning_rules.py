"""Version comparison and the match/failure strategies (orchestrations/versioning.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from durableagent.local.orchestrations.versioning import check, compare, version_for_new_instance
from durableagent.local.settings import SettingsError, VersioningSettings, load_settings


@pytest.mark.parametrize(
    ("left", "right", "order"),
    [
        (None, "", 0),  # empty and absent are equal ...
        (None, "0.1", -1),  # ... and older than any defined version
        ("1.10", "1.9", 1),  # System.Version parts compare as numbers
        ("1.0", "1.0.0", -1),  # a missing part is older than 0 (System.Version)
        ("10", "9", 1),  # plain integers compare as numbers
        ("v2-beta", "V2-BETA", 0),  # anything else: case-insensitive text
        ("2025-01-02", "2025-01-10", -1),
    ],
)
def test_compare(left: str | None, right: str | None, order: int) -> None:
    assert compare(left, right) == order
    assert compare(right, left) == -order


def test_strategies() -> None:
    current = VersioningSettings("2.0")
    assert all(check(v, current).run for v in ("1.0", "2.0", None))
    rejected = check("3.0", current)
    assert not rejected.run
    assert rejected.fail_message is None
    strict = VersioningSettings("2.0", "Strict", "Fail")
    assert check("2.0", strict).run
    assert check("1.0", strict).fail_message == (
        "The orchestration version '1.0' does not match the worker version '2.0'"
        " (versionMatchStrategy Strict)."
    )
    assert check("7", VersioningSettings("2.0", "None", "Fail")).run


def test_new_instances_get_the_default_unless_one_is_given() -> None:
    assert version_for_new_instance(None, VersioningSettings("1.0")) == "1.0"
    assert version_for_new_instance("0.9", VersioningSettings("1.0")) == "0.9"
    assert version_for_new_instance(None, VersioningSettings()) is None


def test_host_json_values_are_checked(tmp_path: Path) -> None:
    host_json = tmp_path / "host.json"
    host_json.write_text('{"extensions": {"durableTask": {"versionMatchStrategy": "strict"}}}')
    assert load_settings(tmp_path).versioning.match_strategy == "Strict"  # enum names are case-insensitive
    host_json.write_text('{"extensions": {"durableTask": {"versionFailureStrategy": "Retry"}}}')
    with pytest.raises(SettingsError, match="versionFailureStrategy must be one of Reject, Fail"):
        load_settings(tmp_path)
