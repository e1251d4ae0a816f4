#!/usr/bin/python
# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Ansible modules keep imports below DOCUMENTATION/EXAMPLES/RETURN by convention.
# ruff: noqa: E402

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
  state:
    description: Whether the setting should exist.
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

from ansible_collections.complianceflow.azure_infra.plugins.module_utils.azure_module import AzureModule

API_VERSION = "2021-05-01-preview"


def category_set(entries: list[dict[str, Any]] | None) -> set[tuple[str, str]]:
    """What a logs/metrics list means: the enabled (kind, name) pairs. Order and disabled entries do not matter
    (a disabled category is not sent, exactly like an absent one)."""
    found = set()
    for entry in entries or []:
        if not entry.get("enabled"):
            continue
        if entry.get("categoryGroup"):
            found.add(("group", str(entry["categoryGroup"]).lower()))
        elif entry.get("category"):
            found.add(("category", str(entry["category"]).lower()))
    return found


def main() -> None:
    az = AzureModule(
        argument_spec={
            "resource_id": {"type": "str", "required": True},
            "name": {"type": "str", "required": True},
            "workspace_id": {"type": "str"},
            "log_analytics_destination_type": {"type": "str", "choices": ["Dedicated", "AzureDiagnostics"]},
            "storage_account_id": {"type": "str"},
            "event_hub_authorization_rule_id": {"type": "str"},
            "event_hub_name": {"type": "str"},
            "logs": {"type": "list", "elements": "dict", "default": [], "options": {
                "category": {"type": "str"},
                "category_group": {"type": "str"},
                "enabled": {"type": "bool", "default": True},
            }, "mutually_exclusive": [["category", "category_group"]],
                "required_one_of": [["category", "category_group"]]},
            "metrics": {"type": "list", "elements": "dict", "default": [], "options": {
                "category": {"type": "str", "required": True},
                "enabled": {"type": "bool", "default": True},
            }},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
        },
        required_if=[("state", "present", ("workspace_id", "storage_account_id", "event_hub_authorization_rule_id"),
                      True)],
    )
    params = az.params
    setting_id = f"{params['resource_id'].rstrip('/')}/providers/Microsoft.Insights/diagnosticSettings/{params['name']}"
    if params["state"] == "absent":
        az.ensure_absent(setting_id, API_VERSION, label="diagnostic_setting")
        az.exit(id=setting_id, diagnostic_setting={})
    logs = [{"categoryGroup": e["category_group"], "enabled": e["enabled"]} if e["category_group"]
            else {"category": e["category"], "enabled": e["enabled"]} for e in params["logs"]]
    metrics = [{"category": e["category"], "enabled": e["enabled"]} for e in params["metrics"]]
    properties: dict[str, Any] = {"logs": logs, "metrics": metrics}
    for option, field in (("workspace_id", "workspaceId"), ("storage_account_id", "storageAccountId"),
                          ("event_hub_authorization_rule_id", "eventHubAuthorizationRuleId"),
                          ("event_hub_name", "eventHubName"),
                          ("log_analytics_destination_type", "logAnalyticsDestinationType")):
        if params[option]:
            properties[field] = params[option]
    actual = az.call(az.client.get, setting_id, API_VERSION)
    if actual is not None:
        current = actual.get("properties") or {}
        # Same categories in another order: compare with Azure's order so that only a real change writes.
        for key, wanted in (("logs", logs), ("metrics", metrics)):
            if category_set(current.get(key)) == category_set(wanted):
                properties[key] = [{k: v for k, v in entry.items() if k in ("category", "categoryGroup", "enabled")
                                    and v is not None} for entry in current.get(key) or []]
    result = az.reconcile(setting_id, API_VERSION, {"properties": properties}, label="diagnostic_setting",
                          actual=actual, fetch=False)
    az.exit(id=result["id"], diagnostic_setting=result["resource"])


if __name__ == "__main__":
    main()
