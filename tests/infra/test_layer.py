"""layer/requirements.txt: the functions' third-party packages, pinned to uv.lock, without the runtime's own."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from infra.bundling import hashed_requirements, install_command, lock_packages, normalise, read_requirements

TOP_LEVEL = {"aws-lambda-powertools", "aws-xray-sdk", "pynamodb", "requests", "defusedxml", "pydantic"}
RUNTIME_PROVIDED = {"boto3", "botocore", "s3transfer", "python-dateutil", "six"}  # in every Lambda Python runtime


def closure(packages: Mapping[str, Mapping[str, Any]], roots: set[str]) -> set[str]:
    seen: set[str] = set()
    pending = list(roots)
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        pending.extend(normalise(d["name"]) for d in packages[name].get("dependencies", []))
    return seen


def test_pins_match_uv_lock() -> None:
    locked = lock_packages()
    for name, version in read_requirements().items():
        assert name in locked, f"{name} is not in uv.lock"
        assert version == locked[name]["version"], f"{name}=={version}, uv.lock has {locked[name]['version']}"


def test_layer_holds_the_dependency_closure_minus_the_runtime() -> None:
    # Given the packages the functions import, When their locked dependencies are followed
    wanted = closure(lock_packages(), TOP_LEVEL) - RUNTIME_PROVIDED
    # Then the layer pins exactly those: nothing missing (installs run with --no-deps), nothing the runtime ships
    pinned = set(read_requirements())
    assert pinned == wanted
    assert pinned >= TOP_LEVEL
    assert not pinned & RUNTIME_PROVIDED


def test_every_pin_is_installed_by_hash() -> None:
    lines = hashed_requirements().splitlines()
    assert len(lines) == len(read_requirements())
    assert all(" --hash=sha256:" in line for line in lines)


def test_wheels_are_fetched_for_the_lambda_platform(tmp_path: Any) -> None:
    command = install_command(tmp_path / "requirements.txt", tmp_path / "python")
    joined = " ".join(command)
    assert "aarch64" in joined and "3.14" in joined
    assert "--only-binary" in command and "--no-deps" in command and "--require-hashes" in command
