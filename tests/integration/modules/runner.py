"""Run our modules the way users do (a playbook, from the repository root, ansible.cfg there) against the
emulator, and read back exactly what ``register`` would hold."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[3]
ANSIBLE_PLAYBOOK = str(Path(sys.executable).with_name("ansible-playbook"))
WRITE_METHODS = {"PUT", "PATCH", "DELETE", "POST"}


def arm_writes(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Write requests to ARM in a slice of the emulator's request log (token and admin calls excluded).

    POSTs that only read (listKeys) would count too; none of the modules under test send them.
    """
    return [e for e in entries if str(e.get("method", "")).upper() in WRITE_METHODS
            and str(e.get("path", "")).lower().startswith(("/subscriptions/", "/providers/"))]


class ModuleRunner:
    def __init__(self, emulator: Any, tmp_path: Path) -> None:
        self.emulator = emulator
        self.tmp_path = tmp_path
        self.calls = 0

    @property
    def subscription(self) -> str:
        return str(self.emulator.env["AZURE_SUBSCRIPTION_ID"])

    def rg_id(self, name: str) -> str:
        return f"/subscriptions/{self.subscription}/resourceGroups/{name}"

    def __call__(self, module: str, args: dict[str, Any], *, check: bool = False, diff: bool = False,
                 extra_env: dict[str, str] | None = None) -> dict[str, Any]:
        """Run one task in a playbook and return what ``register`` holds (with ``diff`` when asked)."""
        self.calls += 1
        out = self.tmp_path / f"result-{self.calls}.json"
        playbook = self.tmp_path / f"play-{self.calls}.yml"
        # JSON is YAML: the task's options are written literally, exactly as the test built them.
        play = [{"hosts": "localhost", "gather_facts": False, "tasks": [
            {"name": "module under test", f"complianceflow.azure_infra.{module}": args, "register": "result",
             "ignore_errors": True},
            {"name": "save the registered result", "ansible.builtin.copy": {
                "content": "{{ result | to_json }}", "dest": str(out)}, "check_mode": False, "diff": False},
        ]}]
        playbook.write_text(json.dumps(play))
        command = [ANSIBLE_PLAYBOOK, str(playbook)]
        if check:
            command.append("--check")
        if diff:
            command.append("--diff")
        env = {**os.environ, **{k: str(v) for k, v in self.emulator.env.items()}, "ANSIBLE_NOCOLOR": "1",
               **(extra_env or {})}
        completed = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=600,
                                   check=False)
        if not out.exists():
            raise AssertionError(f"ansible-playbook produced no result:\n{completed.stdout}\n{completed.stderr}")
        result = json.loads(out.read_text())
        result["_stdout"] = completed.stdout
        return result

    def log_mark(self) -> int:
        return len(self.emulator.requests())

    def writes_since(self, mark: int) -> list[dict[str, Any]]:
        return arm_writes(self.emulator.requests()[mark:])


def four_steps(run: ModuleRunner, module: str, args: dict[str, Any]) -> dict[str, Any]:
    """check -> apply -> idempotent check -> idempotent apply, asserting the emulator saw the right writes.

    Returns the result of the first apply.
    """
    mark = run.log_mark()
    checked = run(module, args, check=True, diff=True)
    assert not checked.get("failed"), checked.get("msg")
    assert checked["changed"] is True
    assert checked["diff"]["after"], "check mode must show what it would create"
    assert run.writes_since(mark) == [], "check mode must write nothing"

    applied = run(module, args)
    assert not applied.get("failed"), applied.get("msg")
    assert applied["changed"] is True
    assert run.writes_since(mark), "apply must write"

    for check in (True, False):
        mark = run.log_mark()
        again = run(module, args, check=check, diff=True)
        assert not again.get("failed"), again.get("msg")
        assert again["changed"] is False, f"second {'check' if check else 'apply'} changed: {again.get('diff')}"
        assert run.writes_since(mark) == [], "a converged resource must get no write"
    return applied


def client_from_env(env: dict[str, str], **overrides: Any) -> Any:
    """Our ARM client configured from the emulator's env.sh values, for acting "behind Ansible's back".

    The process must trust the emulator's CA (REQUESTS_CA_BUNDLE / SSL_CERT_FILE) before calling it.
    """
    from ansible_collections.complianceflow.azure_infra.plugins.module_utils.arm_client import ArmClient
    from ansible_collections.complianceflow.azure_infra.plugins.module_utils.azure_auth import (
        build_credential,
        resolve_cloud,
        resolve_settings,
    )

    settings = resolve_settings({"auth_source": "env"}, env)
    cloud = resolve_cloud(settings["cloud_environment"])
    return ArmClient(cloud.resource_manager, build_credential(settings, cloud), [cloud.scope],
                     settings["subscription_id"], **overrides)
