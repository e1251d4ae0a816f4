#!/usr/bin/python
# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Ansible modules keep imports below DOCUMENTATION/EXAMPLES/RETURN by convention.
# ruff: noqa: E402

from __future__ import annotations

DOCUMENTATION = r"""
module: policy_definition
short_description: Manage a custom Azure Policy definition
version_added: 0.1.0
description:
  - Ensures a custom policy definition at a subscription (default) or management group scope.
  - The rule and the parameter declarations are compared as a whole; built-in definitions cannot be managed.
options:
  name:
    description: Definition name (at most 64 characters, none of C(<>*%&:\?+/)).
    type: str
    required: true
  management_group:
    description: Management group that holds the definition; omit for the credentials' subscription.
    type: str
  display_name:
    description: Display name.
    type: str
  description:
    description: Description.
    type: str
  mode:
    description: V(Indexed) evaluates only types with tags and location; V(All) every type.
    type: str
    default: Indexed
  metadata:
    description: Metadata (for example C(category)).
    type: dict
  parameters:
    description: Parameter declarations, as in Azure's policy definition schema.
    type: dict
    default: {}
  policy_rule:
    description: The policy rule (C(if) / C(then)). Required for O(state=present).
    type: dict
  state:
    description: Whether the definition should exist.
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
- name: Deny Premium Redis
  complianceflow.azure_infra.policy_definition:
    name: pd-deny-premium-redis
    display_name: Deny Premium Redis
    policy_rule:
      if:
        allOf:
          - field: type
            equals: Microsoft.Cache/Redis
          - field: Microsoft.Cache/Redis/sku.name
            equals: Premium
      then:
        effect: deny
"""

RETURN = r"""
id:
  description: Resource ID of the definition.
  returned: always
  type: str
policy_definition:
  description: The definition as Azure returns it (predicted in check mode); empty when absent.
  returned: always
  type: dict
"""

import copy
from typing import Any

from ansible_collections.complianceflow.azure_infra.plugins.module_utils import reconcile as rec
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.azure_module import AzureModule

API_VERSION = "2023-04-01"


def main() -> None:
    az = AzureModule(
        argument_spec={
            "name": {"type": "str", "required": True},
            "management_group": {"type": "str"},
            "display_name": {"type": "str"},
            "description": {"type": "str"},
            "mode": {"type": "str", "default": "Indexed"},
            "metadata": {"type": "dict"},
            "parameters": {"type": "dict", "default": {}},
            "policy_rule": {"type": "dict"},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
        },
        required_if=[("state", "present", ("policy_rule",))],
    )
    params = az.params
    scope = (f"/providers/Microsoft.Management/managementGroups/{params['management_group']}"
             if params["management_group"] else f"/subscriptions/{az.subscription_id}")
    definition_id = f"{scope}/providers/Microsoft.Authorization/policyDefinitions/{params['name']}"
    if params["state"] == "absent":
        az.ensure_absent(definition_id, API_VERSION, label="policy_definition")
        az.exit(id=definition_id, policy_definition={})
    properties: dict[str, Any] = {"policyType": "Custom", "mode": params["mode"],
                                  "parameters": params["parameters"], "policyRule": params["policy_rule"]}
    for option, field in (("display_name", "displayName"), ("description", "description"), ("metadata", "metadata")):
        if params[option] is not None:
            properties[field] = params[option]
    actual = az.call(az.client.get, definition_id, API_VERSION)
    compared = actual
    if actual is not None:
        current = actual.get("properties") or {}
        # The rule and parameters are compared whole, both ways: a condition removed from the task is a change
        # that a partial compare misses, and the engine's merge would keep it in the PUT. Hiding the current value
        # from the engine makes it both see the change and send the task's value as it is.
        whole = [key for key in ("policyRule", "parameters")
                 if rec.differences(properties[key], current.get(key))
                 or rec.differences(current.get(key) or {}, properties[key])]
        if whole:
            compared = copy.deepcopy(actual)
            for key in whole:
                compared["properties"].pop(key, None)
    result = az.reconcile(definition_id, API_VERSION, {"properties": properties}, label="policy_definition",
                          actual=compared, fetch=False)
    az.exit(id=result["id"], policy_definition=result["resource"])


if __name__ == "__main__":
    main()
