"""PynamoDB attributes that keep money exact: Decimal in, Decimal out, never float."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from pynamodb.attributes import Attribute
from pynamodb.constants import NUMBER, STRING


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
