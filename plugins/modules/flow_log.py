#!/usr/bin/python
# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Ansible modules keep imports below DOCUMENTATION/EXAMPLES/RETURN by convention.
# ruff: noqa: E402

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
  resource_group:
    description: Resource group of the Network Watcher.
    type: str
    required: true
  network_watcher:
    description: Name of the Network Watcher.
    type: str
    required: true
  name:
    description: Flow log name.
    type: str
    required: true
  location:
    description: Region of the flow log; defaults to the watcher's region (Azure requires them to match).
    type: str
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
  tags:
    description: Tags the flow log must carry; other tags are kept.
    type: dict
  state:
    description: Whether the flow log should exist.
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

from ansible_collections.complianceflow.azure_infra.plugins.module_utils import api_versions
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.azure_module import AzureModule, tags_body


def main() -> None:
    az = AzureModule(
        argument_spec={
            "resource_group": {"type": "str", "required": True},
            "network_watcher": {"type": "str", "required": True},
            "name": {"type": "str", "required": True},
            "location": {"type": "str"},
            "target_resource_id": {"type": "str"},
            "storage_account_id": {"type": "str"},
            "enabled": {"type": "bool", "default": True},
            "retention_days": {"type": "int", "default": 30},
            "traffic_analytics": {"type": "dict", "options": {
                "enabled": {"type": "bool", "default": True},
                "workspace_id": {"type": "str", "required": True},
                "workspace_region": {"type": "str", "required": True},
                "workspace_resource_id": {"type": "str", "required": True},
                "interval": {"type": "int", "choices": [10, 60], "default": 60},
            }},
            "tags": {"type": "dict"},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
        },
    )
    params = az.params
    watcher_id = az.provider_id(params["resource_group"], "Microsoft.Network/networkWatchers",
                                params["network_watcher"])
    flow_log_id = f"{watcher_id}/flowLogs/{params['name']}"
    if params["state"] == "absent":
        az.ensure_absent(flow_log_id, api_versions.NETWORK, label="flow_log")
        az.exit(id=flow_log_id, flow_log={})

    actual = az.call(az.client.get, flow_log_id, api_versions.NETWORK)
    location = params["location"] or (actual or {}).get("location")
    if not location:
        watcher = az.call(az.client.get, watcher_id, api_versions.NETWORK)
        if watcher is not None:
            location = watcher["location"]
        elif not az.check_mode:
            az.module.fail_json(msg=f"network watcher {watcher_id} does not exist", error={"code": "NotFound"})
        # In check mode the watcher may be one an earlier task would create; the prediction lacks only its region.
    if actual is None and not (params["target_resource_id"] and params["storage_account_id"]):
        az.module.fail_json(msg=f"target_resource_id and storage_account_id are required to create {flow_log_id}")
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
    desired = {**({"location": location} if location else {}), **tags_body(params["tags"]), "properties": props}
    result = az.reconcile(flow_log_id, api_versions.NETWORK, desired, label="flow_log", actual=actual, fetch=False)
    az.exit(id=result["id"], flow_log=result["resource"])


if __name__ == "__main__":
    main()
