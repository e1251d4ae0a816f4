#!/usr/bin/python
# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: eventhub_info
short_description: Read an Event Hubs namespace with its network rule set, hubs, consumer groups and SAS rules
version_added: 0.1.0
description:
  - Reads a namespace and, with O(include_hubs), every event hub in it with its consumer groups and hub-level
    authorization rules (names and rights only; never keys).
options:
  resource_group:
    description: Resource group of the namespace.
    type: str
    required: true
  namespace:
    description: Namespace name.
    type: str
    required: true
  include_hubs:
    description: Also read the hubs, their consumer groups and their authorization rules.
    type: bool
    default: true
extends_documentation_fragment:
  - complianceflow.azure_infra.azure_auth
  - complianceflow.azure_infra.attributes.info_module
author:
  - ComplianceFlow platform engineering (@complianceflow)
"""

EXAMPLES = r"""
- name: Read the deployment's namespace and hubs
  complianceflow.azure_infra.eventhub_info:
    resource_group: rg-cf-westeu-test-1
    namespace: evhns-cf-westeu-test-1-1k78
  register: messaging

- name: Every hub keeps events for 7 days
  ansible.builtin.assert:
    that: messaging.event_hubs | map(attribute='message_retention_in_days') | unique == [7]
"""

RETURN = r"""
exists:
  description: Whether the namespace exists.
  returned: always
  type: bool
namespace:
  description: The namespace as Azure returns it; empty when absent.
  returned: always
  type: dict
network_rule_set:
  description: The namespace's network rule set; empty when absent.
  returned: always
  type: dict
event_hubs:
  description: The namespace's hubs (when O(include_hubs=true)).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Hub name.
      type: str
    id:
      description: Hub resource ID.
      type: str
    partition_count:
      description: Number of partitions.
      type: int
    message_retention_in_days:
      description: Retention in days.
      type: int
    consumer_groups:
      description: Consumer group names (C($Default) included).
      type: list
      elements: str
    authorization_rules:
      description: Rule name to rights.
      type: dict
"""

from typing import Any

from ansible_collections.complianceflow.azure_infra.plugins.module_utils.azure_module import AzureModule
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.resource_types import api_version

API = api_version("Microsoft.EventHub/namespaces")


def main() -> None:
    az = AzureModule(
        argument_spec={
            "resource_group": {"type": "str", "required": True},
            "namespace": {"type": "str", "required": True},
            "include_hubs": {"type": "bool", "default": True},
        },
    )
    params = az.params
    namespace_id = az.provider_id(params["resource_group"], "Microsoft.EventHub/namespaces", params["namespace"])
    namespace = az.call(az.client.get, namespace_id, API)
    if namespace is None:
        az.exit(changed=False, exists=False, namespace={}, network_rule_set={}, event_hubs=[])
    rule_set = az.call(az.client.get, f"{namespace_id}/networkRuleSets/default", API) or {}
    hubs: list[dict[str, Any]] = []
    if params["include_hubs"]:
        for hub in az.call(az.client.list, f"{namespace_id}/eventhubs", API):
            props = hub.get("properties") or {}
            groups = az.call(az.client.list, f"{hub['id']}/consumergroups", API)
            rules = az.call(az.client.list, f"{hub['id']}/authorizationRules", API)
            hubs.append({
                "name": hub.get("name"), "id": hub.get("id"),
                "partition_count": props.get("partitionCount"),
                "message_retention_in_days": props.get("messageRetentionInDays"),
                "status": props.get("status"),
                "consumer_groups": sorted(str(g.get("name")) for g in groups),
                "authorization_rules": {str(r.get("name")): list((r.get("properties") or {}).get("rights") or [])
                                        for r in rules},
            })
    az.exit(changed=False, exists=True, namespace=namespace, network_rule_set=rule_set,
            event_hubs=sorted(hubs, key=lambda h: str(h["name"])))


if __name__ == "__main__":
    main()
