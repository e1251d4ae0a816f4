#!/usr/bin/python
# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Ansible modules keep imports below DOCUMENTATION/EXAMPLES/RETURN by convention.
# ruff: noqa: E402

from __future__ import annotations

DOCUMENTATION = r"""
module: application_insights
short_description: Manage a workspace-based Application Insights component
version_added: 0.1.0
description:
  - Ensures an Application Insights component whose telemetry is stored in a Log Analytics workspace.
  - The instrumentation key and connection string are removed from RV(component). The connection string is
    returned in RV(connection_string) only with O(return_connection_string=true); give that task C(no_log=true)
    and hand the value straight to complianceflow.azure_infra.key_vault_secret (also with C(no_log=true)).
options:
  resource_group:
    description: Resource group of the component.
    type: str
    required: true
  name:
    description: Component name.
    type: str
    required: true
  location:
    description: Azure region. Required to create.
    type: str
  workspace_resource_id:
    description: Resource ID of the Log Analytics workspace that stores the telemetry. Required to create.
    type: str
  application_type:
    description: Application type (and component kind).
    type: str
    choices: [web, other]
    default: web
  sampling_percentage:
    description:
      - Percentage of telemetry ingestion keeps (fixed-rate sampling at ingestion).
      - Omit for adaptive sampling, which the application's SDK does; the property is then not managed.
    type: float
  return_connection_string:
    description: Return the connection string in RV(connection_string). Use only with C(no_log) on the task.
    type: bool
    default: false
  tags:
    description: Tags the component must carry; other tags are kept.
    type: dict
  state:
    description: Whether the component should exist.
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
    description: Shows before/after of what differs (never the key or connection string).
author:
  - ComplianceFlow platform engineering (@complianceflow)
"""

EXAMPLES = r"""
- name: Application Insights on the deployment's workspace, no sampling
  complianceflow.azure_infra.application_insights:
    resource_group: rg-cf-westeu-test-1
    name: appi-cf-westeu-test-1
    location: westeurope
    workspace_resource_id: "{{ deployment.ids.log_analytics_workspace }}"
    sampling_percentage: 100

- name: Read the connection string for Key Vault (never shown)
  complianceflow.azure_infra.application_insights:
    resource_group: rg-cf-westeu-test-1
    name: appi-cf-westeu-test-1
    return_connection_string: true
  register: appi_secret
  no_log: true
"""

RETURN = r"""
id:
  description: Resource ID of the component.
  returned: always
  type: str
component:
  description: The component as Azure returns it, without instrumentation key and connection string
    (predicted in check mode); empty when absent.
  returned: always
  type: dict
connection_string:
  description: The component's connection string; empty in check mode before the component exists.
  returned: when O(return_connection_string=true)
  type: str
"""

from typing import Any

from ansible_collections.complianceflow.azure_infra.plugins.module_utils.azure_module import AzureModule, tags_body

API_VERSION = "2020-02-02"
# Properties that let anyone send telemetry into the component: never part of a returned document.
SENSITIVE = ("InstrumentationKey", "ConnectionString")


def redacted(component: dict[str, Any]) -> dict[str, Any]:
    properties = {k: v for k, v in (component.get("properties") or {}).items() if k not in SENSITIVE}
    return {**component, "properties": properties} if component else {}


def main() -> None:
    az = AzureModule(
        argument_spec={
            "resource_group": {"type": "str", "required": True},
            "name": {"type": "str", "required": True},
            "location": {"type": "str"},
            "workspace_resource_id": {"type": "str"},
            "application_type": {"type": "str", "choices": ["web", "other"], "default": "web"},
            "sampling_percentage": {"type": "float"},
            "return_connection_string": {"type": "bool", "default": False},
            "tags": {"type": "dict"},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
        },
    )
    params = az.params
    component_id = az.provider_id(params["resource_group"], "Microsoft.Insights/components", params["name"])
    if params["state"] == "absent":
        az.ensure_absent(component_id, API_VERSION, label="component")
        az.exit(id=component_id, component={})
    actual = az.call(az.client.get, component_id, API_VERSION)
    location = params["location"] or (actual or {}).get("location")
    if actual is None and not (location and params["workspace_resource_id"]):
        az.module.fail_json(msg=f"location and workspace_resource_id are required to create {component_id}")
    properties: dict[str, Any] = {"Application_Type": params["application_type"]}
    if params["workspace_resource_id"]:
        properties.update({"WorkspaceResourceId": params["workspace_resource_id"], "IngestionMode": "LogAnalytics"})
    if params["sampling_percentage"] is not None:
        properties["SamplingPercentage"] = params["sampling_percentage"]
    desired = {"location": location, "kind": params["application_type"], **tags_body(params["tags"]),
               "properties": properties}
    result = az.reconcile(component_id, API_VERSION, desired, label="component", actual=actual, fetch=False)
    extra: dict[str, Any] = {}
    if params["return_connection_string"]:
        extra["connection_string"] = str((result["resource"].get("properties") or {}).get("ConnectionString") or "")
    az.exit(id=result["id"], component=redacted(result["resource"]), **extra)


if __name__ == "__main__":
    main()
