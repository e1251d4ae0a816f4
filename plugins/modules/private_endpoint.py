#!/usr/bin/python
# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Ansible modules keep imports below DOCUMENTATION/EXAMPLES/RETURN by convention.
# ruff: noqa: E402

from __future__ import annotations

DOCUMENTATION = r"""
module: private_endpoint
short_description: Manage a private endpoint and its private DNS zone group
version_added: 0.1.0
description:
  - Ensures a private endpoint in a subnet, connected to one Azure resource (a Key Vault, a Redis cache ...)
    through an automatically approved private link connection.
  - With O(private_dns_zone_group), also ensures the endpoint's DNS zone group, so that Azure writes and
    keeps the A records of the endpoint in the given private DNS zones.
options:
  resource_group:
    description: Resource group of the endpoint.
    type: str
    required: true
  name:
    description: Endpoint name.
    type: str
    required: true
  location:
    description: Azure region (the subnet's). Required to create.
    type: str
  subnet_id:
    description: Resource ID of the subnet the endpoint's network interface goes into. Required to create.
    type: str
  private_link_service_id:
    description: Resource ID of the target resource. Required to create.
    type: str
  group_ids:
    description: Sub-resources of the target to reach (V(vault) for Key Vault, V(redisCache) for Redis).
    type: list
    elements: str
  connection_name:
    description: Name of the private link service connection; defaults to O(name).
    type: str
  private_dns_zone_group:
    description: DNS zone group of the endpoint. Omit to leave it unmanaged.
    type: dict
    suboptions:
      name:
        description: Group name.
        type: str
        default: default
      private_dns_zone_ids:
        description: Resource IDs of the private DNS zones to register the endpoint in.
        type: list
        elements: str
        required: true
  tags:
    description: Tags the endpoint must carry; other tags are kept.
    type: dict
  state:
    description: Whether the endpoint should exist (its zone group goes with it).
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
- name: Key Vault reachable from the apps subnet, with its DNS record
  complianceflow.azure_infra.private_endpoint:
    resource_group: rg-cf-westeu-test-1
    name: pe-cf-westeu-test-1-kv
    location: westeurope
    subnet_id: "{{ deployment.subnets.containerapps.id }}"
    private_link_service_id: "{{ deployment.ids.key_vault }}"
    group_ids: [vault]
    private_dns_zone_group:
      private_dns_zone_ids:
        - "{{ deployment.ids.private_dns_zones['privatelink.vaultcore.azure.net'] }}"
"""

RETURN = r"""
id:
  description: Resource ID of the endpoint.
  returned: always
  type: str
private_endpoint:
  description: The endpoint as Azure returns it (predicted in check mode); empty when absent.
  returned: always
  type: dict
private_dns_zone_group:
  description: The zone group as Azure returns it; empty when not managed or absent.
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
            "name": {"type": "str", "required": True},
            "location": {"type": "str"},
            "subnet_id": {"type": "str"},
            "private_link_service_id": {"type": "str"},
            "group_ids": {"type": "list", "elements": "str"},
            "connection_name": {"type": "str"},
            "private_dns_zone_group": {"type": "dict", "options": {
                "name": {"type": "str", "default": "default"},
                "private_dns_zone_ids": {"type": "list", "elements": "str", "required": True},
            }},
            "tags": {"type": "dict"},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
        },
    )
    params = az.params
    pe_id = az.provider_id(params["resource_group"], "Microsoft.Network/privateEndpoints", params["name"])
    if params["state"] == "absent":
        az.ensure_absent(pe_id, api_versions.NETWORK, label="private_endpoint")
        az.exit(id=pe_id, private_endpoint={}, private_dns_zone_group={})
    actual = az.call(az.client.get, pe_id, api_versions.NETWORK)
    if actual is None:
        missing = [o for o in ("location", "subnet_id", "private_link_service_id", "group_ids") if not params[o]]
        if missing:
            az.module.fail_json(msg=f"{', '.join(missing)} required to create {pe_id}")
    props: dict[str, Any] = {}
    if params["subnet_id"]:
        props["subnet"] = {"id": params["subnet_id"]}
    if params["private_link_service_id"]:
        connection: dict[str, Any] = {"privateLinkServiceId": params["private_link_service_id"]}
        if params["group_ids"]:
            connection["groupIds"] = params["group_ids"]
        props["privateLinkServiceConnections"] = [{"name": params["connection_name"] or params["name"],
                                                   "properties": connection}]
    if actual is not None:
        current_subnet = str(((actual.get("properties") or {}).get("subnet") or {}).get("id", ""))
        if params["subnet_id"] and current_subnet.lower() != params["subnet_id"].lower():
            az.module.fail_json(msg=f"{pe_id} is in subnet {current_subnet}; Azure cannot move a private endpoint "
                                    f"to {params['subnet_id']} (delete it first)")
    desired: dict[str, Any] = {**tags_body(params["tags"]), "properties": props}
    if actual is None:
        desired["location"] = params["location"]
    result = az.reconcile(pe_id, api_versions.NETWORK, desired, label="private_endpoint", actual=actual, fetch=False)

    zone_group: dict[str, Any] = {}
    group = params["private_dns_zone_group"]
    if group:
        configs = [{"name": zone.rstrip("/").rsplit("/", 1)[-1].replace(".", "-"),
                    "properties": {"privateDnsZoneId": zone}} for zone in group["private_dns_zone_ids"]]
        group_id = f"{pe_id}/privateDnsZoneGroups/{group['name']}"
        group_actual = None if actual is None else az.call(az.client.get, group_id, api_versions.NETWORK)
        zone_group = az.reconcile(group_id, api_versions.NETWORK, {"properties": {"privateDnsZoneConfigs": configs}},
                                  label="private_dns_zone_group", actual=group_actual, fetch=False)["resource"]
    az.exit(id=result["id"], private_endpoint=result["resource"], private_dns_zone_group=zone_group)


if __name__ == "__main__":
    main()
