#!/usr/bin/python
# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: eventhub_keys
short_description: Read the connection strings of Event Hubs shared access rules
version_added: 0.1.0
description:
  - Calls C(listKeys) on hub-level (with O(event_hub)) or namespace-level authorization rules and returns their
    connection strings, for example to write them to Key Vault.
  - The result holds secrets. The task must set C(no_log), and anything that uses the values (such as
    C(key_vault_secret)) must too.
  - C(listKeys) is a POST in Azure but changes nothing; the module never reports a change.
options:
  resource_group:
    description: Resource group of the namespace.
    type: str
    required: true
  namespace:
    description: Event Hubs namespace name.
    type: str
    required: true
  event_hub:
    description: Event hub whose rules to read; omit for namespace-level rules.
    type: str
  rules:
    description: Names of the authorization rules to read.
    type: list
    elements: str
    required: true
extends_documentation_fragment:
  - complianceflow.azure_infra.azure_auth
  - complianceflow.azure_infra.attributes.info_module
attributes:
  check_mode:
    support: full
    description: Read-only; runs the same in check mode (rules that do not exist yet are listed in RV(missing)).
author:
  - ComplianceFlow platform engineering (@complianceflow)
"""

EXAMPLES = r"""
- name: Connection strings of one hub's send and listen rules
  complianceflow.azure_infra.eventhub_keys:
    resource_group: rg-cf-westeu-test-1
    namespace: evhns-cf-westeu-test-1-1k78
    event_hub: user-events
    rules: [send, listen]
  register: hub_keys
  no_log: true
"""

RETURN = r"""
rule_keys:
  description: Rule name to its keys, for the rules that exist.
  returned: always
  type: dict
  contains:
    primary_connection_string:
      description: Connection string with the primary key (includes C(EntityPath) for hub-level rules).
      type: str
    secondary_connection_string:
      description: Connection string with the secondary key.
      type: str
    primary_key:
      description: Primary key.
      type: str
    secondary_key:
      description: Secondary key.
      type: str
missing:
  description: Declared rules that do not exist (yet).
  returned: always
  type: list
  elements: str
"""

from typing import Any

from ansible_collections.complianceflow.azure_infra.plugins.module_utils.arm_client import AzureApiError
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.azure_module import AzureModule
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.resource_types import api_version

API = api_version("Microsoft.EventHub/namespaces/eventhubs/authorizationRules")


def key_view(body: dict[str, Any]) -> dict[str, str]:
    return {"primary_connection_string": str(body.get("primaryConnectionString") or ""),
            "secondary_connection_string": str(body.get("secondaryConnectionString") or ""),
            "primary_key": str(body.get("primaryKey") or ""),
            "secondary_key": str(body.get("secondaryKey") or "")}


def main() -> None:
    az = AzureModule(
        argument_spec={
            "resource_group": {"type": "str", "required": True},
            "namespace": {"type": "str", "required": True},
            "event_hub": {"type": "str"},
            "rules": {"type": "list", "elements": "str", "required": True},
        },
    )
    params = az.params
    scope = az.provider_id(params["resource_group"], "Microsoft.EventHub/namespaces", params["namespace"])
    if params["event_hub"]:
        scope = f"{scope}/eventhubs/{params['event_hub']}"
    keys: dict[str, dict[str, str]] = {}
    missing: list[str] = []
    for rule in params["rules"]:
        rule_id = f"{scope}/authorizationRules/{rule}"
        try:
            body = az.client.post(f"{rule_id}/listKeys", API)
        except AzureApiError as exc:
            if exc.status == 404:
                missing.append(rule)
                continue
            az.fail(exc)
        keys[rule] = key_view(body or {})
    az.exit(changed=False, rule_keys=keys, missing=missing)


if __name__ == "__main__":
    main()
