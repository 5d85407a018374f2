"""The HTTP contract: openapi.yaml loading, request validation, input limits and the Problem tree.

Nothing here imports azure.functions or agent_framework, and this package imports nothing on its
own: `problems` (needed by every layer) stays cheap, while `validate` pulls in openapi-core.

* `spec`        the shipped openapi.yaml as dict / JSON / YAML (servers rewritten per route prefix)
* `problems`    the RFC 9457 Problem tree and its one renderer
* `jsonbody`    strict JSON parsing (duplicates, NaN, depth, huge integers, lone surrogates)
* `limits`      size/depth/`$ref` bounds checked before schema validation
* `validate`    `ContractValidator`: compiled once, openapi-core validators as the authority
* `routing`, `schemas`, `errors`, `metaschema`: its parts; `reference`: plain openapi-core (tests)
"""
