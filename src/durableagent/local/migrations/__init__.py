"""Numbered SQL migrations of the local host's SQLite store (``NNNN_name.sql``, applied in order).

This package holds data only; ``durableagent.local.store_file`` reads the files with ``importlib.resources``.
"""
