"""Garbage-collector settings for a host process that serves requests (``durableagent serve``).

Why: CPython's cyclic collector runs a young-generation pass every 700 net container allocations,
and an agent turn allocates thousands of short-lived containers (messages, contents, dicts), most
freed by reference counting anyway. Every full pass also walks everything imported at startup
(Agent Framework, pydantic models, the SDKs): about 0.3 ms of collector time per turn on the bench.
After the app is loaded the host collects once, freezes what survived (``gc.freeze``: startup
objects are no longer scanned), and raises the young-generation threshold. Cyclic garbage is still
collected, just in fewer, larger passes.

Only for a process the host owns: an in-process test host leaves the test runner's collector alone.
``DURABLEAGENT_GC_TUNING=0`` keeps CPython's defaults.
"""

from __future__ import annotations

import gc
import os

TUNING_ENV = "DURABLEAGENT_GC_TUNING"
YOUNG_THRESHOLD = 20_000


def enabled() -> bool:
    return os.environ.get(TUNING_ENV, "1").strip().lower() not in ("0", "false", "no", "off")


def settle() -> None:
    """Collect, freeze the survivors, and make young-generation passes rarer (idempotent)."""
    gc.collect()
    gc.freeze()
    young, middle, old = gc.get_threshold()
    if young:  # 0 means the app disabled automatic collection: leave that choice alone
        gc.set_threshold(max(young, YOUNG_THRESHOLD), middle, old)
