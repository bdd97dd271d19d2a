"""Money is ``Decimal`` end to end. Sums and products here are exact; rounding happens only for display."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext
from functools import reduce

ZERO = Decimal(0)
PER_THOUSAND = Decimal(1000)
# Wide enough that token × price products and sums over millions of rows never round.
EXACT = Context(prec=60)


def to_decimal(value: object, what: str = "amount") -> Decimal:
    """Parse a decimal from a string or int; floats are refused (they carry binary noise)."""
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int) and not isinstance(value, bool):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except ArithmeticError as exc:
            raise ValueError(f"{what} is not a decimal number: {value!r}") from exc
    else:
        raise ValueError(f"{what} must be a decimal string, got {type(value).__name__}")
    if not result.is_finite():
        raise ValueError(f"{what} must be finite, got {value!r}")
    return result


def exact_sum(values: Iterable[Decimal]) -> Decimal:
    """A sum that never rounds (60 significant digits, far beyond any total of token costs)."""
    return reduce(EXACT.add, values, ZERO)


def per_thousand_cost(tokens: int, price_per_1k: Decimal) -> Decimal:
    """Exact cost of ``tokens`` at a per-1k price (shifting the exponent divides by 1,000 exactly)."""
    return EXACT.multiply(Decimal(tokens), price_per_1k).scaleb(-3, EXACT)


def normalized(value: Decimal) -> Decimal:
    """Drop trailing zeros without changing the value (``1.2300`` → ``1.23``, ``0E-8`` → ``0``)."""
    if value == 0:
        return ZERO
    with localcontext(EXACT):
        result = value.normalize()
    # normalize() turns 100 into 1E+2; keep a plain exponent >= 0 for integers.
    return result.quantize(Decimal(1)) if result.as_tuple().exponent > 0 else result  # type: ignore[operator]


def rounded(value: Decimal, places: int) -> Decimal:
    """Round half-up to ``places`` decimals (display only)."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def as_text(value: Decimal) -> str:
    """The exact decimal as a plain string, never in exponent form."""
    return format(normalized(value), "f")
