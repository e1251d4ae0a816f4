#!/usr/bin/python
# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Ansible modules keep imports below DOCUMENTATION/EXAMPLES/RETURN by convention.
# ruff: noqa: E402

from __future__ import annotations

DOCUMENTATION = r"""
module: resource_group
short_description: Create, update or delete an Azure resource group and its management lock
version_added: 0.1.0
description:
  - Ensures a resource group exists with the given location and tags, optionally protected by a management
    lock, or deletes it (waiting for the deletion to finish).
  - Only what the task declares is compared; tags set by others are kept.
options:
  name:
    description: Resource group name.
    type: str
    required: true
  location:
    description:
      - Azure region, as a name (V(westeurope)) or display name (V(West Europe)). Required to create.
      - The location of an existing group cannot change.
    type: str
  tags:
    description: Tags the group must carry. Other tags already on the group are kept.
    type: dict
  lock:
    description:
      - A management lock on the group. Omit to leave locks alone.
    type: dict
    suboptions:
      name:
        description: Lock name.
        type: str
        required: true
      level:
        description: V(CanNotDelete) blocks deletion; V(ReadOnly) blocks every write.
        type: str
        choices: [CanNotDelete, ReadOnly]
        default: CanNotDelete
      notes:
        description: Why the lock exists.
        type: str
      state:
        description: V(absent) removes the named lock.
        type: str
        choices: [present, absent]
        default: present
  force_remove_lock:
    description:
      - With O(state=absent), first delete every management lock in the group (which otherwise makes Azure
        refuse the deletion with C(ScopeLocked)).
    type: bool
    default: false
  state:
    description: Whether the group should exist.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - complianceflow.azure_infra.azure_auth
attributes:
  check_mode:
    support: full
    description: Reports what would change and writes nothing.
  diff_mode:
    support: full
    description: Shows before/after of what differs.
author:
  - ComplianceFlow platform engineering (@complianceflow)
"""

EXAMPLES = r"""
- name: Resource group with tags and a delete lock
  complianceflow.azure_infra.resource_group:
    name: rg-cf-westeu-prod-1
    location: westeurope
    tags:
      deployment: westeu-prod-1
      environment: prod
    lock:
      name: cf-protect
      level: CanNotDelete
      notes: Production deployment; use playbooks/destroy.yml

- name: Delete a group, removing its locks first
  complianceflow.azure_infra.resource_group:
    name: rg-cf-westeu-test-1
    state: absent
    force_remove_lock: true
"""

RETURN = r"""
id:
  description: Resource ID of the group.
  returned: always
  type: str
  sample: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-cf-westeu-test-1
resource_group:
  description: The group as Azure returns it (predicted in check mode); empty when absent.
  returned: always
  type: dict
lock:
  description: The lock as Azure returns it, when O(lock) is given and present.
  returned: when O(lock) is given
  type: dict
"""

from ansible_collections.complianceflow.azure_infra.plugins.module_utils import api_versions
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.azure_module import AzureModule, tags_body

LOCK_API = api_versions.LOCKS


def main() -> None:
    az = AzureModule(
        argument_spec={
            "name": {"type": "str", "required": True},
            "location": {"type": "str"},
            "tags": {"type": "dict"},
            "lock": {"type": "dict", "options": {
                "name": {"type": "str", "required": True},
                "level": {"type": "str", "choices": ["CanNotDelete", "ReadOnly"], "default": "CanNotDelete"},
                "notes": {"type": "str"},
                "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
            }},
            "force_remove_lock": {"type": "bool", "default": False},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
        },
    )
    params = az.params
    rg_id = az.rg_id(params["name"])
    actual = az.call(az.client.get, rg_id, api_versions.RESOURCES)

    if params["state"] == "absent":
        if actual is not None and params["force_remove_lock"]:
            locks = az.call(az.client.list, f"{rg_id}/providers/Microsoft.Authorization/locks", LOCK_API)
            for lock in locks:
                # The list also shows locks inherited from the subscription; those are not ours to remove.
                if str(lock.get("id", "")).lower().startswith(rg_id.lower() + "/"):
                    az.ensure_absent(lock["id"], LOCK_API, label=f"lock {lock.get('name')}", actual=lock, fetch=False)
        az.ensure_absent(rg_id, api_versions.RESOURCES, label="resource_group", actual=actual, fetch=False)
        az.exit(id=rg_id, resource_group={})

    if actual is None and not params["location"]:
        az.module.fail_json(msg=f"location is required to create resource group {params['name']}")
    desired = {"location": params["location"] or actual["location"], **tags_body(params["tags"])}
    if actual is not None and params["location"] and \
            params["location"].replace(" ", "").lower() != str(actual.get("location", "")).lower():
        az.module.fail_json(msg=f"resource group {rg_id} is in {actual.get('location')}; a group cannot move to "
                                f"{params['location']}", error={"code": "InvalidResourceGroupLocation"})
    result = az.reconcile(rg_id, api_versions.RESOURCES, desired, label="resource_group", actual=actual, fetch=False)

    lock_result = None
    if params["lock"]:
        lock = params["lock"]
        lock_id = f"{rg_id}/providers/Microsoft.Authorization/locks/{lock['name']}"
        if lock["state"] == "absent":
            if actual is not None:
                az.ensure_absent(lock_id, LOCK_API, label="lock")
        else:
            lock_desired = {"properties": {"level": lock["level"]}}
            if lock["notes"] is not None:
                lock_desired["properties"]["notes"] = lock["notes"]
            existing = az.call(az.client.get, lock_id, LOCK_API) if actual is not None else None
            lock_result = az.reconcile(lock_id, LOCK_API, lock_desired, label="lock", actual=existing,
                                       fetch=False)["resource"]
    output = {"id": result["id"], "resource_group": result["resource"]}
    if params["lock"]:
        output["lock"] = lock_result or {}
    az.exit(**output)


if __name__ == "__main__":
    main()
