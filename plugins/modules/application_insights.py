#!/usr/bin/python
# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

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
extends_documentation_fragment:
  - complianceflow.azure_infra.azure_auth
  - complianceflow.azure_infra.resource
  - complianceflow.azure_infra.tags
  - complianceflow.azure_infra.state
  - complianceflow.azure_infra.attributes
attributes:
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

from ansible_collections.complianceflow.azure_infra.plugins.module_utils import args_common
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.azure_module import AzureModule

TYPE = "Microsoft.Insights/components"
# Properties that let anyone send telemetry into the component: never part of a returned document.
SENSITIVE = ("InstrumentationKey", "ConnectionString")


def redacted(component: dict[str, Any]) -> dict[str, Any]:
    properties = {k: v for k, v in (component.get("properties") or {}).items() if k not in SENSITIVE}
    return {**component, "properties": properties} if component else {}


def main() -> None:
    az = AzureModule(args_common.argument_spec(
        args_common.RESOURCE, args_common.TAGS, args_common.STATE,
        workspace_resource_id={"type": "str"},
        application_type={"type": "str", "choices": ["web", "other"], "default": "web"},
        sampling_percentage={"type": "float"},
        return_connection_string={"type": "bool", "default": False},
    ))
    params = az.params
    component_id = az.provider_id(params["resource_group"], TYPE, params["name"])
    properties: dict[str, Any] = {"Application_Type": params["application_type"]}
    if params["workspace_resource_id"]:
        properties.update({"WorkspaceResourceId": params["workspace_resource_id"], "IngestionMode": "LogAnalytics"})
    if params["sampling_percentage"] is not None:
        properties["SamplingPercentage"] = params["sampling_percentage"]
    result = az.ensure(component_id, TYPE, {"location": params["location"], "kind": params["application_type"],
                                            **az.tags_body(), "properties": properties},
                       label="component", required_to_create=("workspace_resource_id",))
    extra: dict[str, Any] = {}
    if params["return_connection_string"] and params["state"] == "present":
        extra["connection_string"] = str((result["resource"].get("properties") or {}).get("ConnectionString") or "")
    az.exit(id=result["id"], component=redacted(result["resource"]), **extra)


if __name__ == "__main__":
    main()
