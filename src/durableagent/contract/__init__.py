"""The HTTP contract: openapi.yaml loading, request validation, input limits and the Problem tree.

Nothing here imports azure.functions or agent_framework.
"""
