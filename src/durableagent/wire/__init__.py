"""Wire formats of the Durable Functions extension, and the in-process commit feed.

Shared by the embedded local host and the tests; nothing here imports the app or its entities.
"""
