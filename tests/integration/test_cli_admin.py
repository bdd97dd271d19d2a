"""The admin CLI (pricing, agents, reprice, run) against moto: exact output, clear errors, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shared.cli.main import main
from shared.config import Settings


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_pricing_set_then_list_as_json(aws: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, _ = cli(
        capsys,
        "pricing",
        "set",
        "--provider",
        "openai",
        "--model",
        "gpt-4o",
        "--input-per-1k",
        "0.0025",
        "--output-per-1k",
        "0.01",
        "--cached-read-per-1k",
        "0.00125",
        "--effective-from",
        "2026-03-01",
    )
    assert code == 0
    code, out, _ = cli(capsys, "--json", "pricing", "list")
    rows = json.loads(out)
    assert rows == [
        {
            "provider": "openai",
            "model": "gpt-4o",
            "matchPattern": "(?i)^(?:openai/)?gpt\\-4o$",
            "inputPer1kUsd": "0.0025",
            "outputPer1kUsd": "0.01",
            "cachedReadPer1kUsd": "0.00125",
            "cacheWritePer1kUsd": None,
            "reasoningPer1kUsd": None,
            "effectiveFrom": "2026-03-01T00:00:00Z",
            "tiers": [],
        }
    ]


def test_pricing_import_file_and_its_errors(aws: Settings, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    good = tmp_path / "prices.json"
    good.write_text(
        json.dumps(
            [
                {
                    "provider": "anthropic",
                    "model": "claude-sonnet-4-5",
                    "matchPattern": None,
                    "inputPer1kUsd": "0.003",
                    "outputPer1kUsd": "0.015",
                },
                {
                    "provider": "anthropic",
                    "model": "claude-sonnet-4-5",
                    "matchPattern": None,
                    "inputPer1kUsd": "0.0025",
                    "outputPer1kUsd": "0.0125",
                    "effectiveFrom": "2026-06-01T00:00:00Z",
                },
            ]
        )
    )
    assert cli(capsys, "pricing", "import", str(good))[0] == 0
    code, out, _ = cli(capsys, "pricing", "list", "--json")
    assert [row["effectiveFrom"] for row in json.loads(out)] == ["1970-01-01T00:00:00Z", "2026-06-01T00:00:00Z"]

    # A JSON number is read exactly (never through float), so 0.1 stays 0.1.
    numbers = tmp_path / "numbers.json"
    numbers.write_text('[{"provider": "x", "model": "y", "inputPer1kUsd": 0.1, "outputPer1kUsd": 1E-7}]')
    assert cli(capsys, "pricing", "import", str(numbers))[0] == 0
    code, out, _ = cli(capsys, "pricing", "list", "--json")
    (row,) = [r for r in json.loads(out) if r["provider"] == "x"]
    assert (row["inputPer1kUsd"], row["outputPer1kUsd"]) == ("0.1", "0.0000001")

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"provider": "x", "model": "y", "inputPer1kUsd": "ten", "outputPer1kUsd": "1"}]))
    code, _, err = cli(capsys, "pricing", "import", str(bad))
    assert code == 2
    assert "row 1" in err and "inputPer1kUsd" in err
    bad.write_text(json.dumps([{"provider": "x", "model": "y", "inputPer1kUsd": "-1", "outputPer1kUsd": "1"}]))
    code, _, err = cli(capsys, "pricing", "import", str(bad))
    assert code == 2 and "must not be negative" in err
    code, _, err = cli(capsys, "pricing", "import", str(tmp_path / "missing.json"))
    assert code == 2 and "cannot read" in err
    assert cli(capsys, "pricing", "import", "--catalogue", "nope")[0] == 2


def test_agents_set_creates_updates_and_refuses_conflicts(aws: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(
        capsys, "--json", "agents", "set", "billing", "--trace-name", "billing-v1", "--trace-name", "billing-v2"
    )
    assert code == 0 and json.loads(out)["traceNames"] == ["billing-v1", "billing-v2"]
    code, out, _ = cli(capsys, "--json", "agents", "set", "billing", "--name", "Billing bot")
    assert json.loads(out) | {} == {
        "agentId": "billing",
        "name": "Billing bot",
        "traceNames": ["billing-v1", "billing-v2"],
        "cloudConnectionId": None,
        "cloudService": None,
        "cloudTag": None,
        "autoRegistered": False,
    }
    code, _, err = cli(capsys, "agents", "set", "other", "--trace-name", "billing-v2")
    assert code == 2 and "already belong to agent 'billing'" in err
    code, _, err = cli(capsys, "agents", "set", "other", "--cloud-service", "AmazonBedrock")
    assert code == 2 and "--cloud-connection" in err
    code, _, err = cli(
        capsys, "agents", "set", "other", "--cloud-connection", "nope", "--cloud-service", "AmazonBedrock"
    )
    assert code == 2
    code, out, _ = cli(capsys, "agents", "list")
    assert "billing" in out and "Billing bot" in out


def test_reprice_rejects_bad_dates(aws: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "reprice", "--from", "2026-13-01", "--to", "2026-03-02")
    assert code == 2 and "--from must be a date" in err
    code, _, err = cli(capsys, "reprice", "--from", "2026-03-05", "--to", "2026-03-02")
    assert code == 2


def test_catalogue_import_can_be_limited_to_providers(aws: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "--json", "pricing", "import", "--catalogue", "genai-prices", "--provider", "anthropic")
    assert code == 0 and json.loads(out)["imported"] > 10
    code, out, _ = cli(capsys, "--json", "pricing", "list")
    assert {row["provider"] for row in json.loads(out)} == {"anthropic"}
    code, _, err = cli(capsys, "pricing", "import", "--catalogue", "genai-prices", "--provider", "no-such-provider")
    assert code == 2 and "no provider no-such-provider" in err
