#!/usr/bin/python
# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: policy_assignment
short_description: Manage an Azure Policy assignment at any scope
version_added: 0.1.0
description:
  - Ensures a policy assignment of a built-in or custom definition at a scope (management group, subscription,
    resource group or resource), with its parameter values and enforcement mode.
  - Parameter values are the whole set; a parameter not given takes the definition's default.
options:
  scope:
    description: Resource ID of the scope (for example the resource group's ID).
    type: str
    required: true
  name:
    description: Assignment name (at most 64 characters at resource group scope, 24 at management group scope).
    type: str
    required: true
  policy_definition_id:
    description: ID of the policy definition (or set definition). Required for O(state=present).
    type: str
  display_name:
    description: Display name.
    type: str
  description:
    description: Description.
    type: str
  parameters:
    description: Parameter values by name (plain values; the module wraps each in the C(value) object Azure expects).
    type: dict
    default: {}
  enforcement_mode:
    description: V(Default) enforces (deny effects refuse requests); V(DoNotEnforce) only evaluates.
    type: str
    choices: [Default, DoNotEnforce]
    default: Default
  not_scopes:
    description: Scopes excluded from the assignment.
    type: list
    elements: str
    default: []
  non_compliance_message:
    description: Message shown when a request is denied.
    type: str
extends_documentation_fragment:
  - complianceflow.azure_infra.azure_auth
  - complianceflow.azure_infra.state
  - complianceflow.azure_infra.attributes
author:
  - ComplianceFlow platform engineering (@complianceflow)
"""

EXAMPLES = r"""
- name: Require the costCenter tag on every resource of the group
  complianceflow.azure_infra.policy_assignment:
    scope: "{{ deployment.resource_group_id }}"
    name: pa-cf-westeu-test-1-require-tag-costcenter
    policy_definition_id: /providers/Microsoft.Authorization/policyDefinitions/871b6d14-10aa-478d-b590-94f262ecfa99
    parameters:
      tagName: costCenter
"""

RETURN = r"""
id:
  description: Resource ID of the assignment.
  returned: always
  type: str
policy_assignment:
  description: The assignment as Azure returns it (predicted in check mode); empty when absent.
  returned: always
  type: dict
"""

from typing import Any

from ansible_collections.complianceflow.azure_infra.plugins.module_utils import args_common
from ansible_collections.complianceflow.azure_infra.plugins.module_utils import reconcile as rec
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.azure_module import AzureModule

TYPE = "Microsoft.Authorization/policyAssignments"


def main() -> None:
    az = AzureModule(args_common.argument_spec(
        args_common.STATE,
        scope={"type": "str", "required": True},
        name={"type": "str", "required": True},
        policy_definition_id={"type": "str"},
        display_name={"type": "str"},
        description={"type": "str"},
        parameters={"type": "dict", "default": {}},
        enforcement_mode={"type": "str", "choices": ["Default", "DoNotEnforce"], "default": "Default"},
        not_scopes={"type": "list", "elements": "str", "default": []},
        non_compliance_message={"type": "str"},
    ), required_if=[("state", "present", ("policy_definition_id",))])
    params = az.params
    assignment_id = f"{params['scope'].rstrip('/')}/providers/{TYPE}/{params['name']}"
    properties: dict[str, Any] = {
        # The parameter map is compared exactly (registry): a value the task no longer gives goes back to the
        # definition's default.
        "policyDefinitionId": params["policy_definition_id"],
        "parameters": {key: {"value": value} for key, value in params["parameters"].items()},
        "enforcementMode": params["enforcement_mode"], "notScopes": params["not_scopes"],
        "displayName": params["display_name"], "description": params["description"],
    }
    if params["non_compliance_message"] is not None:
        properties["nonComplianceMessages"] = [{"message": params["non_compliance_message"]}]
    result = az.ensure(assignment_id, TYPE, {"properties": rec.compact(properties)}, label="policy_assignment")
    az.exit(id=result["id"], policy_assignment=result["resource"])


if __name__ == "__main__":
    main()
