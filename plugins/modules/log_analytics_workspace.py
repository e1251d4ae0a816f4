#!/usr/bin/python
# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

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
  name:
    description: Workspace name (4-63 letters, digits and hyphens).
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
extends_documentation_fragment:
  - complianceflow.azure_infra.azure_auth
  - complianceflow.azure_infra.resource
  - complianceflow.azure_infra.tags
  - complianceflow.azure_infra.state
  - complianceflow.azure_infra.attributes
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

from ansible_collections.complianceflow.azure_infra.plugins.module_utils import args_common
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.azure_module import AzureModule

TYPE = "Microsoft.OperationalInsights/workspaces"


def main() -> None:
    az = AzureModule(args_common.argument_spec(
        args_common.RESOURCE, args_common.TAGS, args_common.STATE,
        sku={"type": "str", "default": "PerGB2018",
             "choices": ["PerGB2018", "CapacityReservation", "Standalone", "PerNode", "Premium", "Standard", "Free"]},
        retention_days={"type": "int", "default": 30},
        daily_quota_gb={"type": "float", "default": -1},
    ))
    params = az.params
    workspace_id = az.provider_id(params["resource_group"], TYPE, params["name"])
    result = az.ensure(workspace_id, TYPE, {
        "location": params["location"], **az.tags_body(),
        "properties": {"sku": {"name": params["sku"]}, "retentionInDays": params["retention_days"],
                       "workspaceCapping": {"dailyQuotaGb": params["daily_quota_gb"]}},
    }, label="workspace")
    resource = result["resource"]
    az.exit(id=result["id"], customer_id=str((resource.get("properties") or {}).get("customerId") or ""),
            workspace=resource)


if __name__ == "__main__":
    main()
