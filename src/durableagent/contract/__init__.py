"""The HTTP contract: openapi.yaml loading, request validation, input limits and the Problem tree.

Nothing here imports azure.functions or agent_framework, and this package imports nothing on its
own: `problems` (needed by every layer) stays cheap, while `validate` pulls in openapi-core.

* `spec`        the shipped openapi.yaml as dict / JSON / YAML (servers rewritten per route prefix)
* `problems`    the RFC 9457 Problem tree and its one renderer
* `request_body` a body: strict JSON (duplicates, NaN, depth, huge integers, lone surrogates),
                bounds, its generated model, the fast accept or openapi-core's verdict
* `limits`      size/depth/`$ref` bounds checked before schema validation
* `validate`    `ContractValidator`: compiled once; hands routes a `ValidatedRequest` (`validated`)
* `fast_checks` the fast accept path (jsonschema-rs, compiled once per schema of the spec)
* `authority`   openapi-core's validators: they decide whatever the fast path does not accept
* `routing` (with each body's generated model), `refs`, `errors`, `metaschema`: its parts; `reference`: plain
  openapi-core (tests and the benchmark)
"""
