"""``%NAME%`` references to app settings, resolved the way the WebJobs name resolver does.

Why: function apps keep names that differ per environment in app settings and refer to them as
``%NAME%``: ``host.json`` ``extensions.durableTask.hubName`` (the extension calls
``INameResolver.TryResolveWholeString`` on it, ``DurableTaskOptions.ResolveAppSettingOptions``)
and binding properties (queue names, paths, schedules, task hubs: WebJobs resolves every
``%...%`` token of an ``[AutoResolve]``/``[AppSetting]`` property and fails the function with
"'%NAME%' does not resolve to a value." when a setting is missing).

App settings are the process environment after ``local.settings.json`` ``Values`` were applied;
a hierarchical name ``A:B`` is also looked up as ``A__B`` (environment variables cannot hold ``:``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

_TOKEN = re.compile(r"%([^%]+)%")
_WHOLE = re.compile(r"^%([^%]+)%$")


class UnresolvedSetting(ValueError):
    """A ``%NAME%`` token names no app setting."""

    def __init__(self, name: str) -> None:
        """The message is WebJobs' own: ``'%NAME%' does not resolve to a value.``."""
        super().__init__(f"'%{name}%' does not resolve to a value.")
        self.name = name


def _lookup(name: str, settings: Mapping[str, str]) -> str | None:
    for candidate in (name, name.replace(":", "__")):
        if candidate in settings:
            return settings[candidate]
    return None


def app_settings() -> Mapping[str, str]:
    """The app settings: the process environment, with ``local.settings.json`` already applied."""
    return os.environ


def resolve_tokens(text: str, settings: Mapping[str, str] | None = None) -> str:
    """Replace every ``%NAME%`` in ``text``; raises :class:`UnresolvedSetting` for a missing one."""
    values = app_settings() if settings is None else settings

    def replace(match: re.Match[str]) -> str:
        value = _lookup(match.group(1), values)
        if value is None:
            raise UnresolvedSetting(match.group(1))
        return value

    return _TOKEN.sub(replace, text)


def try_resolve_whole(text: str, settings: Mapping[str, str] | None = None) -> str:
    """``TryResolveWholeString``: ``"%NAME%"`` becomes the setting's value when it exists, else unchanged."""
    match = _WHOLE.match(text)
    if match is None:
        return text
    value = _lookup(match.group(1), app_settings() if settings is None else settings)
    return text if value is None else value
