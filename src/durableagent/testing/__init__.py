"""Test helpers shipped with durableagent: the offline model and the local host fixture."""
