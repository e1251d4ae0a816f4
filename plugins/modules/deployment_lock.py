#!/usr/bin/python
# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: deployment_lock
short_description: One writer per deployment (a blob lease), and the deployment's run ledger
version_added: 0.3.0
description:
  - Takes the deployment's lock before a state-changing run, breaks a stale lock, or reads the run ledger, in the
    deployments' state storage account that C(playbooks/bootstrap.yml) creates once per subscription
    (C(stcfstate<suffix>) in C(rg-cf-state), container C(deployments)).
  - The lock is an infinite lease on the blob C(<deployment>/deployment.lock); its metadata names the holder (who,
    from which host, since when, which playbook) and the lock id (the lease id). A second run on the same
    deployment is refused at once with the holder and the command that breaks a stale lock. Different
    deployments have different lock blobs and never wait for each other.
  - The lock is released at the end of the run, also when the run fails, by the callback
    C(complianceflow.azure_infra.run_summary), which also writes the run's ledger record; the task refuses to
    take a lock when that callback is not enabled. A run killed outright (SIGKILL, lost machine) leaves the lock
    held; C(playbooks/unlock.yml) breaks it given its lock id, like Terraform's C(force-unlock).
  - Check mode takes no lock.
  - Runs on the controller (an action plugin) with the credentials the modules use (the same options and
    C(module_defaults) group; C(AZURE_*) variables as AWX injects them, a C(~/.azure/credentials) profile, managed
    identity or the Azure CLI). Blob Storage is reached with Entra ID tokens only (the account disables shared
    keys). The runner needs C(Storage Blob Data Contributor) on the state account (C(playbooks/bootstrap.yml)
    grants it).
  - The callback releases the lock with the controller's credentials (environment, profile, managed identity,
    CLI); taking a lock with other credentials given only to the task is refused, since nothing could release it.
options:
  deployment:
    description:
      - The deployment (inventory host) whose lock or ledger this is, for example C(westeu-test-1).
      - Not needed with O(operation=deployments).
    type: str
  operation:
    description:
      - V(lock) takes the lock for this run (no lock in check mode).
      - V(unlock) breaks the lock given its O(lock_id) (refused without it, and when the id does not match).
      - V(history) returns the last O(last) ledger records of the deployment.
      - V(deployments) lists every deployment that has state in the container.
    type: str
    choices: [lock, unlock, history, deployments]
    default: lock
  lock_id:
    description:
      - The id of the lock to break with O(operation=unlock), as shown in the refusal of the run that found it.
    type: str
  last:
    description: How many of the newest ledger records O(operation=history) returns.
    type: int
    default: 10
  mode:
    description:
      - V(required) takes the lock (and fails when the state storage account does not exist).
      - V(off) runs without a lock and without a ledger record (for throw-away test subscriptions only).
    type: str
    choices: [required, "off"]
    default: required
  state_account:
    description: The state storage account; default C(stcfstate<suffix>), the suffix derived from the subscription.
    type: str
  state_resource_group:
    description: The resource group of the state storage account.
    type: str
    default: rg-cf-state
  container:
    description: The blob container that holds the deployments' state.
    type: str
    default: deployments
extends_documentation_fragment:
  - complianceflow.azure_infra.azure_auth
attributes:
  check_mode:
    support: full
    description: Takes no lock and breaks none; O(operation=unlock) reports what it would break.
  diff_mode:
    support: none
    description: Nothing to diff.
  action:
    support: full
    description: Runs on the controller as an action plugin.
notes:
  - Azure Blob leases, as documented in the Lease Blob operation of the Blob service REST API.
author:
  - ComplianceFlow platform engineering (@complianceflow)
"""

EXAMPLES = r"""
- name: Take the deployment's lock for this run (released by the run_summary callback at the end)
  complianceflow.azure_infra.deployment_lock:
    deployment: "{{ inventory_hostname }}"

- name: Break a stale lock (the holder was killed)
  complianceflow.azure_infra.deployment_lock:
    deployment: westeu-test-1
    operation: unlock
    lock_id: 0b5f3c1e-8a53-4d1b-9d3e-2f6a1c9e7b42

- name: The last five runs
  complianceflow.azure_infra.deployment_lock:
    deployment: westeu-test-1
    operation: history
    last: 5
  register: history
"""

RETURN = r"""
locked:
  description: Whether this task took the lock.
  returned: operation=lock
  type: bool
lock_id:
  description: The lock id (lease id) this run holds.
  returned: when the lock was taken
  type: str
holder:
  description: Who holds (or held) the lock, from the lock blob's metadata.
  returned: when a lock was taken or broken
  type: dict
  sample: {lockid: 0b5f3c1e-8a53-4d1b-9d3e-2f6a1c9e7b42, who: alice, host: laptop, since: "2026-11-30T22:40:00Z",
           playbook: site.yml}
state_store:
  description: Where the deployment's state lives (blob endpoint, container, deployment, account id).
  returned: success
  type: dict
records:
  description: The newest ledger records, oldest first.
  returned: operation=history
  type: list
  elements: dict
deployments:
  description: Every deployment with state in the container.
  returned: operation=deployments
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.complianceflow.azure_infra.plugins.module_utils.deployment_state import LOCK_ARGUMENT_SPEC


def main() -> None:
    module = AnsibleModule(argument_spec=LOCK_ARGUMENT_SPEC, supports_check_mode=True)
    module.fail_json(msg="complianceflow.azure_infra.deployment_lock runs on the controller (action plugin)")


if __name__ == "__main__":
    main()
