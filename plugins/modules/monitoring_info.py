#!/usr/bin/python
# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Ansible modules keep imports below DOCUMENTATION/EXAMPLES/RETURN by convention.
# ruff: noqa: E402

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
attributes:
  check_mode:
    support: full
    description: Read-only; runs the same in check mode.
  diff_mode:
    support: none
    description: Read-only; nothing to diff.
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

COLLECTIONS = {
    "workspaces": ("Microsoft.OperationalInsights/workspaces", "2023-09-01"),
    "components": ("Microsoft.Insights/components", "2020-02-02"),
    "action_groups": ("Microsoft.Insights/actionGroups", "2023-01-01"),
    "metric_alerts": ("Microsoft.Insights/metricAlerts", "2018-03-01"),
    "log_alerts": ("Microsoft.Insights/scheduledQueryRules", "2023-03-15-preview"),
}
DIAGNOSTICS_API = "2021-05-01-preview"
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
        for key, (rtype, api) in COLLECTIONS.items():
            result[key] = az.call(az.client.list, f"{group}/providers/{rtype}", api)
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
        result["budgets"] = az.call(az.client.list, f"{scope}/providers/Microsoft.Consumption/budgets", "2023-05-01")
        result["policy_assignments"] = az.call(
            az.client.list, f"{scope}/providers/Microsoft.Authorization/policyAssignments", "2023-04-01")
    az.exit(**result)


if __name__ == "__main__":
    main()
