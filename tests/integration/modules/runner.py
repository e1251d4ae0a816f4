"""Run our modules the way users do (a playbook, from the repository root, ansible.cfg there) against the
emulator, and read back exactly what ``register`` would hold."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.integration.request_log import write_requests

REPO = Path(__file__).resolve().parents[3]
ANSIBLE_PLAYBOOK = str(Path(sys.executable).with_name("ansible-playbook"))


@dataclass
class Step:
    module: str
    args: dict[str, Any]
    check: bool = False
    diff: bool = False


@dataclass
class StepResult:
    result: dict[str, Any]
    writes: list[dict[str, Any]]


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
        return self.steps([Step(module, args, check=check, diff=diff)], extra_env=extra_env)[0].result

    def steps(self, steps: list[Step], extra_env: dict[str, str] | None = None) -> list[StepResult]:
        """Run several tasks in one ansible-playbook process, each with its own check/diff mode, and return
        each registered result with the ARM writes the emulator logged while that task ran.

        One process instead of one per step keeps the suite fast; the request log is sampled between tasks
        on the controller (a lookup, no module run).
        """
        self.calls += 1
        out = self.tmp_path / f"result-{self.calls}.json"
        playbook = self.tmp_path / f"play-{self.calls}.yml"
        ca = self.emulator.env["SSL_CERT_FILE"]
        log_url = f"{self.emulator.base_url}/_emulator/requests"
        count = ("{{ (lookup('ansible.builtin.url', '" + log_url + "', split_lines=false, ca_path='" + ca
                 + "') | from_json)['value'] | length }}")
        tasks: list[dict[str, Any]] = []
        for index, step in enumerate(steps):
            tasks.append({"name": f"mark {index}", "ansible.builtin.set_fact": {f"mark_{index}": count}})
            # JSON is YAML: the task's options are written literally, exactly as the test built them.
            tasks.append({"name": f"step {index}: {step.module}", f"complianceflow.azure_infra.{step.module}": step.args,
                          "register": f"result_{index}", "ignore_errors": True, "check_mode": step.check,
                          "diff": step.diff})
        tasks.append({"name": "mark end", "ansible.builtin.set_fact": {f"mark_{len(steps)}": count}})
        results = ", ".join(f"result_{i}" for i in range(len(steps)))
        marks = ", ".join(f"mark_{i} | int" for i in range(len(steps) + 1))
        # Written in the playbook's own process (an action plugin): ansible.builtin.copy costs two module runs.
        tasks.append({"name": "save results", "complianceflow.azure_infra.controller_file": {
            "content": "{{ {'results': [" + results + "], 'marks': [" + marks + "]} | to_json }}", "path": str(out)},
            "check_mode": False, "diff": False})
        playbook.write_text(json.dumps([{"hosts": "localhost", "gather_facts": False, "tasks": tasks}]))
        env = {**os.environ, **{k: str(v) for k, v in self.emulator.env.items()}, "ANSIBLE_NOCOLOR": "1",
               **(extra_env or {})}
        completed = subprocess.run([ANSIBLE_PLAYBOOK, str(playbook)], cwd=REPO, env=env, capture_output=True,
                                   text=True, timeout=600, check=False)
        if not out.exists():
            raise AssertionError(f"ansible-playbook produced no result:\n{completed.stdout}\n{completed.stderr}")
        saved = json.loads(out.read_text())
        log = self.emulator.requests()
        marks = saved["marks"]
        outcome = []
        for index, result in enumerate(saved["results"]):
            result["_stdout"] = completed.stdout
            outcome.append(StepResult(result, write_requests(log[marks[index]:marks[index + 1]])))
        return outcome


def four_steps(run: ModuleRunner, module: str, args: dict[str, Any]) -> dict[str, Any]:
    """check -> apply -> idempotent check -> idempotent apply, asserting the emulator saw the right writes.

    Returns the result of the first apply.
    """
    checked, applied, rechecked, reapplied = run.steps([
        Step(module, args, check=True, diff=True), Step(module, args),
        Step(module, args, check=True, diff=True), Step(module, args, diff=True)])
    assert not checked.result.get("failed"), checked.result.get("msg")
    assert checked.result["changed"] is True
    assert checked.result["diff"]["after"], "check mode must show what it would create"
    assert checked.writes == [], "check mode must write nothing"

    assert not applied.result.get("failed"), applied.result.get("msg")
    assert applied.result["changed"] is True
    assert applied.writes, "apply must write"

    for label, again in (("check", rechecked), ("apply", reapplied)):
        assert not again.result.get("failed"), again.result.get("msg")
        assert again.result["changed"] is False, f"second {label} changed: {again.result.get('diff')}"
        assert again.writes == [], f"a converged resource must get no write ({label})"
    return applied.result


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
