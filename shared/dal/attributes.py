"""PynamoDB attributes that keep money exact: Decimal in, Decimal out, never float."""

from __future__ import annotations

import json
import zlib
from decimal import Decimal
from typing import Any

from pynamodb.attributes import Attribute
from pynamodb.constants import BINARY, NUMBER, STRING


class DecimalAttribute(Attribute[Decimal]):
    """A DynamoDB number read and written as ``Decimal`` from its exact string form."""

    attr_type = NUMBER

    def serialize(self, value: Decimal) -> str:
        if not isinstance(value, Decimal):
            raise TypeError(f"DecimalAttribute takes Decimal, got {type(value).__name__}")
        return format(value, "f")

    def deserialize(self, value: str) -> Decimal:
        return Decimal(value)


def _encode(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


class ExactJSONAttribute(Attribute[Any]):
    """Nested data stored as canonical JSON text; Decimals become exact strings, floats are refused.

    Canonical (sorted keys, no spaces) so that rewriting the same figures stores byte-identical items.
    """

    attr_type = STRING

    def serialize(self, value: Any) -> str:
        return json.dumps(value, default=_encode, sort_keys=True, separators=(",", ":"), allow_nan=False)

    def deserialize(self, value: str) -> Any:
        return json.loads(value)


class CompressedJSONAttribute(Attribute[Any]):
    """Canonical exact JSON, zlib-compressed into a binary attribute.

    For items that carry one entry per agent (the per-day rollup): compression keeps a day of thousands of agents
    well inside DynamoDB's 400 KB item limit and cuts the bytes (and read units) the API reads. Deterministic
    (canonical text, fixed level), so rewriting the same figures still stores byte-identical items.
    """

    attr_type = BINARY

    def serialize(self, value: Any) -> bytes:
        text = json.dumps(value, default=_encode, sort_keys=True, separators=(",", ":"), allow_nan=False)
        return zlib.compress(text.encode(), level=6)

    def deserialize(self, value: bytes) -> Any:
        return json.loads(zlib.decompress(value))
