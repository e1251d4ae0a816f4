#!/usr/bin/python
# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: resource_group_info
short_description: Read Azure resource groups and their management locks
version_added: 0.1.0
description:
  - Reads one resource group (with its locks) or lists the subscription's groups, optionally filtered by tags.
options:
  name:
    description: Group to read; omit to list every group.
    type: str
  tags:
    description: With no O(name), only groups carrying all these tags.
    type: dict
  list_locks:
    description: With O(name), also read the group's management locks.
    type: bool
    default: true
extends_documentation_fragment:
  - complianceflow.azure_infra.azure_auth
  - complianceflow.azure_infra.attributes.info_module
author:
  - ComplianceFlow platform engineering (@complianceflow)
"""

EXAMPLES = r"""
- name: Read the production group and its locks
  complianceflow.azure_infra.resource_group_info:
    name: rg-cf-westeu-prod-1
  register: rg

- name: Every ComplianceFlow group
  complianceflow.azure_infra.resource_group_info:
    tags:
      application: complianceflow
"""

RETURN = r"""
exists:
  description: With O(name), whether the group exists.
  returned: when O(name) is given
  type: bool
resource_group:
  description: The group as Azure returns it; empty when absent.
  returned: when O(name) is given
  type: dict
locks:
  description: Management locks defined on the group itself.
  returned: when O(name) is given and O(list_locks=true)
  type: list
  elements: dict
resource_groups:
  description: The groups, when no O(name) is given.
  returned: when O(name) is not given
  type: list
  elements: dict
"""

from ansible_collections.complianceflow.azure_infra.plugins.module_utils.azure_module import AzureModule
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.resource_types import api_version

RESOURCES = api_version("Microsoft.Resources/resourceGroups")
LOCKS = api_version("Microsoft.Authorization/locks")


def main() -> None:
    az = AzureModule(
        argument_spec={
            "name": {"type": "str"},
            "tags": {"type": "dict"},
            "list_locks": {"type": "bool", "default": True},
        },
    )
    params = az.params
    if not params["name"]:
        groups = az.call(az.client.list, f"/subscriptions/{az.subscription_id}/resourcegroups", RESOURCES)
        wanted = {str(k): str(v) for k, v in (params["tags"] or {}).items()}
        groups = [g for g in groups if all((g.get("tags") or {}).get(k) == v for k, v in wanted.items())]
        az.exit(changed=False, resource_groups=groups)
    rg_id = az.rg_id(params["name"])
    group = az.call(az.client.get, rg_id, RESOURCES)
    result = {"changed": False, "exists": group is not None, "resource_group": group or {}}
    if params["list_locks"]:
        locks = []
        if group is not None:
            own_prefix = rg_id.lower() + "/providers/microsoft.authorization/"
            locks = [lock for lock in az.call(az.client.list, f"{rg_id}/providers/Microsoft.Authorization/locks",
                                              LOCKS)
                     if str(lock.get("id", "")).lower().startswith(own_prefix)]
        result["locks"] = locks
    az.exit(**result)


if __name__ == "__main__":
    main()
