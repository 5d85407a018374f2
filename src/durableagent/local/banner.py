"""The startup listing, in the spirit of ``func start``: every function, its URL, and what is skipped.

Why: a developer should see at a glance which URLs exist, what the timer, queue and blob listeners
run (extensions add their lines through ``HostContext.banner_lines``), and which triggers the local
host will not run (MCP, Service Bus, ...) instead of discovering it by a silent no-op.
"""

from __future__ import annotations

from durableagent.local.bindings_support import lookup
from durableagent.local.host_context import HostContext
from durableagent.local.keys import HOST_DEFAULT, MASTER


def render(ctx: HostContext, *, require_keys: bool) -> str:
    """The startup listing: functions and URLs, what is not run and why, errors, and generated keys."""
    index = ctx.index
    base = ctx.public_base_url
    prefix = ctx.settings.route_prefix
    lines = [
        f"durableagent local host: {index.script_path} (task hub {ctx.hub_name}, store {ctx.store.location})",
        "",
    ]
    lines.append("Functions:")
    lines.append("")
    for fn in index.http:
        methods = ",".join(fn.methods) if fn.methods else "*"
        route = fn.route.strip("/")
        url = f"{base}/{prefix}/{route}" if prefix else f"{base}/{route}"
        auth = f" (auth: {fn.auth_level})" if require_keys else ""
        lines.append(f"\t{fn.name}: [{methods}] {url}{auth}")
        lines.append("")
    skipped: list[str] = [f"\t{s.name}: {s.trigger_type}" for s in index.skipped]
    for label, trigger, group in (
        ("entityTrigger", "entityTrigger", index.entities),
        ("orchestrationTrigger", "orchestrationTrigger", index.orchestrators),
        ("activityTrigger", "activityTrigger", index.activities),
    ):
        for durable in group.values():
            line = f"\t{durable.name}: {label}" + (
                f" ({durable.durable_name})" if durable.durable_name != durable.name else ""
            )
            if trigger in ctx.served_triggers:
                lines.append(line)
            else:
                skipped.append(f"{line} (no {trigger.replace('Trigger', '')} engine installed)")
    if index.entities or index.orchestrators or index.activities:
        lines.append("")
    for listener in index.listeners:
        if listener.trigger_type not in ctx.served_triggers:
            skipped.append(f"\t{listener.name}: {listener.trigger_type} (no engine for it installed)")
    for extension_lines in ctx.banner_lines:
        lines.extend(extension_lines())
    if skipped:
        lines.append("Not run by the local host:")
        lines.extend(skipped)
        lines.append("")
    for item in index.unsupported:
        what = lookup(item.type).what
        lines.append(
            f"Warning: {item.function}: binding {item.binding!r} ({item.type}, {item.direction}; {what})"
            " is not run by the local host; invoking the function answers 501"
        )
    for error in index.errors:
        lines.append(f"Error: the '{error.name}' function is in error: {error.message}")
    lines.append(f"Durable webhooks: {base}/runtime/webhooks/durabletask/ (system key required)")
    if require_keys and {MASTER, HOST_DEFAULT} & set(ctx.keys.generated):
        lines.append("Generated keys (stored in the store; pass as x-functions-key or ?code=):")
        if MASTER in ctx.keys.generated:
            lines.append(f"\tmaster: {ctx.keys.master}")
        if HOST_DEFAULT in ctx.keys.generated:
            lines.append(f"\thost (default): {ctx.keys.host['default']}")
    return "\n".join(lines)
