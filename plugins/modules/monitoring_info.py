#!/usr/bin/python
# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: monitoring_info
short_description: Read a deployment's monitoring and guardrail resources
version_added: 0.1.0
description:
  - Lists the Log Analytics workspaces, Application Insights components (without keys or connection strings),
    action groups, metric alerts and log alerts of a resource group; the diagnostic settings of given resources;
    and the budgets and policy assignments of a scope. It never writes.
options:
  resource_group:
    description: Resource group whose monitoring resources are listed.
    type: str
  diagnostic_targets:
    description: Resource IDs whose diagnostic settings are read.
    type: list
    elements: str
    default: []
  scope:
    description: Resource ID of the subscription or resource group whose budgets and policy assignments are listed.
    type: str
extends_documentation_fragment:
  - complianceflow.azure_infra.azure_auth
  - complianceflow.azure_infra.attributes.info_module
author:
  - ComplianceFlow platform engineering (@complianceflow)
"""

EXAMPLES = r"""
- name: Everything monitoring-related of a deployment
  complianceflow.azure_infra.monitoring_info:
    resource_group: "{{ deployment.resource_group }}"
    scope: "{{ deployment.resource_group_id }}"
    diagnostic_targets:
      - "{{ deployment.ids.key_vault }}"
  register: monitoring
"""

RETURN = r"""
workspaces:
  description: Log Analytics workspaces of O(resource_group).
  returned: when O(resource_group) is given
  type: list
  elements: dict
components:
  description: Application Insights components of O(resource_group), without instrumentation key and connection string.
  returned: when O(resource_group) is given
  type: list
  elements: dict
action_groups:
  description: Action groups of O(resource_group).
  returned: when O(resource_group) is given
  type: list
  elements: dict
metric_alerts:
  description: Metric alert rules of O(resource_group).
  returned: when O(resource_group) is given
  type: list
  elements: dict
log_alerts:
  description: Log search alert rules (scheduledQueryRules) of O(resource_group).
  returned: when O(resource_group) is given
  type: list
  elements: dict
diagnostic_settings:
  description: Diagnostic settings per target resource ID (as given); a target that does not exist maps to null.
  returned: always
  type: dict
budgets:
  description: Budgets at O(scope).
  returned: when O(scope) is given
  type: list
  elements: dict
policy_assignments:
  description: Policy assignments that apply at O(scope) (Azure lists those inherited from above too).
  returned: when O(scope) is given
  type: list
  elements: dict
"""

from typing import Any

from ansible_collections.complianceflow.azure_infra.plugins.module_utils.arm_client import AzureApiError
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.azure_module import AzureModule
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.resource_types import api_version

COLLECTIONS = {
    "workspaces": "Microsoft.OperationalInsights/workspaces",
    "components": "Microsoft.Insights/components",
    "action_groups": "Microsoft.Insights/actionGroups",
    "metric_alerts": "Microsoft.Insights/metricAlerts",
    "log_alerts": "Microsoft.Insights/scheduledQueryRules",
}
DIAGNOSTICS_API = api_version("Microsoft.Insights/diagnosticSettings")
SENSITIVE = ("InstrumentationKey", "ConnectionString")


def main() -> None:
    az = AzureModule(
        argument_spec={
            "resource_group": {"type": "str"},
            "diagnostic_targets": {"type": "list", "elements": "str", "default": []},
            "scope": {"type": "str"},
        },
    )
    params = az.params
    result: dict[str, Any] = {"changed": False, "diagnostic_settings": {}}
    if params["resource_group"]:
        group = az.rg_id(params["resource_group"])
        for key, rtype in COLLECTIONS.items():
            result[key] = az.call(az.client.list, f"{group}/providers/{rtype}", api_version(rtype))
        result["components"] = [
            {**c, "properties": {k: v for k, v in (c.get("properties") or {}).items() if k not in SENSITIVE}}
            for c in result["components"]]
    for target in params["diagnostic_targets"]:
        try:
            settings: list[dict[str, Any]] | None = az.client.list(
                f"{target.rstrip('/')}/providers/Microsoft.Insights/diagnosticSettings", DIAGNOSTICS_API)
        except AzureApiError as exc:
            if exc.status != 404:
                az.fail(exc)
            settings = None  # the target itself does not exist
        result["diagnostic_settings"][target] = settings
    if params["scope"]:
        scope = params["scope"].rstrip("/")
        result["budgets"] = az.call(
            az.client.list, f"{scope}/providers/Microsoft.Consumption/budgets", api_version("Microsoft.Consumption/budgets"))
        result["policy_assignments"] = az.call(
            az.client.list, f"{scope}/providers/Microsoft.Authorization/policyAssignments",
            api_version("Microsoft.Authorization/policyAssignments"))
    az.exit(**result)


if __name__ == "__main__":
    main()
