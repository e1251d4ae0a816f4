"""Run the *installed* collection artifact's playbooks against a fresh emulator and check what they did.

    python -m tests.integration.installed_artifact --workdir DIR     (scripts/build-check.sh, after the install)

DIR holds the ansible.cfg whose collections_path has the installed artifact; the playbooks run from DIR, by their
collection names (complianceflow.azure_infra.plan, .site), never from the working tree. Checked, for westeu-test-1
and the resource_group and network roles (the slice that needs no PostgreSQL), through the emulator's admin API
and request log:

  site --check          exit 0, failed=0, changed>0, no write request, nothing created
  site                  exit 0, failed=0, changed>0; every planned resource of the slice exists as planned
                        (tests/integration/playbooks/runner.compare_with_plan), nothing unplanned
  site again            changed=0 and no write request
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.emulator.pytest_plugin import EmulatorProcess
from tests.integration.playbooks.runner import ROLE_TYPES, SLICE_ROLES, compare_with_plan, parse_recap
from tests.integration.request_log import writes

REPO = Path(__file__).resolve().parents[2]
DEPLOYMENT = "westeu-test-1"
SLICE = ("--tags", "resource_group,network", "-e", "deployment_lock_mode=off")
SHARED_GROUP = "NetworkWatcherRG"  # the region's Network Watcher group: shared, created when missing, never planned


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", required=True, type=Path, help="directory with the install's ansible.cfg")
    args = parser.parse_args()
    workdir: Path = args.workdir.resolve()
    playbook_bin = str(Path(sys.executable).with_name("ansible-playbook"))
    problems: list[str] = []

    with tempfile.TemporaryDirectory(prefix="build-check-emulator-") as state:
        emulator = EmulatorProcess(Path(state), postgres="off").start()
        try:
            env = {**os.environ, **emulator.env, "ANSIBLE_CONFIG": str(workdir / "ansible.cfg"),
                   "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORCE_COLOR": "0"}
            env.pop("ANSIBLE_COLLECTIONS_PATH", None)
            env.pop("ANSIBLE_COLLECTIONS_PATHS", None)

            def play(label: str, name: str, *extra: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
                mark = len(emulator.requests())
                command = [playbook_bin, f"complianceflow.azure_infra.{name}", "-i",
                           str(REPO / "inventories" / DEPLOYMENT), *extra]
                run = subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True, timeout=1200,
                                     check=False)
                (workdir / f"{label}.log").write_text(run.stdout + run.stderr)
                if run.returncode != 0:
                    problems.append(f"{label}: exit {run.returncode}, see the log below\n{run.stdout[-4000:]}")
                return run, writes(emulator.requests()[mark:])

            plan_dir = workdir / "plan-emulator"
            play("plan", "plan", "-e", f"plan_dir={plan_dir}")
            planned = [r for r in json.loads((plan_dir / f"{DEPLOYMENT}.json").read_text())["resources"]
                       if str(r["type"]).lower() in ROLE_TYPES and r.get("role") in SLICE_ROLES] \
                if not problems else []

            check, check_writes = play("check", "site", *SLICE, "--check")
            counters = parse_recap(check.stdout, DEPLOYMENT)
            if counters.get("failed", 1) != 0 or counters.get("changed", 0) == 0:
                problems.append(f"check: recap {counters}, expected failed=0 and changes on an empty subscription")
            if check_writes:
                problems.append(f"check: check mode sent writes {check_writes}")
            if emulator.resources():
                problems.append(f"check: check mode created {[r['id'] for r in emulator.resources()]}")

            build, _ = play("build", "site", *SLICE)
            counters = parse_recap(build.stdout, DEPLOYMENT)
            if counters.get("failed", 1) != 0 or counters.get("changed", 0) == 0:
                problems.append(f"build: recap {counters}, expected failed=0 and changes")
            shared = [f"/subscriptions/{emulator.env['AZURE_SUBSCRIPTION_ID']}/resourceGroups/{SHARED_GROUP}"]
            differences = compare_with_plan(planned, emulator.resources(), shared)
            if not planned:
                problems.append("build: the installed plan lists nothing to compare with")
            problems.extend(f"build: {d}" for d in differences)

            again, again_writes = play("again", "site", *SLICE)
            counters = parse_recap(again.stdout, DEPLOYMENT)
            if counters.get("failed", 1) != 0 or counters.get("changed", 1) != 0:
                problems.append(f"again: recap {counters}, expected changed=0 on a converged deployment")
            if again_writes:
                problems.append(f"again: a converged deployment got writes {again_writes}")

            # Team operation from the install, as docs/operations.md tells users: bootstrap, then a locked run with the
            # callback enabled by environment (the install's ansible.cfg does not enable it).
            play("bootstrap", "bootstrap")
            env["ANSIBLE_CALLBACKS_ENABLED"] = "complianceflow.azure_infra.run_summary"
            locked, _ = play("locked", "site", "--tags", "resource_group", "-e", "deployment_lock_mode=required")
            for expected in (f"{DEPLOYMENT}: 0 to add, 0 to change, 0 to destroy,", "deployment lock released"):
                if expected not in locked.stdout:
                    problems.append(f"locked: {expected!r} missing from the output of a locked run")
        finally:
            emulator.stop()

    if problems:
        sys.stderr.write("installed artifact against the emulator: FAILED\n" + "\n".join(problems) + "\n")
        return 1
    sys.stdout.write(f"installed artifact: complianceflow.azure_infra.site built {len(planned)} planned resources "
                     f"of {DEPLOYMENT} ({' '.join(SLICE)}) against the emulator, check mode wrote nothing, "
                     "the second run changed nothing; bootstrap and a locked run with the run_summary callback\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
