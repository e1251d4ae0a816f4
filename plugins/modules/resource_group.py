#!/usr/bin/python
# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

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
extends_documentation_fragment:
  - complianceflow.azure_infra.azure_auth
  - complianceflow.azure_infra.tags
  - complianceflow.azure_infra.state
  - complianceflow.azure_infra.attributes
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

from ansible_collections.complianceflow.azure_infra.plugins.module_utils import args_common
from ansible_collections.complianceflow.azure_infra.plugins.module_utils import reconcile as rec
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.azure_module import AzureModule
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.resource_types import api_version

TYPE = "Microsoft.Resources/resourceGroups"
LOCK = "Microsoft.Authorization/locks"


def main() -> None:
    az = AzureModule(args_common.argument_spec(
        args_common.TAGS, args_common.STATE,
        name={"type": "str", "required": True},
        location={"type": "str"},
        lock={"type": "dict", "options": {
            "name": {"type": "str", "required": True},
            "level": {"type": "str", "choices": ["CanNotDelete", "ReadOnly"], "default": "CanNotDelete"},
            "notes": {"type": "str"},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
        }},
        force_remove_lock={"type": "bool", "default": False},
    ))
    params = az.params
    rg_id = az.rg_id(params["name"])
    if params["state"] == "absent" and params["force_remove_lock"]:
        locks = az.call(az.client.list, f"{rg_id}/providers/{LOCK}", api_version(LOCK)) if az.call(
            az.client.get, rg_id, api_version(TYPE)) is not None else []
        for lock in locks:
            # The list also shows locks inherited from the subscription; those are not ours to remove.
            if str(lock.get("id", "")).lower().startswith(rg_id.lower() + "/"):
                az.ensure_absent(lock["id"], LOCK, label=f"lock {lock.get('name')}", actual=lock, fetch=False)
    result = az.ensure(rg_id, TYPE, {"location": params["location"], **az.tags_body()}, label="resource_group")
    output = {"id": result["id"], "resource_group": result["resource"]}
    lock = params["lock"]
    if lock and params["state"] == "present":
        lock_id = f"{rg_id}/providers/{LOCK}/{lock['name']}"
        group_exists = result["differences"] != ["(create)"]
        if lock["state"] == "absent":
            if group_exists:
                az.ensure_absent(lock_id, LOCK, label="lock")
            output["lock"] = {}
        else:
            desired = {"properties": {"level": lock["level"], "notes": lock["notes"]}}
            output["lock"] = az.ensure_present(lock_id, LOCK, rec.compact(desired), label="lock",
                                               actual=None if not group_exists else ...)["resource"]
    az.exit(**output)


if __name__ == "__main__":
    main()
