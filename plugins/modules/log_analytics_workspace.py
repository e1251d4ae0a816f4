#!/usr/bin/python
# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Ansible modules keep imports below DOCUMENTATION/EXAMPLES/RETURN by convention.
# ruff: noqa: E402

from __future__ import annotations

DOCUMENTATION = r"""
module: log_analytics_workspace
short_description: Manage an Azure Log Analytics workspace
version_added: 0.1.0
description:
  - Ensures a Log Analytics workspace with its pricing tier, retention and daily ingestion cap.
  - The shared keys are never read or returned; RV(customer_id) (the workspace ID that
    agents and traffic analytics need) is.
options:
  resource_group:
    description: Resource group of the workspace.
    type: str
    required: true
  name:
    description: Workspace name (4-63 letters, digits and hyphens).
    type: str
    required: true
  location:
    description: Azure region. Required to create.
    type: str
  sku:
    description: Pricing tier.
    type: str
    default: PerGB2018
    choices: [PerGB2018, CapacityReservation, Standalone, PerNode, Premium, Standard, Free]
  retention_days:
    description: Days to keep data (30-730 for paid tiers).
    type: int
    default: 30
  daily_quota_gb:
    description: Daily ingestion cap in GB; V(-1) means no cap.
    type: float
    default: -1
  tags:
    description: Tags the workspace must carry; other tags are kept.
    type: dict
  state:
    description: Whether the workspace should exist.
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
- name: Workspace of a test deployment, 90 days, capped at 5 GB a day
  complianceflow.azure_infra.log_analytics_workspace:
    resource_group: rg-cf-westeu-test-1
    name: log-cf-westeu-test-1
    location: westeurope
    retention_days: 90
    daily_quota_gb: 5
"""

RETURN = r"""
id:
  description: Resource ID of the workspace.
  returned: always
  type: str
customer_id:
  description: The workspace ID (GUID) agents and traffic analytics use; empty when absent or predicted.
  returned: always
  type: str
workspace:
  description: The workspace as Azure returns it (predicted in check mode); empty when absent.
  returned: always
  type: dict
"""

from typing import Any

from ansible_collections.complianceflow.azure_infra.plugins.module_utils.azure_module import AzureModule, tags_body

API_VERSION = "2023-09-01"


def main() -> None:
    az = AzureModule(
        argument_spec={
            "resource_group": {"type": "str", "required": True},
            "name": {"type": "str", "required": True},
            "location": {"type": "str"},
            "sku": {"type": "str", "default": "PerGB2018",
                    "choices": ["PerGB2018", "CapacityReservation", "Standalone", "PerNode", "Premium", "Standard",
                                "Free"]},
            "retention_days": {"type": "int", "default": 30},
            "daily_quota_gb": {"type": "float", "default": -1},
            "tags": {"type": "dict"},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
        },
    )
    params = az.params
    workspace_id = az.provider_id(params["resource_group"], "Microsoft.OperationalInsights/workspaces", params["name"])
    if params["state"] == "absent":
        az.ensure_absent(workspace_id, API_VERSION, label="workspace")
        az.exit(id=workspace_id, customer_id="", workspace={})
    actual = az.call(az.client.get, workspace_id, API_VERSION)
    location = params["location"] or (actual or {}).get("location")
    if not location:
        az.module.fail_json(msg=f"location is required to create {workspace_id}")
    desired: dict[str, Any] = {
        "location": location,
        **tags_body(params["tags"]),
        "properties": {
            "sku": {"name": params["sku"]},
            "retentionInDays": params["retention_days"],
            "workspaceCapping": {"dailyQuotaGb": params["daily_quota_gb"]},
        },
    }
    result = az.reconcile(workspace_id, API_VERSION, desired, label="workspace", actual=actual, fetch=False)
    resource = result["resource"]
    az.exit(id=result["id"], customer_id=str((resource.get("properties") or {}).get("customerId") or ""),
            workspace=resource)


if __name__ == "__main__":
    main()
