"""The durability battery: the pytest battery (``tests/battery/test_*.py``) and the long runs
(``scripts/battery``, ``python -m tests.battery.run``) share one set of machinery, so both check
the same invariants in the same way:

* ``hosts``: the battery's apps, agent and crash points, a host on them, store health checks;
* ``turns``: clients that send turns with unique markers and ``Idempotency-Key``s and retry them
  until acknowledged;
* ``checks``: the conversation as ``GET`` shows it, the in-host probes, tool side effects;
* ``kills``: SIGKILL at random moments and at the named crash points;
* ``soaking``: the soak run; ``concurrent_runs``: many runs on one session at once.

A turn is *acknowledged* when its ``POST /run`` answered 200, or 202 and its ``Location`` later
answered 200. Until then the client repeats the same request with the same key, across kills.
"""
