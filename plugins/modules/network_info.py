#!/usr/bin/python
# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: network_info
short_description: Read Azure network resources (networks, subnets, NSGs, private DNS zones, watchers, flow logs)
version_added: 0.1.0
description:
  - Reads one network resource by O(id), or by O(resource_group), O(type) and O(name) (plus O(parent) for child
    types), or lists the resources of a type in a group when O(name) is omitted.
  - A private DNS zone is returned with its virtual network links.
options:
  id:
    description: Resource ID to read; the type is taken from it.
    type: str
  resource_group:
    description: Resource group, when not using O(id).
    type: str
  type:
    description: Kind of resource, when not using O(id).
    type: str
    choices: [virtual_network, subnet, network_security_group, private_dns_zone, virtual_network_link,
              network_watcher, flow_log]
  name:
    description: Resource name; omit to list.
    type: str
  parent:
    description: Parent name for child types (the network of a V(subnet), the zone of a V(virtual_network_link),
      the watcher of a V(flow_log)).
    type: str
extends_documentation_fragment:
  - complianceflow.azure_infra.azure_auth
  - complianceflow.azure_infra.attributes.info_module
author:
  - ComplianceFlow platform engineering (@complianceflow)
"""

EXAMPLES = r"""
- name: Read the deployment's network with its subnets
  complianceflow.azure_infra.network_info:
    resource_group: rg-cf-westeu-test-1
    type: virtual_network
    name: vnet-cf-westeu-test-1
  register: vnet

- name: Read a zone and its links by ID
  complianceflow.azure_infra.network_info:
    id: "{{ zone_id }}"
"""

RETURN = r"""
exists:
  description: With a single resource, whether it exists.
  returned: when one resource is read
  type: bool
resource:
  description: The resource as Azure returns it; empty when absent.
  returned: when one resource is read
  type: dict
virtual_network_links:
  description: The links of a private DNS zone.
  returned: when a private DNS zone is read
  type: list
  elements: dict
resources:
  description: The resources of O(type) in the group (or under O(parent)).
  returned: when O(name) and O(id) are omitted
  type: list
  elements: dict
"""

from ansible_collections.complianceflow.azure_infra.plugins.module_utils.azure_module import AzureModule
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.resource_types import api_version

NETWORK = api_version("Microsoft.Network/virtualNetworks")
PRIVATE_DNS = api_version("Microsoft.Network/privateDnsZones")
# type -> (ARM provider path template relative to the group, API version, needs parent)
TYPES = {
    "virtual_network": ("Microsoft.Network/virtualNetworks", NETWORK, False),
    "subnet": ("Microsoft.Network/virtualNetworks/{parent}/subnets", NETWORK, True),
    "network_security_group": ("Microsoft.Network/networkSecurityGroups", NETWORK, False),
    "private_dns_zone": ("Microsoft.Network/privateDnsZones", PRIVATE_DNS, False),
    "virtual_network_link": ("Microsoft.Network/privateDnsZones/{parent}/virtualNetworkLinks",
                             PRIVATE_DNS, True),
    "network_watcher": ("Microsoft.Network/networkWatchers", NETWORK, False),
    "flow_log": ("Microsoft.Network/networkWatchers/{parent}/flowLogs", NETWORK, True),
}


def type_of_id(resource_id: str) -> str | None:
    """Our type name for an ARM ID, from its provider segments (case-insensitive, as ARM is)."""
    parts = resource_id.strip("/").split("/")
    lowered = [p.lower() for p in parts]
    if "providers" not in lowered:
        return None
    segments = lowered[lowered.index("providers") + 1:]
    types = [segments[0], *segments[1::2]]
    arm_type = "/".join(types)
    for name, spec in TYPES.items():
        template_types = spec[0].lower().split("/")
        expected = "/".join([template_types[0]] + [t for i, t in enumerate(template_types[1:]) if i % 2 == 0])
        if arm_type == expected:
            return name
    return None


def main() -> None:
    az = AzureModule(
        argument_spec={
            "id": {"type": "str"},
            "resource_group": {"type": "str"},
            "type": {"type": "str", "choices": list(TYPES)},
            "name": {"type": "str"},
            "parent": {"type": "str"},
        },
        required_one_of=[["id", "type"]],
        mutually_exclusive=[["id", "type"], ["id", "name"]],
        required_by={"type": "resource_group"},
    )
    params = az.params
    if params["id"]:
        kind = type_of_id(params["id"])
        if kind is None:
            az.module.fail_json(msg=f"id {params['id']} is not a network resource this module reads")
        resource_id = params["id"]
    else:
        kind = params["type"]
        template, needs_parent = TYPES[kind][0], TYPES[kind][2]
        if needs_parent and not params["parent"]:
            az.module.fail_json(msg=f"parent is required for type {kind}")
        path = f"{az.rg_id(params['resource_group'])}/providers/{template.format(parent=params['parent'])}"
        if not params["name"]:
            az.exit(changed=False, resources=az.call(az.client.list, path, TYPES[kind][1]))
        resource_id = f"{path}/{params['name']}"
    api_version = TYPES[kind][1]
    resource = az.call(az.client.get, resource_id, api_version)
    result = {"changed": False, "exists": resource is not None, "resource": resource or {}}
    if kind == "private_dns_zone":
        result["virtual_network_links"] = (az.call(az.client.list, f"{resource_id}/virtualNetworkLinks", api_version)
                                           if resource is not None else [])
    az.exit(**result)


if __name__ == "__main__":
    main()
