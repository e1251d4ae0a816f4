#!/usr/bin/python
# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: private_dns_zone
short_description: Manage an Azure private DNS zone and its virtual network links
version_added: 0.1.0
description:
  - Ensures a private DNS zone (location C(global)) and its links to virtual networks.
  - Links the task does not declare are kept unless O(purge_links=true).
options:
  name:
    description: Zone name, for example V(privatelink.blob.core.windows.net).
  virtual_network_links:
    description: Links from the zone to virtual networks.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Link name.
        type: str
        required: true
      virtual_network:
        description: Resource ID of the virtual network (or its name in O(resource_group)).
        type: str
        required: true
      registration_enabled:
        description: Auto-register VM records from the network in the zone.
        type: bool
        default: false
      tags:
        description: Tags of the link.
        type: dict
  purge_links:
    description: Delete links that are not in O(virtual_network_links).
    type: bool
    default: false
  state:
    description: Whether the zone should exist. V(absent) deletes its links first (Azure requires it).
extends_documentation_fragment:
  - complianceflow.azure_infra.azure_auth
  - complianceflow.azure_infra.resource.group_and_name
  - complianceflow.azure_infra.tags
  - complianceflow.azure_infra.state
  - complianceflow.azure_infra.attributes
attributes:
  diff_mode:
    support: full
    description: Shows before/after of the zone and each link that differs.
author:
  - ComplianceFlow platform engineering (@complianceflow)
"""

EXAMPLES = r"""
- name: Blob private endpoint zone linked to the deployment's network
  complianceflow.azure_infra.private_dns_zone:
    resource_group: rg-cf-westeu-test-1
    name: privatelink.blob.core.windows.net
    virtual_network_links:
      - name: link-vnet-cf-westeu-test-1
        virtual_network: vnet-cf-westeu-test-1  # a name in the zone's group, or a full resource ID
"""

RETURN = r"""
id:
  description: Resource ID of the zone.
  returned: always
  type: str
private_dns_zone:
  description: The zone as Azure returns it (predicted in check mode); empty when absent.
  returned: always
  type: dict
virtual_network_links:
  description: Link name to link resource, for the declared links.
  returned: when O(state=present)
  type: dict
"""

from ansible_collections.complianceflow.azure_infra.plugins.module_utils import args_common
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.azure_module import AzureModule, tags_body
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.resource_types import api_version

TYPE = "Microsoft.Network/privateDnsZones"
LINK = "Microsoft.Network/privateDnsZones/virtualNetworkLinks"
VNET_TYPE = "Microsoft.Network/virtualNetworks"


def main() -> None:
    az = AzureModule(args_common.argument_spec(
        args_common.GROUP_AND_NAME, args_common.TAGS, args_common.STATE,
        virtual_network_links={"type": "list", "elements": "dict", "default": [], "options": {
            "name": {"type": "str", "required": True},
            "virtual_network": {"type": "str", "required": True},
            "registration_enabled": {"type": "bool", "default": False},
            "tags": {"type": "dict"},
        }},
        purge_links={"type": "bool", "default": False},
    ))
    params = az.params
    zone_id = az.provider_id(params["resource_group"], TYPE, params["name"])
    links_path = f"{zone_id}/virtualNetworkLinks"
    if params["state"] == "absent":
        # Azure refuses to delete a zone that still has links.
        zone = az.call(az.client.get, zone_id, api_version(TYPE))
        az.ensure_children(links_path, LINK, {}, purge=True, parent_exists=zone is not None, label="link")
        az.ensure_absent(zone_id, TYPE, label="private_dns_zone", actual=zone, fetch=False)
        az.exit(id=zone_id, private_dns_zone={})

    result = az.ensure_present(zone_id, TYPE, {"location": "global", **az.tags_body()}, label="private_dns_zone")
    declared = {spec["name"]: {"location": "global", **tags_body(spec["tags"]), "properties": {
        "virtualNetwork": {"id": az.resolve_id(spec["virtual_network"], params["resource_group"], VNET_TYPE)},
        "registrationEnabled": spec["registration_enabled"]}} for spec in params["virtual_network_links"]}
    links = az.ensure_children(links_path, LINK, declared, purge=params["purge_links"],
                               parent_exists=result["differences"] != ["(create)"], label="link")
    az.exit(id=result["id"], private_dns_zone=result["resource"],
            virtual_network_links={name: links[name] for name in declared})


if __name__ == "__main__":
    main()
