"""Usage buckets: every instrumentation's usage keys folded into five priced buckets.

Langfuse stores ``usageDetails`` verbatim, with provider-specific keys (``input_cached_tokens``,
``cache_read_input_tokens``, ``thoughtsTokenCount`` …). Each key maps to one bucket; ``total`` is kept to
detect double counting; unknown keys are kept apart, counted and flagged, never priced by guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum
from functools import lru_cache
from typing import Any


class Bucket(IntEnum):
    """The five priced buckets; the value is the index into token tuples."""

    INPUT = 0
    CACHED_READ = 1
    CACHE_WRITE = 2
    OUTPUT = 3
    REASONING = 4

    @property
    def field_name(self) -> str:
        return BUCKET_FIELDS[self]

    @property
    def is_input_side(self) -> bool:
        return self in (Bucket.INPUT, Bucket.CACHED_READ, Bucket.CACHE_WRITE)


BUCKETS: tuple[Bucket, ...] = tuple(Bucket)
BUCKET_FIELDS = {
    Bucket.INPUT: "input",
    Bucket.CACHED_READ: "cachedRead",
    Bucket.CACHE_WRITE: "cacheWrite",
    Bucket.OUTPUT: "output",
    Bucket.REASONING: "reasoning",
}

# Alias sets from Langfuse's default price list (every key one price is listed under) and its usage mappers.
KEY_ALIASES: Mapping[str, Bucket] = {
    **dict.fromkeys(
        (
            "input",
            "input_tokens",
            "prompt_tokens",
            "prompt_token_count",
            "promptTokenCount",
            "input_text",
            "input_text_tokens",
            "input_modality_1",
        ),
        Bucket.INPUT,
    ),
    **dict.fromkeys(
        (
            "input_cached_tokens",
            "input_cache_read",
            "input_cached_text_tokens",
            "cache_read_input_tokens",
            "cache_read_tokens",
            "cached_content_token_count",
            "cachedContentTokenCount",
            "cached_tokens",
        ),
        Bucket.CACHED_READ,
    ),
    **dict.fromkeys(
        (
            "cache_creation_input_tokens",
            "input_cache_creation",
            "input_cache_creation_5m",
            "input_cache_creation_1h",
            "input_cache_write",
            "cache_write_tokens",
            "cache_write_input_tokens",
        ),
        Bucket.CACHE_WRITE,
    ),
    **dict.fromkeys(
        (
            "output",
            "output_tokens",
            "completion_tokens",
            "candidates_token_count",
            "candidatesTokenCount",
            "output_text",
            "output_text_tokens",
            "output_modality_1",
        ),
        Bucket.OUTPUT,
    ),
    **dict.fromkeys(
        (
            "output_reasoning_tokens",
            "output_reasoning",
            "reasoning_tokens",
            "thoughtsTokenCount",
            "thoughts_token_count",
        ),
        Bucket.REASONING,
    ),
}
TOTAL_KEYS = frozenset({"total", "total_tokens", "totalTokenCount", "total_token_count"})
# OpenAI-shaped nested details: the parent count *includes* these, so they are subtracted from it.
NESTED_DETAILS: Mapping[str, tuple[Bucket, Mapping[str, Bucket]]] = {
    "prompt_tokens_details": (Bucket.INPUT, {"cached_tokens": Bucket.CACHED_READ}),
    "input_tokens_details": (Bucket.INPUT, {"cached_tokens": Bucket.CACHED_READ}),
    "completion_tokens_details": (Bucket.OUTPUT, {"reasoning_tokens": Bucket.REASONING}),
    "output_tokens_details": (Bucket.OUTPUT, {"reasoning_tokens": Bucket.REASONING}),
}
# One call above this many tokens in one key is not believable; the row is rejected with a reason.
ABSURD_TOKENS = 100_000_000
# Buckets may exceed the reported total by this share before we call it a double count (Langfuse's heuristic).
DOUBLE_COUNT_TOLERANCE = 0.01

TOTAL = -1
UNKNOWN = -2


class UsageError(ValueError):
    """A usage map that cannot be counted; ``reason`` is a short stable code for metrics and logs."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


@dataclass(frozen=True)
class TokenCounts:
    input: int = 0
    cached_read: int = 0
    cache_write: int = 0
    output: int = 0
    reasoning: int = 0

    @classmethod
    def of(cls, values: tuple[int, int, int, int, int] | list[int]) -> TokenCounts:
        return cls(values[0], values[1], values[2], values[3], values[4])

    def as_tuple(self) -> tuple[int, int, int, int, int]:
        return (self.input, self.cached_read, self.cache_write, self.output, self.reasoning)

    def get(self, bucket: Bucket) -> int:
        return self.as_tuple()[bucket]

    def __add__(self, other: TokenCounts) -> TokenCounts:
        return TokenCounts.of([a + b for a, b in zip(self.as_tuple(), other.as_tuple(), strict=True)])

    @property
    def input_side(self) -> int:
        """All prompt-side tokens: uncached input, cache reads and cache writes."""
        return self.input + self.cached_read + self.cache_write

    @property
    def output_side(self) -> int:
        """All completion-side tokens: visible output and reasoning."""
        return self.output + self.reasoning

    @property
    def total(self) -> int:
        return self.input_side + self.output_side


@dataclass(frozen=True)
class NormalizedUsage:
    tokens: TokenCounts
    reported_total: int | None
    unknown: tuple[tuple[str, int], ...] = ()

    @property
    def unknown_tokens(self) -> int:
        return sum(count for _, count in self.unknown)

    @property
    def likely_double_count(self) -> bool:
        """Buckets adding up to more than the reported total (+1 %): the source probably counted twice."""
        return exceeds_total(self.tokens.total, self.reported_total)


@lru_cache(maxsize=4096)
def key_plan(keys: tuple[str, ...]) -> tuple[int, ...]:
    """Bucket index (or TOTAL / UNKNOWN) for each key; cached because a source sends few distinct key sets."""
    return tuple(
        TOTAL if key in TOTAL_KEYS else int(KEY_ALIASES[key]) if key in KEY_ALIASES else UNKNOWN for key in keys
    )


def token_count(key: str, value: Any) -> int:
    """A token count must be a non-negative integer (integral floats and digit strings are accepted)."""
    if type(value) is int:
        count = value
    elif isinstance(value, float) and value.is_integer():
        count = int(value)
    elif isinstance(value, str) and value.strip().isdigit():
        count = int(value.strip())
    else:
        raise UsageError("non_integer_tokens", f"{key}={value!r}")
    if count < 0:
        raise UsageError("negative_tokens", f"{key}={count}")
    if count > ABSURD_TOKENS:
        raise UsageError("absurd_tokens", f"{key}={count}")
    return count


def fold_usage(details: Any) -> tuple[list[int], int | None, list[tuple[str, int]]]:
    """The fast core of ``normalize_usage``: bucket counts, reported total, unknown keys. Raises ``UsageError``."""
    if not details:
        raise UsageError("missing_usage", "no usage details")
    if not isinstance(details, Mapping):
        raise UsageError("malformed_usage", f"usage is a {type(details).__name__}")
    counts = [0, 0, 0, 0, 0]
    total: int | None = None
    unknown: list[tuple[str, int]] = []
    nested: list[tuple[str, Mapping[str, Any]]] = []
    keys = tuple(details)
    for key, slot in zip(keys, key_plan(keys), strict=True):
        value = details[key]
        if type(value) is int and 0 <= value <= ABSURD_TOKENS:
            count = value  # the common case, checked inline for speed
        elif value is None:
            continue
        elif slot == UNKNOWN and key in NESTED_DETAILS and isinstance(value, Mapping):
            nested.append((key, value))
            continue
        else:
            count = token_count(key, value)
        if slot >= 0:
            counts[slot] += count
        elif slot == TOTAL:
            total = count if total is None else max(total, count)
        elif count:
            unknown.append((key, count))
    for key, inner in nested:
        _fold_nested(key, inner, counts, unknown)
    return counts, total, unknown


def normalize_usage(details: Mapping[str, Any] | None) -> NormalizedUsage:
    """Fold one observation's usage map into buckets. Raises ``UsageError`` for unusable input."""
    counts, total, unknown = fold_usage(details)
    return NormalizedUsage(TokenCounts.of(counts), total, tuple(unknown))


def exceeds_total(bucket_sum: int, total: int | None) -> bool:
    """Buckets adding up to more than the reported total (+1 %): the source probably counted twice."""
    return total is not None and bucket_sum > total * (1 + DOUBLE_COUNT_TOLERANCE)


def _fold_nested(key: str, inner: Mapping[str, Any], counts: list[int], unknown: list[tuple[str, int]]) -> None:
    parent, known = NESTED_DETAILS[key]
    for detail_key, value in inner.items():
        if value is None:
            continue
        count = token_count(f"{key}.{detail_key}", value)
        if not count:
            continue
        if detail_key in known:
            counts[known[detail_key]] += count
            counts[parent] -= count
        else:
            unknown.append((f"{key}.{detail_key}", count))
            counts[parent] -= count
    if counts[parent] < 0:
        raise UsageError("inconsistent_usage", f"{key} exceeds its parent count")
