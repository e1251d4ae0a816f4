#!/usr/bin/python
# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: flow_log
short_description: Manage a virtual network flow log of an Azure Network Watcher
version_added: 0.1.0
description:
  - Ensures a flow log under a Network Watcher, writing to a storage account, optionally with traffic analytics.
  - Target a virtual network (virtual network flow logs). Azure no longer creates new NSG flow logs; existing
    ones can still be read and deleted.
options:
  network_watcher:
    description: Name of the Network Watcher.
    type: str
    required: true
  location:
    description: Region of the flow log; defaults to the watcher's region (Azure requires them to match).
  target_resource_id:
    description: Resource ID of the virtual network (or subnet / network interface) to log. Required to create.
    type: str
  storage_account_id:
    description: Resource ID of the storage account receiving the logs, in the same region. Required to create.
    type: str
  enabled:
    description: Whether logging is on.
    type: bool
    default: true
  retention_days:
    description: Days to keep logs in the storage account; V(0) keeps them forever.
    type: int
    default: 30
  traffic_analytics:
    description: Send processed flow data to a Log Analytics workspace. Omit to leave unmanaged.
    type: dict
    suboptions:
      enabled:
        description: Whether traffic analytics is on.
        type: bool
        default: true
      workspace_id:
        description: The workspace's customer ID (GUID).
        type: str
        required: true
      workspace_region:
        description: The workspace's region.
        type: str
        required: true
      workspace_resource_id:
        description: The workspace's resource ID.
        type: str
        required: true
      interval:
        description: Processing interval in minutes.
        type: int
        choices: [10, 60]
        default: 60
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
- name: Virtual network flow log to the deployment's storage account
  complianceflow.azure_infra.flow_log:
    resource_group: rg-cf-westeu-test-1
    network_watcher: nw-cf-westeu-test-1
    name: fl-vnet-cf-westeu-test-1
    target_resource_id: "{{ vnet_id }}"
    storage_account_id: "{{ storage_account_id }}"
    retention_days: 30
"""

RETURN = r"""
id:
  description: Resource ID of the flow log.
  returned: always
  type: str
flow_log:
  description: The flow log as Azure returns it (predicted in check mode); empty when absent.
  returned: always
  type: dict
"""

from typing import Any

from ansible_collections.complianceflow.azure_infra.plugins.module_utils import args_common
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.azure_module import AzureModule
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.resource_types import api_version

TYPE = "Microsoft.Network/networkWatchers/flowLogs"
WATCHER = "Microsoft.Network/networkWatchers"


def main() -> None:
    az = AzureModule(args_common.argument_spec(
        args_common.RESOURCE, args_common.TAGS, args_common.STATE,
        network_watcher={"type": "str", "required": True},
        target_resource_id={"type": "str"},
        storage_account_id={"type": "str"},
        enabled={"type": "bool", "default": True},
        retention_days={"type": "int", "default": 30},
        traffic_analytics={"type": "dict", "options": {
            "enabled": {"type": "bool", "default": True},
            "workspace_id": {"type": "str", "required": True},
            "workspace_region": {"type": "str", "required": True},
            "workspace_resource_id": {"type": "str", "required": True},
            "interval": {"type": "int", "choices": [10, 60], "default": 60},
        }},
    ))
    params = az.params
    watcher_id = az.provider_id(params["resource_group"], WATCHER, params["network_watcher"])
    flow_log_id = f"{watcher_id}/flowLogs/{params['name']}"
    props: dict[str, Any] = {
        "enabled": params["enabled"],
        "retentionPolicy": {"days": params["retention_days"], "enabled": params["retention_days"] > 0},
        "format": {"type": "JSON", "version": 2},
    }
    if params["target_resource_id"]:
        props["targetResourceId"] = params["target_resource_id"]
    if params["storage_account_id"]:
        props["storageId"] = params["storage_account_id"]
    analytics = params["traffic_analytics"]
    if analytics:
        props["flowAnalyticsConfiguration"] = {"networkWatcherFlowAnalyticsConfiguration": {
            "enabled": analytics["enabled"], "workspaceId": analytics["workspace_id"],
            "workspaceRegion": analytics["workspace_region"],
            "workspaceResourceId": analytics["workspace_resource_id"],
            "trafficAnalyticsInterval": analytics["interval"]}}

    def desired(actual: dict[str, Any] | None) -> dict[str, Any]:
        # Azure requires the flow log in its watcher's region: that is the default.
        location = params["location"] or (actual or {}).get("location")
        if not location:
            watcher = az.call(az.client.get, watcher_id, api_version(WATCHER))
            if watcher is not None:
                location = watcher["location"]
            elif not az.check_mode:
                az.module.fail_json(msg=f"network watcher {watcher_id} does not exist", error={"code": "NotFound"})
            # In check mode the watcher may be one an earlier task would create; the prediction lacks only its region.
        return {**({"location": location} if location else {}), **az.tags_body(), "properties": props}

    result = az.ensure(flow_log_id, TYPE, desired, label="flow_log",
                       required_to_create=("target_resource_id", "storage_account_id"))
    az.exit(id=result["id"], flow_log=result["resource"])


if __name__ == "__main__":
    main()
