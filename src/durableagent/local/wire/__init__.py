"""Wire formats of the Durable Functions extension, as the local host speaks them.

Shared by the embedded host and the tests; nothing here imports the app or its entities. On
Azure the real Functions host and Durable extension write and read these documents; no app code
needs them.
"""
