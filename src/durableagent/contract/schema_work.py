"""How much work a response schema can cause: its size with every local `$ref` expanded.

Why this module exists: counting `$ref`s does not bound the work of validating against a schema.
Thirty-one definitions whose `allOf` points twice at the next one are 63 `$ref`s and about 2 KB,
yet expand to 2^31 subschemas, and a validator walks the expansion (jsonschema follows each `$ref`
anew). The expansion is a DAG over the refs (`limits._check_refs` has already refused cycles), so
its size is computed exactly in time linear in the schema: `expanded(ref) = nodes(target) +
sum(expanded(r) for r inside target)`.

Invariant: the count saturates just above `limit`, so arithmetic stays small whatever the schema.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["count_nodes", "expanded_size"]

Path = Sequence[str | int]


def count_nodes(node: Any) -> int:
    """The JSON objects and arrays in `node` (each a unit of validation work), `$ref`s unexpanded."""
    count = 0
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            count += 1
            stack.extend(v for v in current.values() if isinstance(v, dict | list))
        elif isinstance(current, list):
            count += 1
            stack.extend(v for v in current if isinstance(v, dict | list))
    return count


def _at(schema: Any, path: Path) -> Any:
    node = schema
    for token in path:
        node = node[token]
    return node


def expanded_size(
    schema: dict[str, Any], ref_locations: Sequence[Path], targets: Sequence[Path], limit: int
) -> int:
    """Objects and arrays of `schema` with each `$ref` (at `ref_locations`, to `targets`) expanded.

    Conservative: `$defs` count whether or not they are used. Returns at most `limit + 1`.
    """
    inside = [[j for j, loc in enumerate(ref_locations) if list(loc[: len(t)]) == list(t)] for t in targets]
    memo: dict[int, int] = {}

    def expanded(i: int) -> int:
        if i not in memo:  # depth ≤ the number of refs (acyclic), a few dozen frames
            total = count_nodes(_at(schema, targets[i]))
            for j in inside[i]:
                total = min(total + expanded(j), limit + 1)
            memo[i] = total
        return memo[i]

    total = count_nodes(schema)
    for i in range(len(targets)):
        total = min(total + expanded(i), limit + 1)
    return total
