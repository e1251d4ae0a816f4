#!/usr/bin/python
# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: network_security_group
short_description: Manage an Azure network security group and its rules
version_added: 0.1.0
description:
  - Ensures a network security group with the declared security rules. A rule changed outside Ansible is
    restored (and shown with C(--diff)).
  - Rules the task does not declare are kept unless O(purge_rules=true); Azure's default rules are never touched.
  - Address prefixes and port ranges may be given as one value or a list; they are stored the way Azure stores
    them (one value in the singular field, several in the plural one).
options:
  rules:
    description: Security rules the NSG must have.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Rule name.
        type: str
        required: true
      priority:
        description: 100-4096, unique per direction; lower wins.
        type: int
        required: true
      direction:
        description: Traffic direction.
        type: str
        choices: [Inbound, Outbound]
        default: Inbound
      access:
        description: Allow or deny.
        type: str
        choices: [Allow, Deny]
        default: Allow
      protocol:
        description: Protocol.
        type: str
        choices: ['*', Tcp, Udp, Icmp, Esp, Ah]
        default: '*'
      source_address_prefix:
        description: One source CIDR, IP, service tag (V(Internet), V(VirtualNetwork)) or V(*).
        type: str
      source_address_prefixes:
        description: Several source CIDRs or IPs.
        type: list
        elements: str
      destination_address_prefix:
        description: One destination CIDR, IP, service tag or V(*).
        type: str
      destination_address_prefixes:
        description: Several destination CIDRs or IPs.
        type: list
        elements: str
      source_port_range:
        description: One source port or range (V(*), V(443), V(1024-65535)).
        type: str
      source_port_ranges:
        description: Several source ports or ranges.
        type: list
        elements: str
      destination_port_range:
        description: One destination port or range.
        type: str
      destination_port_ranges:
        description: Several destination ports or ranges.
        type: list
        elements: str
      description:
        description: Free text, up to 140 characters.
        type: str
  purge_rules:
    description: Delete rules that are not in O(rules).
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
    description: Shows before/after of what differs, rule by rule.
author:
  - ComplianceFlow platform engineering (@complianceflow)
"""

EXAMPLES = r"""
- name: NSG for the database tier
  complianceflow.azure_infra.network_security_group:
    resource_group: rg-cf-westeu-test-1
    name: nsg-cf-westeu-test-1-db
    location: westeurope
    purge_rules: true
    rules:
      - name: allow-postgres-from-containerapps
        priority: 100
        protocol: Tcp
        source_address_prefix: 10.20.0.0/23
        destination_address_prefix: '*'
        destination_port_range: '5432'
      - name: deny-all-inbound
        priority: 4096
        access: Deny
"""

RETURN = r"""
id:
  description: Resource ID of the NSG.
  returned: always
  type: str
network_security_group:
  description: The NSG as Azure returns it (predicted in check mode); empty when absent.
  returned: always
  type: dict
"""

import copy
from typing import Any

from ansible_collections.complianceflow.azure_infra.plugins.module_utils import args_common
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.azure_module import AzureModule
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.resource_types import api_version

TYPE = "Microsoft.Network/networkSecurityGroups"

FIELD_PAIRS = (("source_address_prefix", "source_address_prefixes", "sourceAddressPrefix", "sourceAddressPrefixes"),
               ("destination_address_prefix", "destination_address_prefixes", "destinationAddressPrefix",
                "destinationAddressPrefixes"),
               ("source_port_range", "source_port_ranges", "sourcePortRange", "sourcePortRanges"),
               ("destination_port_range", "destination_port_ranges", "destinationPortRange", "destinationPortRanges"))


def canonical_security_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """Fold an NSG rule's singular/plural prefix and port fields into the form Azure stores.

    Azure keeps one value in the singular field (``sourceAddressPrefix``) and several in the plural one
    (``sourceAddressPrefixes``), returning the other as empty; a task may give either.
    """
    out = copy.deepcopy(rule)
    props = out.get("properties", out)
    for singular, plural in (("sourceAddressPrefix", "sourceAddressPrefixes"),
                             ("destinationAddressPrefix", "destinationAddressPrefixes"),
                             ("sourcePortRange", "sourcePortRanges"),
                             ("destinationPortRange", "destinationPortRanges")):
        many = [str(v) for v in (props.get(plural) or [])]
        one = props.get(singular)
        if one is not None and not many:
            many = [str(one)]
        elif one is not None and str(one) not in many:
            many.insert(0, str(one))
        if len(many) == 1:
            props[singular] = many[0]
            props[plural] = []
        elif many:
            props.pop(singular, None)
            props[plural] = many
    return out


def rule_body(spec: dict[str, Any]) -> dict[str, Any]:
    """A declared rule is complete: fields it leaves out get Azure's neutral value (``*``), and the unused one
    of each singular/plural pair is sent empty so a stale value on the other side is cleared."""
    props: dict[str, Any] = {"priority": spec["priority"], "direction": spec["direction"], "access": spec["access"],
                             "protocol": spec["protocol"]}
    for one, many, azure_one, azure_many in FIELD_PAIRS:
        values = list(spec.get(many) or [])
        if spec.get(one) is not None:
            values.insert(0, spec[one])
        props[azure_one] = values[0] if len(values) == 1 else ("*" if not values else None)
        props[azure_many] = values if len(values) > 1 else []
    props["description"] = spec.get("description") or ""
    canonical = canonical_security_rule({"name": spec["name"], "properties": props})
    for pair in FIELD_PAIRS:
        azure_one = pair[2]
        # canonical_security_rule drops the singular key when several values are given; PUT must null it.
        canonical["properties"].setdefault(azure_one, None)
    return canonical


def main() -> None:
    rule_options = {
        "name": {"type": "str", "required": True},
        "priority": {"type": "int", "required": True},
        "direction": {"type": "str", "choices": ["Inbound", "Outbound"], "default": "Inbound"},
        "access": {"type": "str", "choices": ["Allow", "Deny"], "default": "Allow"},
        "protocol": {"type": "str", "choices": ["*", "Tcp", "Udp", "Icmp", "Esp", "Ah"], "default": "*"},
        "description": {"type": "str"},
    }
    for pair in FIELD_PAIRS:
        rule_options[pair[0]] = {"type": "str"}
        rule_options[pair[1]] = {"type": "list", "elements": "str"}
    az = AzureModule(args_common.argument_spec(
        args_common.RESOURCE, args_common.TAGS, args_common.STATE,
        rules={"type": "list", "elements": "dict", "default": [], "options": rule_options},
        purge_rules={"type": "bool", "default": False},
    ))
    params = az.params
    nsg_id = az.provider_id(params["resource_group"], TYPE, params["name"])
    seen: dict[tuple[str, int], str] = {}
    for rule in params["rules"]:
        key = (rule["direction"], rule["priority"])
        if not 100 <= rule["priority"] <= 4096:
            az.module.fail_json(msg=f"rules[{rule['name']}].priority must be 100-4096, got {rule['priority']}")
        if key in seen:
            az.module.fail_json(msg=f"rules[{rule['name']}] and rules[{seen[key]}] share {rule['direction']} "
                                    f"priority {rule['priority']}")
        seen[key] = rule["name"]
    actual = None
    if params["state"] == "present":
        actual = az.call(az.client.get, nsg_id, api_version(TYPE))
        if actual is not None:
            # Compare against Azure's stored form folded the same way as ours.
            props = actual.setdefault("properties", {})
            props["securityRules"] = [canonical_security_rule(r) for r in props.get("securityRules") or []]
    desired = {"location": params["location"], **az.tags_body(),
               "properties": {"securityRules": [rule_body(r) for r in params["rules"]]}}
    partial = () if params["purge_rules"] else ("properties.securityRules",)
    if params["state"] == "absent":
        result = az.ensure(nsg_id, TYPE, desired, label="network_security_group")
    else:
        result = az.ensure_present(nsg_id, TYPE, desired, partial_lists=partial, label="network_security_group",
                                   actual=actual)
    az.exit(id=result["id"], network_security_group=result["resource"])


if __name__ == "__main__":
    main()
