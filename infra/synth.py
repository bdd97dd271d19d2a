"""``make synth``: synthesize offline into ``cdk.out/`` (docker-free layer bundling included), then check it.

1. build the app: the layer is bundled locally with pip/uv for the Lambda platform (cached in cdk.out by hash);
2. synthesize with cdk-nag's AwsSolutions pack as a validation plugin: any finding without an acknowledgment
   (infra/nag.py, each with its reason) fails the synth;
3. cfn-lint the template (W3005, "dependency already enforced", is CDK's normal output and ignored).

Prints each step's result and time; exits non-zero if any step fails.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from aws_cdk import Validations
from cdk_nag import AwsSolutionsChecks

from infra import constants as c
from infra.app import create_app
from infra.stack import MusterCostsStack

ROOT = Path(__file__).resolve().parents[1]
OUTDIR = ROOT / "cdk.out"
CFN_LINT_IGNORED = ("W3005",)


def synthesize(outdir: Path) -> bool:
    started = time.perf_counter()
    app = create_app(outdir=str(outdir))
    built = time.perf_counter()
    print(f"app built (layer bundled or reused from cdk.out): {built - started:.1f} s")
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    try:
        app.synth()
    except Exception as exc:  # jsii raises the ValidationFailed error as RuntimeError or JSIIError
        print(f"cdk-nag AwsSolutions: FAILED ({type(exc).__name__}); see the findings above and {outdir}")
        return False
    print(
        f"cdk-nag AwsSolutions: passed, 0 unacknowledged findings; synth + checks {time.perf_counter() - built:.1f} s"
    )
    stack = app.node.find_child(c.STACK_NAME)
    assert isinstance(stack, MusterCostsStack)
    for ack in stack.acknowledgments:
        print(f"  acknowledged {ack.finding}: {ack.reason}")
    return True


def cfn_lint(template: Path) -> bool:
    started = time.perf_counter()
    ignore = [arg for rule in CFN_LINT_IGNORED for arg in ("--ignore-checks", rule)]
    command = [sys.executable, "-c", "from cfnlint.runner import main; main()", *ignore, "--", str(template)]
    result = subprocess.run(command, check=False)
    verdict = "no errors or warnings" if result.returncode == 0 else f"FAILED (exit {result.returncode})"
    ignored = ", ".join(CFN_LINT_IGNORED)
    print(f"cfn-lint {template.name}: {verdict} ({ignored} ignored); {time.perf_counter() - started:.1f} s")
    return result.returncode == 0


def summary(template: Path) -> str:
    resources = json.loads(template.read_text())["Resources"]
    return f"{template.relative_to(ROOT)}: {len(resources)} resources"


def main() -> int:
    started = time.perf_counter()
    if not synthesize(OUTDIR):
        return 1
    template = OUTDIR / f"{c.STACK_NAME}.template.json"
    print(summary(template))
    ok = cfn_lint(template)
    print(f"make synth: {'ok' if ok else 'FAILED'} in {time.perf_counter() - started:.1f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
