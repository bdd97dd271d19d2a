"""Lambda code without Docker.

* Function code: the repository root filtered down to ``functions/__init__.py``, ``functions/<name>/`` and
  ``shared/``, so ``functions.<name>.handler.handler`` and ``shared.*`` import the same way in pytest and in Lambda.
* Third-party packages: one layer built by local bundling. pip (or uv) downloads the Lambda-platform wheels
  (``manylinux2014_aarch64``, the runtime's CPython), pinned in ``layer/requirements.txt`` and verified against the
  sha256 hashes in ``uv.lock``; no Docker, no compiler.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_

from infra import constants as c

ROOT = Path(__file__).resolve().parents[1]
LAYER_DIR = ROOT / "layer"
REQUIREMENTS = LAYER_DIR / "requirements.txt"
LOCKFILE = ROOT / "uv.lock"
BUNDLER_VERSION = "2"  # bump to force a rebuild when the recipe below changes


def function_code(name: str) -> lambda_.Code:
    """The asset of one function: its own folder plus ``shared/``, nothing else from the repository."""
    exclude = [
        "*",
        ".*",  # minimatch's "*" skips dotfiles; without this .pytest_cache and friends leak into the asset
        "!functions",
        "!functions/__init__.py",
        f"!functions/{name}",
        f"!functions/{name}/**",
        "!shared",
        "!shared/**",
        "__pycache__",
        "*.pyc",
    ]
    return lambda_.Code.from_asset(str(ROOT), exclude=exclude)


def read_requirements(path: Path = REQUIREMENTS) -> dict[str, str]:
    """``name==version`` lines of a requirements file (names normalised), comments and blanks ignored."""
    pins: dict[str, str] = {}
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        if not sep or not version.strip():
            raise ValueError(f"{path.name}: every requirement must be pinned with ==, got {line!r}")
        pins[normalise(name)] = version.strip()
    return pins


def normalise(name: str) -> str:
    return name.strip().lower().replace("_", "-").replace(".", "-")


def lock_packages(path: Path = LOCKFILE) -> dict[str, Mapping[str, Any]]:
    """The ``[[package]]`` tables of uv.lock by normalised name (the registry packages)."""
    with path.open("rb") as handle:
        lock = tomllib.load(handle)
    return {normalise(p["name"]): p for p in lock["package"] if "registry" in p.get("source", {})}


def hashed_requirements(requirements: Path = REQUIREMENTS, lockfile: Path = LOCKFILE) -> str:
    """The pins with every sha256 uv.lock knows for that exact version, for ``--require-hashes``."""
    packages = lock_packages(lockfile)
    lines = []
    for name, version in sorted(read_requirements(requirements).items()):
        package = packages.get(name)
        if package is None or package["version"] != version:
            locked = package["version"] if package else "nothing"
            raise ValueError(f"{requirements.name}: {name}=={version} but uv.lock has {locked}; run the layer test")
        artefacts = [*package.get("wheels", []), *([package["sdist"]] if "sdist" in package else [])]
        hashes = sorted({a["hash"] for a in artefacts if str(a.get("hash", "")).startswith("sha256:")})
        lines.append(f"{name}=={version} " + " ".join(f"--hash={h}" for h in hashes))
    return "\n".join(lines) + "\n"


def layer_asset_hash() -> str:
    """Changes when a pin, a locked hash, the interpreter, the platform or this recipe changes."""
    recipe = "|".join([hashed_requirements(), c.PYTHON_VERSION, c.LAYER_PIP_PLATFORM, BUNDLER_VERSION])
    return hashlib.sha256(recipe.encode()).hexdigest()


def install_command(requirements: Path, target: Path) -> list[str]:
    """uv when available (the project's tool), else pip; both fetch wheels for the Lambda platform only."""
    uv = os.environ.get("UV") or shutil.which("uv")
    common = ["--target", str(target), "--no-deps", "--only-binary", ":all:", "--require-hashes", "-r"]
    if uv:
        return [
            uv,
            "pip",
            "install",
            "--quiet",
            "--python-platform",
            c.LAYER_UV_PLATFORM,
            "--python-version",
            c.PYTHON_VERSION,
            *common,
            str(requirements),
        ]
    return [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--no-compile",
        "--platform",
        c.LAYER_PIP_PLATFORM,
        "--implementation",
        "cp",
        "--python-version",
        c.PYTHON_VERSION,
        *common,
        str(requirements),
    ]


@jsii.implements(ILocalBundling)
class LayerBundler:
    """Installs the pinned, hash-checked wheels into ``<asset>/python`` (the layer's import path)."""

    def try_bundle(self, output_dir: str, *args: Any, **kwargs: Any) -> bool:  # jsii passes the options positionally
        target = Path(output_dir) / "python"
        with tempfile.TemporaryDirectory() as scratch:
            requirements = Path(scratch) / "requirements.txt"
            requirements.write_text(hashed_requirements())
            command = install_command(requirements, target)
            print("bundling the layer:", " ".join(command), flush=True)
            subprocess.run(command, check=True)
        shutil.rmtree(target / "bin", ignore_errors=True)  # console scripts: never on PATH inside a layer
        for cache in target.rglob("__pycache__"):
            shutil.rmtree(cache, ignore_errors=True)
        return True


def dependencies_layer_code() -> lambda_.Code:
    return lambda_.Code.from_asset(
        str(LAYER_DIR),
        asset_hash_type=AssetHashType.CUSTOM,
        asset_hash=layer_asset_hash(),
        bundling=BundlingOptions(
            image=DockerImage.from_registry("local-bundling-only"),  # required by the API, never pulled
            local=LayerBundler(),
        ),
    )
