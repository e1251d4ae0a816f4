"""Refresh the committed plan snapshots (tests/unit/snapshots/) from playbooks/plan.yml, offline.

    make plan-snapshots     # or: .venv/bin/python -m tests.unit.refresh_plan_snapshots

A separate command on purpose: `make test` only compares with the committed snapshots
(tests/unit/test_deployment_model.py), so a changed plan fails until someone runs this and reviews the diff.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
# Every deployment with an inventory: a new inventory gets its snapshot with `make plan-snapshots`.
DEPLOYMENTS = tuple(sorted(p.parent.name for p in (REPO / "inventories").glob("*/hosts.yml")))


def main() -> int:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AZURE_")}
    env["ANSIBLE_CONFIG"] = str(REPO / "ansible.cfg")
    with tempfile.TemporaryDirectory(prefix="plan-snapshots-") as plan_dir:
        command = [str(Path(sys.executable).with_name("ansible-playbook")), str(REPO / "playbooks" / "plan.yml"),
                   "-e", f"plan_dir={plan_dir}"]
        for deployment in DEPLOYMENTS:
            command += ["-i", str(REPO / "inventories" / deployment)]
        result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False)
        if result.returncode != 0:
            sys.stderr.write(result.stdout + result.stderr)
            return result.returncode
        SNAPSHOTS.mkdir(exist_ok=True)
        for deployment in DEPLOYMENTS:
            produced = json.loads((Path(plan_dir) / f"{deployment}.json").read_text())
            (SNAPSHOTS / f"{deployment}.json").write_text(json.dumps(produced, indent=2, sort_keys=True) + "\n")
            sys.stdout.write(f"wrote {(SNAPSHOTS / f'{deployment}.json').relative_to(REPO)}\n")
    sys.stdout.write("review the diff: git diff tests/unit/snapshots/\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
