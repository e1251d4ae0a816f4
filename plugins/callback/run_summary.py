# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: run_summary
type: aggregate
short_description: Terraform-like change summary per deployment, the run ledger, and the lock's release
version_added: 0.3.0
description:
  - Aggregates the per-resource results of the collection's C(resources) tasks (and the deletions of its
    per-resource modules, as C(playbooks/destroy.yml) makes them) and prints, at the end of every run and per
    deployment, C(N to add, N to change, N to destroy, N unchanged) (prefixed C(would:) in check mode) with the
    changed resources listed by type and name. The same is written as JSON to O(summary_dir).
  - For every deployment whose run took the lock (or, in check mode, found the state storage) with
    C(complianceflow.azure_infra.deployment_lock), writes the run's ledger record to the state container (who,
    when, collection version, git commit, inventory hash, playbook, check mode, per-resource actions, outcome,
    duration), stores the applied plan after a successful apply, and then releases the lock. This happens at the
    end of the playbook whether the run succeeded or failed, and when it is interrupted with Ctrl-C (the record's
    outcome is then C(interrupted)); only a run killed outright (SIGKILL, SIGTERM, a lost machine) leaves its lock
    behind.
  - Enable it with C(callbacks_enabled = complianceflow.azure_infra.run_summary) in the C([defaults]) section of
    C(ansible.cfg) (the repository's C(ansible.cfg) does), or C(ANSIBLE_CALLBACKS_ENABLED) (in AWX, set it in the
    job template's environment or the execution environment's ansible.cfg). C(deployment_lock) refuses to take
    a lock when it is not enabled, since nothing would release it.
requirements:
  - enabled in callbacks_enabled
options:
  summary_dir:
    description:
      - Directory for the JSON summary of each run, one file per deployment and run.
      - Unset, C(runs/) next to Ansible's log file when C(log_path) is configured, else C(build/runs) in the current
        directory.
    type: path
    env:
      - name: CF_RUN_SUMMARY_DIR
    ini:
      - section: callback_run_summary
        key: summary_dir
"""

import atexit
import datetime as dt
import json
import os
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

from ansible import constants as C
from ansible import context
from ansible.plugins.callback import CallbackBase

from ansible_collections.complianceflow.azure_infra.plugins.module_utils import deployment_state as ds

SYMBOL = {"add": "+", "change": "~", "destroy": "-", "failed": "!"}
LOCK_ACTIONS = ("deployment_lock",)
COLLECTION = "complianceflow.azure_infra."


def _collection_version() -> str:
    root = Path(__file__).resolve().parents[2]
    manifest = root / "MANIFEST.json"
    if manifest.exists():
        return str(json.loads(manifest.read_text()).get("collection_info", {}).get("version", ""))
    galaxy = root / "galaxy.yml"
    if galaxy.exists():
        for line in galaxy.read_text().splitlines():
            if line.startswith("version:"):
                return line.split(":", 1)[1].strip()
    return ""


def _git_commit(directory: str) -> str:
    try:
        out = subprocess.run(["git", "-C", directory, "rev-parse", "HEAD"], capture_output=True, text=True,
                             timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.stdout.strip() if out.returncode == 0 else ""


def _plain(value: Any) -> Any:
    """Ansible's tagged strings and lazy containers as plain JSON values."""
    return json.loads(json.dumps(value, default=str))


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "complianceflow.azure_infra.run_summary"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display: Any = None, options: Any = None) -> None:
        super().__init__(display=display, options=options)
        self._started = dt.datetime.now(dt.UTC)
        self._clock = time.monotonic()
        self._run_id = uuid.uuid4().hex[:12]
        self._playbook = ""
        self._playbook_dir = os.getcwd()
        self._resources: dict[str, dict[str, dict[str, Any]]] = {}
        self._stores: dict[str, dict[str, str]] = {}
        self._locks: dict[str, str] = {}
        self._finished: set[str] = set()
        self._at_exit = False
        self._variable_manager: Any = None

    # --- collecting ---------------------------------------------------------------------------------------------
    def v2_playbook_on_start(self, playbook: Any) -> None:
        name = getattr(playbook, "_file_name", "") or ""
        self._playbook = os.path.basename(name)
        self._playbook_dir = os.path.dirname(os.path.abspath(name)) if name else os.getcwd()

    def v2_playbook_on_play_start(self, play: Any) -> None:
        self._variable_manager = play.get_variable_manager()

    def v2_runner_on_ok(self, result: Any) -> None:
        self._collect(result)

    def v2_runner_on_failed(self, result: Any, ignore_errors: bool = False) -> None:
        self._collect(result)

    def _collect(self, result: Any) -> None:
        host = result._host.get_name()
        res = result._result
        action = str(getattr(result._task, "action", "") or "")
        if isinstance(res.get("results"), list) and isinstance(res.get("counts"), dict):
            ds.merge_results(self._resources.setdefault(host, {}), res["results"])
        elif action.startswith(COLLECTION):
            # A per-resource module that deleted a resource (destroy.yml's flow log, resource group and policy
            # definitions), also per loop item: counted, or the summary of a destroy names none of them.
            deleted = ds.deletions(res, getattr(result._task, "args", None) or {})
            if deleted:
                ds.merge_results(self._resources.setdefault(host, {}), deleted)
        # The lock task of a run (not the history or unlock playbooks' reads): where its ledger goes, its lock id.
        if action.rsplit(".", 1)[-1] in LOCK_ACTIONS and isinstance(res.get("state_store"), dict) \
                and "records" not in res and "deployments" not in res:
            self._stores[host] = dict(res["state_store"])
            if res.get("locked") and res.get("lock_id"):
                self._locks[host] = str(res["lock_id"])
                if not self._at_exit:
                    # Ctrl-C ends ansible-playbook without the stats callback: release what this run holds anyway.
                    atexit.register(self._interrupted)
                    self._at_exit = True

    # --- at the end of the playbook, also after failures --------------------------------------------------------
    def v2_playbook_on_stats(self, stats: Any) -> None:
        check_mode = bool(context.CLIARGS.get("check", False))
        finished = dt.datetime.now(dt.UTC)
        for host in sorted(set(self._resources) | set(self._stores)):
            summary = ds.summarise(self._resources.get(host, {}), check_mode)
            host_stats = stats.summarize(host)
            outcome = "failed" if host_stats.get("failures") or host_stats.get("unreachable") else "succeeded"
            self._print(host, summary, outcome)
            document = {"deployment": host, "run_id": self._run_id, "playbook": self._playbook,
                        "started": self._started.strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "finished": finished.strftime("%Y-%m-%dT%H:%M:%SZ"), "outcome": outcome, **summary}
            self._write_summary(host, document)
            if host in self._stores:
                self._record(host, summary, outcome, check_mode, finished)

    def _interrupted(self) -> None:
        finished = dt.datetime.now(dt.UTC)
        check_mode = bool(context.CLIARGS.get("check", False))
        for host in sorted(set(self._locks) - self._finished):
            summary = ds.summarise(self._resources.get(host, {}), check_mode)
            self._record(host, summary, "interrupted", check_mode, finished)

    def _print(self, host: str, summary: dict[str, Any], outcome: str) -> None:
        self._display.banner(f"CHANGE SUMMARY [{host}]")
        self._display.display(f"{host}: {summary['line']}" + ("" if outcome == "succeeded" else " (the run failed)"))
        for change in summary["changes"]:
            self._display.display(f"  {SYMBOL.get(change['action'], '?')} {change['type']} {change['name']}")

    def _write_summary(self, host: str, document: dict[str, Any]) -> None:
        directory = self._summary_root() / host
        try:
            directory.mkdir(parents=True, exist_ok=True)
            path = directory / f"{document['started'].replace(':', '').replace('-', '')}-{self._run_id}.json"
            path.write_text(json.dumps(document, indent=2) + "\n")
        except OSError as exc:
            self._display.warning(f"{host}: could not write the change summary to {directory}: {exc}")

    def _summary_root(self) -> Path:
        configured = self.get_option("summary_dir")
        if configured:
            return Path(configured)
        log_path = C.DEFAULT_LOG_PATH
        return Path(log_path).parent / "runs" if log_path else Path("build") / "runs"

    def _host_fact(self, host: str, name: str) -> Any:
        if self._variable_manager is None:
            return None
        return self._variable_manager._nonpersistent_fact_cache.get(host, {}).get(name)

    def _who(self) -> str:
        extra = getattr(self._variable_manager, "extra_vars", {}) or {}
        user = extra.get("awx_user_name") or extra.get("tower_user_name")
        if user:
            job = extra.get("awx_job_id") or extra.get("tower_job_id")
            return f"{user} (AWX job {job})" if job else str(user)
        try:
            import getpass

            return getpass.getuser()
        except (KeyError, OSError):
            return str(os.getuid())

    def _record(self, host: str, summary: dict[str, Any], outcome: str, check_mode: bool,
                finished: dt.datetime) -> None:
        self._finished.add(host)
        store = self._stores[host]
        lock_id = self._locks.get(host)
        fact = self._host_fact(host, "deployment")
        record = {
            "deployment": host, "run_id": self._run_id, "who": self._who(), "host": os.uname().nodename,
            "started": self._started.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "finished": finished.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "duration_seconds": round(time.monotonic() - self._clock, 1),
            "collection_version": _collection_version(), "git_commit": _git_commit(self._playbook_dir),
            "inventory_hash": ds.inventory_hash(_plain(fact)) if fact is not None else "",
            "playbook": self._playbook, "check_mode": check_mode, "outcome": outcome, "lock_id": lock_id or "",
            "counts": summary["counts"],
            "resources": [{"id": r.get("id"), "type": r.get("type"), "name": r.get("name"), "action": r.get("action"),
                           "differences": list(r.get("differences") or [])}
                          for r in sorted(self._resources.get(host, {}).values(), key=lambda r: str(r.get("id")))],
        }
        client = None
        try:
            client = ds.controller_client(store["endpoint"])[0]
            ds.write_record(client, store["container"], host, record)
            if outcome == "succeeded" and not check_mode and fact is not None and self._resources.get(host):
                ds.write_applied_plan(client, store["container"], host,
                                      {"run_id": self._run_id, "finished": record["finished"],
                                       "resources": _plain((fact or {}).get("resources", []))})
        except Exception as exc:  # the ledger must never keep the lock from being released
            self._display.warning(f"{host}: could not write the run ledger record: {exc}")
        if not lock_id:
            return
        try:
            if client is None:
                client = ds.controller_client(store["endpoint"])[0]
            ds.release_lock(client, store["container"], host, lock_id)
            self._display.display(f"{host}: deployment lock released (lock id {lock_id})")
        except Exception as exc:
            self._display.warning(
                f"{host}: could not release the deployment lock ({exc}). Break it with: ansible-playbook "
                f"playbooks/unlock.yml -i inventories/{host} -e lock_id={lock_id}")
