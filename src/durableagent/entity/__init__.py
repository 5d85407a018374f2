"""Session entity logic: turns, state, history. Runs the same under Azure, the local host and unit tests.

Nothing here imports azure.functions; the Durable entity context is adapted in ``durableagent.app``.
"""
