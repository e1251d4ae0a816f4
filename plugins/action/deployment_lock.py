# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of complianceflow.azure_infra.deployment_lock (documentation in plugins/modules/).

Runs in the controller, not as a module: no module process to start (the lock costs one short task), and the
change-summary callback, which releases the lock at the end of the run, lives in the same process tree.
"""

from __future__ import annotations

import getpass
import os
import socket
import sys
from typing import Any

from ansible import constants as C
from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.complianceflow.azure_infra.plugins.module_utils import deployment_state as ds
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.azure_auth import AUTH_ARGUMENT_SPEC

display = Display()

CALLBACK = "complianceflow.azure_infra.run_summary"
# Options of ansible-playbook that take a value which is not a playbook (an inventory may be a hosts.yml).
VALUE_OPTIONS = frozenset({"-i", "--inventory", "--inventory-file", "-e", "--extra-vars", "--vault-password-file",
                           "--vault-id", "-l", "--limit", "-t", "--tags", "--skip-tags", "-u", "--user",
                           "--private-key", "--key-file", "-M", "--module-path", "-f", "--forks"})


def playbook_label(argv: list[str], run_tags: list[str] | None) -> str:
    """``site.yml --tags database`` from ansible-playbook's command line (playbooks and tags only: extra vars may
    hold secrets and are never recorded)."""
    books = []
    previous = ""
    for arg in argv[1:]:
        if not arg.startswith("-") and previous not in VALUE_OPTIONS:
            books.append(os.path.basename(arg))
        previous = arg if arg.startswith("-") and "=" not in arg else ""
    label = " ".join(books) or os.path.basename(argv[0] if argv else "ansible-playbook")
    tags = [t for t in (run_tags or []) if t != "all"]
    return f"{label} --tags {','.join(tags)}" if tags else label


def who_runs(task_vars: dict[str, Any]) -> str:
    # AWX/AAP inject the launching user and the job id as extra variables.
    awx_user = task_vars.get("awx_user_name") or task_vars.get("tower_user_name")
    if awx_user:
        job = task_vars.get("awx_job_id") or task_vars.get("tower_job_id")
        return f"{awx_user} (AWX job {job})" if job else str(awx_user)
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())


def callback_enabled() -> bool:
    enabled = C.config.get_config_value("CALLBACKS_ENABLED") or []
    return CALLBACK in enabled or "run_summary" in enabled


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(ds.LOCK_ARGUMENT_SPEC)

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        args = self.validate_argument_spec(argument_spec=ds.LOCK_ARGUMENT_SPEC)[1]
        deployment = str(args.get("deployment") or "")
        operation = str(args["operation"])
        mode = str(args["mode"])
        container = str(args["container"])
        auth = {k: args.get(k) for k in AUTH_ARGUMENT_SPEC}
        if not deployment and operation != "deployments":
            raise AnsibleActionFail("deployment is required (the inventory host, e.g. westeu-test-1)")
        if operation == "unlock" and not args.get("lock_id"):
            raise AnsibleActionFail(
                f"refusing to break the lock of {deployment} without its lock id: pass -e lock_id=<id> with the id "
                "shown in the refusal of the run that found the lock (or in playbooks/history.yml), after making "
                "sure that its holder is no longer running")
        if operation == "lock" and mode == "off":
            result.update(changed=False, locked=False, msg=f"{deployment}: deployment lock off (mode=off)")
            return result
        applying = operation == "lock" and not self._play_context.check_mode
        if applying and not callback_enabled():
            raise AnsibleActionFail(
                f"the callback {CALLBACK} is not enabled: it releases the deployment lock and writes the run ledger "
                "at the end of the run. Enable it (ansible.cfg [defaults] callbacks_enabled, or "
                "ANSIBLE_CALLBACKS_ENABLED) before applying a deployment; see docs/operations.md")
        if applying and ds.controller_identity(auth) != ds.controller_identity():
            raise AnsibleActionFail(
                f"{deployment}: the deployment lock is released at the end of the run with the controller's "
                "credentials (AZURE_* environment, ~/.azure/credentials profile, managed identity or Azure CLI), "
                "which are not the ones given to this task (module_defaults or options): give the credentials "
                "through the environment, as AWX does, so that the lock can be released")
        account_name = args.get("state_account") or None
        resource_group = str(args.get("state_resource_group") or ds.STATE_RESOURCE_GROUP)
        account_id = ""
        try:
            subscription = ds.subscription_from_settings(auth)
            account_id = ds.state_account_id(subscription, account_name, resource_group)
            client, endpoint = ds.controller_client(None, account_id, params=auth)
        except LookupError:
            message = (f"the state storage account {account_id} does not exist: run playbooks/bootstrap.yml once for "
                       "this subscription (it creates the account that holds the deployments' locks and run ledger)")
            if self._play_context.check_mode and operation == "lock":
                display.warning(f"{deployment}: {message}; this check-mode run is not recorded in the ledger")
                result.update(changed=False, locked=False, msg=message)
                return result
            raise AnsibleActionFail(message) from None
        except Exception as exc:  # credential, network and ARM errors all end the task with their own words
            raise AnsibleActionFail(f"{deployment}: cannot reach the deployments' state storage: {exc}") from None
        store = {"endpoint": endpoint, "container": container, "deployment": deployment, "account_id": account_id}
        try:
            if operation == "lock":
                return self._lock(result, client, store, task_vars)
            if operation == "unlock":
                return self._unlock(result, client, store, str(args["lock_id"]))
            if operation == "history":
                records = ds.read_history(client, container, deployment, int(args["last"]))
                result.update(changed=False, records=records, state_store=store)
                return result
            result.update(changed=False, deployments=ds.list_deployments(client, container), state_store=store)
            return result
        except ds.BlobError as exc:
            raise AnsibleActionFail(f"{deployment}: state storage {endpoint}: {exc.status} {exc.code}: "
                                    f"{exc.message}") from None

    def _lock(self, result: dict[str, Any], client: ds.BlobClient, store: dict[str, str],
              task_vars: dict[str, Any]) -> dict[str, Any]:
        deployment = store["deployment"]
        if self._play_context.check_mode:
            # Check mode changes nothing and takes no lock; the callback still records the run in the ledger.
            result.update(changed=False, locked=False, state_store=store,
                          msg=f"{deployment}: check mode takes no lock")
            return result
        playbook = playbook_label(sys.argv, task_vars.get("ansible_run_tags"))
        try:
            holder = ds.acquire_lock(client, store["container"], deployment, who_runs(task_vars),
                                     socket.gethostname(), playbook)
        except ds.LockHeld as held:
            lock_id = held.metadata.get("lockid") or "<see the lock blob's metadata>"
            raise AnsibleActionFail(
                f"deployment {deployment} is locked: {ds.describe_holder(held.metadata)}. Another run is applying "
                "this deployment; wait for it to end. If that run is dead (killed, machine lost), break the lock: "
                f"ansible-playbook playbooks/unlock.yml -i inventories/{deployment} -e lock_id={lock_id}") from None
        result.update(changed=False, locked=True, lock_id=holder["lockid"], holder=holder, state_store=store,
                      msg=f"{deployment}: locked for this run (lock id {holder['lockid']})")
        return result

    def _unlock(self, result: dict[str, Any], client: ds.BlobClient, store: dict[str, str],
                lock_id: str) -> dict[str, Any]:
        deployment = store["deployment"]
        status = ds.lock_status(client, store["container"], deployment)
        if not status["locked"]:
            result.update(changed=False, msg=f"{deployment} is not locked")
            return result
        if self._play_context.check_mode:
            result.update(changed=True, holder=status["holder"],
                          msg=f"{deployment}: would break the lock of {ds.describe_holder(status['holder'])}")
            return result
        try:
            ds.release_lock(client, store["container"], deployment, lock_id)
        except ds.BlobError as exc:
            if exc.code in ("LeaseIdMismatchWithLeaseOperation", "LeaseIdMismatchWithBlobOperation"):
                raise AnsibleActionFail(
                    f"lock id {lock_id} is not the lock of {deployment}: it is held by "
                    f"{ds.describe_holder(status['holder'])}; nothing was changed") from None
            raise
        result.update(changed=True, holder=status["holder"],
                      msg=f"{deployment}: broke the lock of {ds.describe_holder(status['holder'])}")
        return result
