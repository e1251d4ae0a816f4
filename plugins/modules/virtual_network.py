#!/usr/bin/python
# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: virtual_network
short_description: Manage an Azure virtual network and its subnets
version_added: 0.1.0
description:
  - Ensures a virtual network with its address space, DNS servers, tags and subnets (service endpoints,
    delegations, NSG association, private endpoint network policies, default outbound access).
  - All changes go out as one write of the whole network (subnets inline), so subnet writes in one network
    never race each other; subnets the task does not declare are carried over unchanged unless
    O(purge_subnets=true).
options:
  address_prefixes:
    description: Address space (CIDRs). Required to create. Order does not matter.
    type: list
    elements: str
  dns_servers:
    description: Custom DNS servers; an empty list means Azure-provided DNS. Omit to leave unmanaged.
    type: list
    elements: str
  subnets:
    description: Subnets the network must have.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Subnet name.
        type: str
        required: true
      address_prefix:
        description: Subnet CIDR inside the address space.
        type: str
        required: true
      service_endpoints:
        description:
          - Service names (V(Microsoft.Storage), V(Microsoft.KeyVault) ...). Omit to leave unmanaged; an empty list
            removes them.
        type: list
        elements: str
      delegations:
        description:
          - Services the subnet is delegated to (V(Microsoft.DBforPostgreSQL/flexibleServers)). Omit to leave
            unmanaged; an empty list removes delegations.
        type: list
        elements: str
      network_security_group:
        description: NSG to associate, as a resource ID or a name in O(resource_group). Omit to leave unmanaged.
        type: str
      private_endpoint_network_policies:
        description: Whether network policies apply to private endpoints in the subnet.
        type: str
        choices: [Disabled, Enabled, NetworkSecurityGroupEnabled, RouteTableEnabled]
      default_outbound_access:
        description: Whether VMs in the subnet get default outbound internet access (Azure's implicit SNAT).
        type: bool
  purge_subnets:
    description: Delete subnets that are not in O(subnets).
    type: bool
    default: false
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
- name: Network with a delegated database subnet
  complianceflow.azure_infra.virtual_network:
    resource_group: rg-cf-westeu-test-1
    name: vnet-cf-westeu-test-1
    location: westeurope
    address_prefixes: [10.20.0.0/20]
    subnets:
      - name: snet-containerapps
        address_prefix: 10.20.0.0/23
        service_endpoints: [Microsoft.Storage, Microsoft.KeyVault, Microsoft.EventHub]
        network_security_group: nsg-cf-westeu-test-1-containerapps
      - name: snet-db
        address_prefix: 10.20.2.0/24
        service_endpoints: [Microsoft.Sql]
        delegations: [Microsoft.DBforPostgreSQL/flexibleServers]
"""

RETURN = r"""
id:
  description: Resource ID of the network.
  returned: always
  type: str
virtual_network:
  description: The network as Azure returns it (predicted in check mode); empty when absent.
  returned: always
  type: dict
subnets:
  description: Subnet name to subnet resource ID.
  returned: when O(state=present)
  type: dict
"""

from typing import Any

from ansible_collections.complianceflow.azure_infra.plugins.module_utils import args_common
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.azure_module import AzureModule

TYPE = "Microsoft.Network/virtualNetworks"
NSG_TYPE = "Microsoft.Network/networkSecurityGroups"


def subnet_body(az: AzureModule, spec: dict[str, Any], existing: dict[str, Any] | None) -> dict[str, Any]:
    props: dict[str, Any] = {"addressPrefix": spec["address_prefix"]}
    # A delegation's name is free text (the portal uses "delegation", "0" ...); keep the existing one for the
    # same service so a converged subnet is not rewritten just to rename it.
    names_by_service = {str(d.get("properties", {}).get("serviceName", "")).lower(): d.get("name")
                        for d in ((existing or {}).get("properties", {}).get("delegations") or [])}
    if spec.get("service_endpoints") is not None:
        props["serviceEndpoints"] = [{"service": s} for s in spec["service_endpoints"]]
    if spec.get("delegations") is not None:
        # Azure names a delegation freely; deriving it from the service keeps re-runs stable.
        props["delegations"] = [{"name": names_by_service.get(service.lower()) or service.replace("/", "."),
                                 "properties": {"serviceName": service}} for service in spec["delegations"]]
    if spec.get("network_security_group"):
        props["networkSecurityGroup"] = {
            "id": az.resolve_id(spec["network_security_group"], az.params["resource_group"], NSG_TYPE)}
    if spec.get("private_endpoint_network_policies"):
        props["privateEndpointNetworkPolicies"] = spec["private_endpoint_network_policies"]
    if spec.get("default_outbound_access") is not None:
        props["defaultOutboundAccess"] = spec["default_outbound_access"]
    return {"name": spec["name"], "properties": props}


def main() -> None:
    az = AzureModule(args_common.argument_spec(
        args_common.RESOURCE, args_common.TAGS, args_common.STATE,
        address_prefixes={"type": "list", "elements": "str"},
        dns_servers={"type": "list", "elements": "str"},
        subnets={"type": "list", "elements": "dict", "default": [], "options": {
            "name": {"type": "str", "required": True},
            "address_prefix": {"type": "str", "required": True},
            "service_endpoints": {"type": "list", "elements": "str"},
            "delegations": {"type": "list", "elements": "str"},
            "network_security_group": {"type": "str"},
            "private_endpoint_network_policies": {
                "type": "str", "choices": ["Disabled", "Enabled", "NetworkSecurityGroupEnabled", "RouteTableEnabled"]},
            "default_outbound_access": {"type": "bool"},
        }},
        purge_subnets={"type": "bool", "default": False},
    ))
    params = az.params
    vnet_id = az.provider_id(params["resource_group"], TYPE, params["name"])
    names = [s["name"].lower() for s in params["subnets"]]
    if len(set(names)) != len(names):
        az.module.fail_json(msg="subnets: each subnet name may appear only once")

    def desired(actual: dict[str, Any] | None) -> dict[str, Any]:
        existing = {str(s.get("name", "")).lower(): s for s in ((actual or {}).get("properties", {}).get("subnets") or [])}
        props: dict[str, Any] = {
            "subnets": [subnet_body(az, s, existing.get(s["name"].lower())) for s in params["subnets"]]}
        if params["address_prefixes"]:
            props["addressSpace"] = {"addressPrefixes": params["address_prefixes"]}
        if params["dns_servers"] is not None:
            props["dhcpOptions"] = {"dnsServers": params["dns_servers"]}
        return {"location": params["location"], **az.tags_body(), "properties": props}

    result = az.ensure(vnet_id, TYPE, desired, label="virtual_network", required_to_create=("address_prefixes",),
                       partial_lists=() if params["purge_subnets"] else ("properties.subnets",))
    subnets = {s.get("name"): s.get("id", f"{vnet_id}/subnets/{s.get('name')}")
               for s in (result["resource"].get("properties", {}).get("subnets") or [])}
    az.exit(id=result["id"], virtual_network=result["resource"], **({"subnets": subnets} if params["state"] == "present" else {}))


if __name__ == "__main__":
    main()
