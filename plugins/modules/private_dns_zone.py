#!/usr/bin/python
# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Ansible modules keep imports below DOCUMENTATION/EXAMPLES/RETURN by convention.
# ruff: noqa: E402

from __future__ import annotations

DOCUMENTATION = r"""
module: private_dns_zone
short_description: Manage an Azure private DNS zone and its virtual network links
version_added: 0.1.0
description:
  - Ensures a private DNS zone (location C(global)) and its links to virtual networks.
  - Links the task does not declare are kept unless O(purge_links=true).
options:
  resource_group:
    description: Resource group of the zone.
    type: str
    required: true
  name:
    description: Zone name, for example V(privatelink.blob.core.windows.net).
    type: str
    required: true
  tags:
    description: Tags the zone must carry; other tags are kept.
    type: dict
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

from ansible_collections.complianceflow.azure_infra.plugins.module_utils import api_versions
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.azure_module import AzureModule, tags_body

API = api_versions.PRIVATE_DNS
VNET_TYPE = "Microsoft.Network/virtualNetworks"


def main() -> None:
    az = AzureModule(
        argument_spec={
            "resource_group": {"type": "str", "required": True},
            "name": {"type": "str", "required": True},
            "tags": {"type": "dict"},
            "virtual_network_links": {"type": "list", "elements": "dict", "default": [], "options": {
                "name": {"type": "str", "required": True},
                "virtual_network": {"type": "str", "required": True},
                "registration_enabled": {"type": "bool", "default": False},
                "tags": {"type": "dict"},
            }},
            "purge_links": {"type": "bool", "default": False},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
        },
    )
    params = az.params
    zone_id = az.provider_id(params["resource_group"], "Microsoft.Network/privateDnsZones", params["name"])
    links_path = f"{zone_id}/virtualNetworkLinks"
    zone = az.call(az.client.get, zone_id, API)

    if params["state"] == "absent":
        if zone is not None:
            for link in az.call(az.client.list, links_path, API):
                az.ensure_absent(link["id"], API, label=f"link {link.get('name')}", actual=link, fetch=False)
        az.ensure_absent(zone_id, API, label="private_dns_zone", actual=zone, fetch=False)
        az.exit(id=zone_id, private_dns_zone={})

    result = az.reconcile(zone_id, API, {"location": "global", **tags_body(params["tags"])},
                          label="private_dns_zone", actual=zone, fetch=False)
    existing = {}
    if zone is not None:
        existing = {str(link.get("name", "")).lower(): link for link in az.call(az.client.list, links_path, API)}
    links = {}
    for spec in params["virtual_network_links"]:
        link_id = f"{links_path}/{spec['name']}"
        vnet_id = az.resolve_id(spec["virtual_network"], params["resource_group"], VNET_TYPE)
        desired = {"location": "global", **tags_body(spec["tags"]),
                   "properties": {"virtualNetwork": {"id": vnet_id},
                                  "registrationEnabled": spec["registration_enabled"]}}
        links[spec["name"]] = az.reconcile(link_id, API, desired, label=f"link {spec['name']}",
                                           actual=existing.get(spec["name"].lower()), fetch=False)["resource"]
    if params["purge_links"]:
        declared = {s["name"].lower() for s in params["virtual_network_links"]}
        for name, link in existing.items():
            if name not in declared:
                az.ensure_absent(link["id"], API, label=f"link {link.get('name')}", actual=link, fetch=False)
    az.exit(id=result["id"], private_dns_zone=result["resource"], virtual_network_links=links)


if __name__ == "__main__":
    main()
