"""Usage normalization: every alias set, nested OpenAI details, double counts and bad input."""

from __future__ import annotations

import pytest

from shared.domain.usage import KEY_ALIASES, Bucket, TokenCounts, UsageError, normalize_usage


@pytest.mark.parametrize(("key", "bucket"), sorted(KEY_ALIASES.items()))
def test_every_alias_lands_in_its_bucket(key: str, bucket: Bucket) -> None:
    usage = normalize_usage({key: 7})
    assert usage.tokens.get(bucket) == 7
    assert usage.tokens.total == 7


@pytest.mark.parametrize(
    ("details", "expected"),
    [
        # Anthropic style: input is uncached; cache read and write have their own keys.
        (
            {"input": 25, "cache_read_input_tokens": 18000, "cache_creation_input_tokens": 1500, "output": 900},
            TokenCounts(25, 18000, 1500, 900, 0),
        ),
        # OpenAI as stored by Langfuse: input excludes cached tokens.
        ({"input": 1200, "input_cached_tokens": 800, "output": 350, "total": 2350}, TokenCounts(1200, 800, 0, 350, 0)),
        # Reasoning tokens (o-series) and Gemini thoughts.
        ({"input": 3000, "output": 500, "output_reasoning_tokens": 2000}, TokenCounts(3000, 0, 0, 500, 2000)),
        (
            {"promptTokenCount": 10, "candidatesTokenCount": 5, "thoughtsTokenCount": 40, "cachedContentTokenCount": 3},
            TokenCounts(10, 3, 0, 5, 40),
        ),
        # Raw OpenAI usage with nested details: the parent count includes the details, so they are subtracted.
        (
            {
                "prompt_tokens": 1957,
                "completion_tokens": 80,
                "total_tokens": 2037,
                "prompt_tokens_details": {"cached_tokens": 900},
                "completion_tokens_details": {"reasoning_tokens": 30},
            },
            TokenCounts(1057, 900, 0, 50, 30),
        ),
    ],
)
def test_instrumentation_shapes_fold_into_buckets(details: dict[str, object], expected: TokenCounts) -> None:
    assert normalize_usage(details).tokens == expected


def test_total_is_kept_apart_and_never_priced_as_a_bucket() -> None:
    usage = normalize_usage({"input": 10, "output": 5, "total": 15})
    assert usage.tokens.total == 15
    assert usage.reported_total == 15
    assert not usage.likely_double_count


def test_inclusive_input_plus_cache_keys_is_flagged_as_double_count() -> None:
    # Given an instrumentation that sends an input count that already includes the cache read
    usage = normalize_usage({"input": 10000, "cache_read_input_tokens": 9000, "output": 100, "total": 10100})
    # Then nothing is changed, but the row is flagged
    assert usage.tokens == TokenCounts(10000, 9000, 0, 100, 0)
    assert usage.likely_double_count


def test_buckets_within_one_percent_of_total_are_not_flagged() -> None:
    assert not normalize_usage({"input": 1005, "output": 0, "total": 1000}).likely_double_count
    assert normalize_usage({"input": 1011, "output": 0, "total": 1000}).likely_double_count


def test_unknown_keys_are_kept_and_counted_not_priced() -> None:
    usage = normalize_usage({"input": 10, "input_audio_tokens": 40, "output": 1, "web_search_queries": 2})
    assert usage.tokens == TokenCounts(10, 0, 0, 1, 0)
    assert dict(usage.unknown) == {"input_audio_tokens": 40, "web_search_queries": 2}
    assert usage.unknown_tokens == 42


def test_integer_strings_and_integral_floats_are_accepted() -> None:
    assert normalize_usage({"input": "12", "output": 3.0}).tokens == TokenCounts(12, 0, 0, 3, 0)


@pytest.mark.parametrize(
    ("details", "reason"),
    [
        (None, "missing_usage"),
        ({}, "missing_usage"),
        ("input=3", "malformed_usage"),
        ({"input": -7}, "negative_tokens"),
        ({"input": 1.5}, "non_integer_tokens"),
        ({"input": "many"}, "non_integer_tokens"),
        ({"input": True}, "non_integer_tokens"),
        ({"output": 10**12}, "absurd_tokens"),
        ({"prompt_tokens": 5, "prompt_tokens_details": {"cached_tokens": 9}}, "inconsistent_usage"),
    ],
)
def test_bad_usage_is_rejected_with_a_reason(details: object, reason: str) -> None:
    with pytest.raises(UsageError) as caught:
        normalize_usage(details)  # type: ignore[arg-type]
    assert caught.value.reason == reason
