"""Garbage-collector settings for a host process that serves requests (``durableagent serve``).

Why: CPython's cyclic collector runs a young-generation pass every 700 net container allocations,
and every older-generation pass walks everything that survived, including all that was imported at
startup (Agent Framework, pydantic models, the SDKs): about 0.3 ms of collector time per turn on
the bench. After the app is loaded the host collects once and freezes what survived
(``gc.freeze``): startup objects are no longer scanned, and collector time per turn drops to about
0.02 ms. The thresholds stay CPython's: raising the young threshold to 20,000 as well saved little more
and the 5-minute soak's RSS then grew by 23.8 MiB instead of 8.6 MiB (cyclic garbage waited longer).

Only for a process the host owns: an in-process test host leaves the test runner's collector alone.
``DURABLEAGENT_GC_TUNING=0`` keeps CPython's defaults (no freeze).
"""

from __future__ import annotations

import gc
import os

TUNING_ENV = "DURABLEAGENT_GC_TUNING"


def enabled() -> bool:
    """Whether to freeze startup objects (unless ``DURABLEAGENT_GC_TUNING`` is 0/false/no/off)."""
    return os.environ.get(TUNING_ENV, "1").strip().lower() not in ("0", "false", "no", "off")


def settle() -> None:
    """Collect, then freeze the survivors so later passes skip them."""
    gc.collect()
    gc.freeze()
