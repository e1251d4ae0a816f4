#!/usr/bin/python
# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: diagnostic_setting
short_description: Manage an Azure Monitor diagnostic setting on any resource
version_added: 0.1.0
description:
  - Ensures a diagnostic setting (an extension resource) on the resource O(resource_id), sending the chosen log
    categories or category groups and metric categories to a Log Analytics workspace, a storage account or an
    event hub.
  - Which categories exist is the target type's rule; Azure refuses unknown ones and the task fails with its message.
  - The logs and metrics lists are the whole set; a category not listed is not sent. Their order does not matter.
options:
  resource_id:
    description: Resource ID of the resource whose logs and metrics are exported.
    type: str
    required: true
  name:
    description: Name of the diagnostic setting.
    type: str
    required: true
  workspace_id:
    description: Resource ID of the Log Analytics workspace destination.
    type: str
  log_analytics_destination_type:
    description: V(Dedicated) writes resource-specific tables where the type has them; omit for AzureDiagnostics.
    type: str
    choices: [Dedicated, AzureDiagnostics]
  storage_account_id:
    description: Resource ID of a storage account destination.
    type: str
  event_hub_authorization_rule_id:
    description: Resource ID of an Event Hubs namespace authorization rule destination.
    type: str
  event_hub_name:
    description: Event hub name (with O(event_hub_authorization_rule_id)); omit for one hub per category.
    type: str
  logs:
    description: Log categories or category groups to send.
    type: list
    elements: dict
    default: []
    suboptions:
      category:
        description: A log category (for example V(AuditEvent)). Give this or O(logs[].category_group).
        type: str
      category_group:
        description: A category group (V(allLogs), V(audit)).
        type: str
      enabled:
        description: Whether it is sent.
        type: bool
        default: true
  metrics:
    description: Metric categories to send (V(AllMetrics) on most types).
    type: list
    elements: dict
    default: []
    suboptions:
      category:
        description: The metric category.
        type: str
        required: true
      enabled:
        description: Whether it is sent.
        type: bool
        default: true
extends_documentation_fragment:
  - complianceflow.azure_infra.azure_auth
  - complianceflow.azure_infra.state
  - complianceflow.azure_infra.attributes
author:
  - ComplianceFlow platform engineering (@complianceflow)
"""

EXAMPLES = r"""
- name: Key Vault audit events and metrics to the deployment's workspace
  complianceflow.azure_infra.diagnostic_setting:
    resource_id: "{{ deployment.ids.key_vault }}"
    name: diag-cf-westeu-test-1
    workspace_id: "{{ deployment.ids.log_analytics_workspace }}"
    logs:
      - category: AuditEvent
    metrics:
      - category: AllMetrics
"""

RETURN = r"""
id:
  description: Resource ID of the diagnostic setting.
  returned: always
  type: str
diagnostic_setting:
  description: The setting as Azure returns it (predicted in check mode); empty when absent.
  returned: always
  type: dict
"""

from typing import Any

from ansible_collections.complianceflow.azure_infra.plugins.module_utils import args_common
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.azure_module import AzureModule

TYPE = "Microsoft.Insights/diagnosticSettings"


def main() -> None:
    az = AzureModule(args_common.argument_spec(
        args_common.STATE,
        resource_id={"type": "str", "required": True},
        name={"type": "str", "required": True},
        workspace_id={"type": "str"},
        log_analytics_destination_type={"type": "str", "choices": ["Dedicated", "AzureDiagnostics"]},
        storage_account_id={"type": "str"},
        event_hub_authorization_rule_id={"type": "str"},
        event_hub_name={"type": "str"},
        logs={"type": "list", "elements": "dict", "default": [], "options": {
            "category": {"type": "str"},
            "category_group": {"type": "str"},
            "enabled": {"type": "bool", "default": True},
        }, "mutually_exclusive": [["category", "category_group"]], "required_one_of": [["category", "category_group"]]},
        metrics={"type": "list", "elements": "dict", "default": [], "options": {
            "category": {"type": "str", "required": True},
            "enabled": {"type": "bool", "default": True},
        }},
    ), required_if=[("state", "present", ("workspace_id", "storage_account_id", "event_hub_authorization_rule_id"),
                     True)])
    params = az.params
    setting_id = f"{params['resource_id'].rstrip('/')}/providers/{TYPE}/{params['name']}"
    # The registry keys log entries by category group or category and metrics by category: order does not matter.
    properties: dict[str, Any] = {
        "logs": [{"categoryGroup": e["category_group"], "enabled": e["enabled"]} if e["category_group"]
                 else {"category": e["category"], "enabled": e["enabled"]} for e in params["logs"]],
        "metrics": [{"category": e["category"], "enabled": e["enabled"]} for e in params["metrics"]],
    }
    for option, field in (("workspace_id", "workspaceId"), ("storage_account_id", "storageAccountId"),
                          ("event_hub_authorization_rule_id", "eventHubAuthorizationRuleId"),
                          ("event_hub_name", "eventHubName"),
                          ("log_analytics_destination_type", "logAnalyticsDestinationType")):
        if params[option]:
            properties[field] = params[option]
    result = az.ensure(setting_id, TYPE, {"properties": properties}, label="diagnostic_setting")
    az.exit(id=result["id"], diagnostic_setting=result["resource"])


if __name__ == "__main__":
    main()
