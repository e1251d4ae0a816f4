#!/usr/bin/python
# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

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
extends_documentation_fragment:
  - complianceflow.azure_infra.azure_auth
  - complianceflow.azure_infra.state
  - complianceflow.azure_infra.attributes
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

from ansible_collections.complianceflow.azure_infra.plugins.module_utils import args_common
from ansible_collections.complianceflow.azure_infra.plugins.module_utils import reconcile as rec
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.azure_module import AzureModule
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.resource_types import api_version

TYPE = "Microsoft.Authorization/policyDefinitions"


def main() -> None:
    az = AzureModule(args_common.argument_spec(
        args_common.STATE,
        name={"type": "str", "required": True},
        management_group={"type": "str"},
        display_name={"type": "str"},
        description={"type": "str"},
        mode={"type": "str", "default": "Indexed"},
        metadata={"type": "dict"},
        parameters={"type": "dict", "default": {}},
        policy_rule={"type": "dict"},
    ), required_if=[("state", "present", ("policy_rule",))])
    params = az.params
    scope = (f"/providers/Microsoft.Management/managementGroups/{params['management_group']}"
             if params["management_group"] else f"/subscriptions/{az.subscription_id}")
    definition_id = f"{scope}/providers/{TYPE}/{params['name']}"
    if params["state"] == "absent":
        result = az.ensure(definition_id, TYPE, {}, label="policy_definition")
        az.exit(id=result["id"], policy_definition=result["resource"])
    properties: dict[str, Any] = {"policyType": "Custom", "mode": params["mode"],
                                  "parameters": params["parameters"], "policyRule": params["policy_rule"]}
    for option, field in (("display_name", "displayName"), ("description", "description"), ("metadata", "metadata")):
        if params[option] is not None:
            properties[field] = params[option]
    actual = az.call(az.client.get, definition_id, api_version(TYPE))
    compared = actual
    if actual is not None:
        current = actual.get("properties") or {}
        # The rule and parameter declarations are compared whole, at every depth (the registry's exact map covers
        # only the parameter names): a condition removed from the task is a change that a partial compare misses,
        # and a merge would keep it in the PUT. Hiding the current value makes the skeleton see the change and
        # send the task's value as it is.
        whole = [key for key in ("policyRule", "parameters")
                 if rec.differences(properties[key], current.get(key))
                 or rec.differences(current.get(key) or {}, properties[key])]
        if whole:
            compared = copy.deepcopy(actual)
            for key in whole:
                compared["properties"].pop(key, None)
    result = az.ensure_present(definition_id, TYPE, {"properties": properties}, label="policy_definition",
                               actual=compared)
    az.exit(id=result["id"], policy_definition=result["resource"])


if __name__ == "__main__":
    main()
