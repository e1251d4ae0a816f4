#!/usr/bin/python
# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

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
  location:
    description: Azure region (the subnet's). Required to create.
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
  state:
    description: Whether the endpoint should exist (its zone group goes with it).
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

from ansible_collections.complianceflow.azure_infra.plugins.module_utils import args_common
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.azure_module import AzureModule

TYPE = "Microsoft.Network/privateEndpoints"
ZONE_GROUP = "Microsoft.Network/privateEndpoints/privateDnsZoneGroups"


def main() -> None:
    az = AzureModule(args_common.argument_spec(
        args_common.RESOURCE, args_common.TAGS, args_common.STATE,
        subnet_id={"type": "str"},
        private_link_service_id={"type": "str"},
        group_ids={"type": "list", "elements": "str"},
        connection_name={"type": "str"},
        private_dns_zone_group={"type": "dict", "options": {
            "name": {"type": "str", "default": "default"},
            "private_dns_zone_ids": {"type": "list", "elements": "str", "required": True},
        }},
    ))
    params = az.params
    pe_id = az.provider_id(params["resource_group"], TYPE, params["name"])
    props: dict[str, Any] = {}
    if params["subnet_id"]:
        props["subnet"] = {"id": params["subnet_id"]}
    if params["private_link_service_id"]:
        connection: dict[str, Any] = {"privateLinkServiceId": params["private_link_service_id"]}
        if params["group_ids"]:
            connection["groupIds"] = params["group_ids"]
        props["privateLinkServiceConnections"] = [{"name": params["connection_name"] or params["name"],
                                                   "properties": connection}]
    result = az.ensure(pe_id, TYPE, {"location": params["location"], **az.tags_body(), "properties": props},
                       label="private_endpoint",
                       required_to_create=("subnet_id", "private_link_service_id", "group_ids"))
    zone_group: dict[str, Any] = {}
    group = params["private_dns_zone_group"]
    if group and params["state"] == "present":
        configs = [{"name": zone.rstrip("/").rsplit("/", 1)[-1].replace(".", "-"),
                    "properties": {"privateDnsZoneId": zone}} for zone in group["private_dns_zone_ids"]]
        created = result["differences"] == ["(create)"]
        zone_group = az.ensure_present(f"{pe_id}/privateDnsZoneGroups/{group['name']}", ZONE_GROUP,
                                       {"properties": {"privateDnsZoneConfigs": configs}},
                                       label="private_dns_zone_group", actual=None if created else ...)["resource"]
    az.exit(id=result["id"], private_endpoint=result["resource"], private_dns_zone_group=zone_group)


if __name__ == "__main__":
    main()
