#!/usr/bin/python
# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: eventhub_namespace
short_description: Manage an Azure Event Hubs namespace and its network rule set
version_added: 0.1.0
description:
  - Ensures an Event Hubs namespace (SKU and throughput units, auto-inflate, Kafka, zone redundancy, minimum TLS)
    and, when O(network_rule_set) is given, its network rule set (C(networkRuleSets/default)).
  - Throughput rules are checked before any write, as Azure checks them. Auto-inflate needs the Standard tier
    and a maximum above the current capacity; Basic and Standard take 1-40 throughput units.
options:
  name:
    description: Namespace name (6-50 characters, unique across Azure).
  sku:
    description: Tier.
    type: str
    choices: [Basic, Standard, Premium]
    default: Standard
  capacity:
    description: Throughput units (Basic/Standard) or processing units (Premium).
    type: int
    default: 1
  auto_inflate:
    description: Let Azure raise the throughput units up to O(maximum_throughput_units) under load (Standard).
    type: bool
    default: false
  maximum_throughput_units:
    description: Upper bound for auto-inflate; required when O(auto_inflate=true).
    type: int
  kafka_enabled:
    description: Expose the Kafka endpoint (Standard and above).
    type: bool
    default: true
  zone_redundant:
    description: Spread the namespace over availability zones.
    type: bool
    default: false
  minimum_tls_version:
    description: Oldest TLS version accepted.
    type: str
    choices: ['1.0', '1.1', '1.2']
    default: '1.2'
  disable_local_auth:
    description: Refuse SAS keys (Entra ID only). The platform's services use SAS connection strings, so V(false).
    type: bool
    default: false
  network_rule_set:
    description: Firewall of the namespace. Omit to leave it unmanaged.
    type: dict
    suboptions:
      default_action:
        description: What happens to traffic no rule matches.
        type: str
        choices: [Allow, Deny]
        default: Deny
      public_network_access:
        description:
          - V(Enabled) keeps the public endpoint, filtered by the rules (virtual network rules need it);
            V(Disabled) allows private endpoints only.
        type: str
        choices: [Enabled, Disabled, SecuredByPerimeter]
        default: Enabled
      trusted_service_access_enabled:
        description: Let trusted Azure services through.
        type: bool
        default: true
      virtual_network_rules:
        description: Resource IDs of subnets allowed (they need the Microsoft.EventHub service endpoint).
        type: list
        elements: str
        default: []
      ip_rules:
        description: Public IPs or CIDRs allowed.
        type: list
        elements: str
        default: []
extends_documentation_fragment:
  - complianceflow.azure_infra.azure_auth
  - complianceflow.azure_infra.resource
  - complianceflow.azure_infra.tags
  - complianceflow.azure_infra.state
  - complianceflow.azure_infra.attributes
attributes:
  diff_mode:
    support: full
    description: Shows before/after of the namespace and of the rule set where they differ.
author:
  - ComplianceFlow platform engineering (@complianceflow)
"""

EXAMPLES = r"""
- name: Production namespace, 2 units inflating to 10, zone-redundant, reachable from the apps subnet only
  complianceflow.azure_infra.eventhub_namespace:
    resource_group: rg-cf-westeu-prod-1
    name: evhns-cf-westeu-prod-1-tf1d
    location: westeurope
    sku: Standard
    capacity: 2
    auto_inflate: true
    maximum_throughput_units: 10
    zone_redundant: true
    network_rule_set:
      default_action: Deny
      virtual_network_rules:
        - "{{ deployment.subnets.containerapps.id }}"
"""

RETURN = r"""
id:
  description: Resource ID of the namespace.
  returned: always
  type: str
namespace:
  description: The namespace as Azure returns it (predicted in check mode); empty when absent.
  returned: always
  type: dict
network_rule_set:
  description: The rule set as Azure returns it (predicted in check mode).
  returned: when O(network_rule_set) is given and O(state=present)
  type: dict
"""

from typing import Any

from ansible_collections.complianceflow.azure_infra.plugins.module_utils import args_common
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.azure_module import AzureModule, tags_body

TYPE = "Microsoft.EventHub/namespaces"
RULE_SET = "Microsoft.EventHub/namespaces/networkRuleSets"
# Azure's limits for throughput units per namespace (Basic and Standard; Premium counts processing units).
MAX_UNITS = {"Basic": 40, "Standard": 40, "Premium": 16}


def capability_problems(params: dict[str, Any]) -> list[str]:
    """What Azure would refuse, each naming the option (checked before any call)."""
    problems: list[str] = []
    sku, capacity = params["sku"], params["capacity"]
    if not 1 <= capacity <= MAX_UNITS[sku]:
        problems.append(f"capacity {capacity} is outside 1-{MAX_UNITS[sku]} for {sku}")
    if params["auto_inflate"]:
        if sku != "Standard":
            problems.append("auto_inflate is only available on the Standard tier")
        maximum = params.get("maximum_throughput_units")
        if maximum is None:
            problems.append("maximum_throughput_units is required when auto_inflate is true")
        elif not capacity <= maximum <= MAX_UNITS["Standard"]:
            problems.append(f"maximum_throughput_units {maximum} must be between capacity ({capacity}) and 40")
    if params["kafka_enabled"] and sku == "Basic":
        problems.append("kafka_enabled needs the Standard tier or above")
    rules = params.get("network_rule_set")
    if rules and sku == "Basic" and (rules["virtual_network_rules"] or rules["ip_rules"]):
        problems.append("network_rule_set rules need the Standard tier or above")
    return problems


def desired_namespace(params: dict[str, Any], creating: bool) -> dict[str, Any]:
    props: dict[str, Any] = {
        "isAutoInflateEnabled": params["auto_inflate"],
        "kafkaEnabled": params["kafka_enabled"],
        "zoneRedundant": params["zone_redundant"],
        "minimumTlsVersion": params["minimum_tls_version"],
        "disableLocalAuth": params["disable_local_auth"],
    }
    if params["auto_inflate"]:
        props["maximumThroughputUnits"] = params["maximum_throughput_units"]
    else:
        # Azure keeps the old maximum unless told 0 when auto-inflate is switched off.
        props["maximumThroughputUnits"] = 0
    body: dict[str, Any] = {"sku": {"name": params["sku"], "tier": params["sku"], "capacity": params["capacity"]},
                            **tags_body(params.get("tags")), "properties": props}
    if creating:
        body["location"] = params["location"]
    return body


def desired_rule_set(rules: dict[str, Any]) -> dict[str, Any]:
    return {"properties": {
        "defaultAction": rules["default_action"],
        "publicNetworkAccess": rules["public_network_access"],
        "trustedServiceAccessEnabled": rules["trusted_service_access_enabled"],
        "virtualNetworkRules": [{"subnet": {"id": subnet}, "ignoreMissingVnetServiceEndpoint": False}
                                for subnet in rules["virtual_network_rules"]],
        "ipRules": [{"ipMask": ip, "action": "Allow"} for ip in rules["ip_rules"]],
    }}


def main() -> None:
    az = AzureModule(args_common.argument_spec(
        args_common.RESOURCE, args_common.TAGS, args_common.STATE,
        sku={"type": "str", "choices": ["Basic", "Standard", "Premium"], "default": "Standard"},
        capacity={"type": "int", "default": 1},
        auto_inflate={"type": "bool", "default": False},
        maximum_throughput_units={"type": "int"},
        kafka_enabled={"type": "bool", "default": True},
        zone_redundant={"type": "bool", "default": False},
        minimum_tls_version={"type": "str", "choices": ["1.0", "1.1", "1.2"], "default": "1.2"},
        disable_local_auth={"type": "bool", "default": False},
        network_rule_set={"type": "dict", "options": {
            "default_action": {"type": "str", "choices": ["Allow", "Deny"], "default": "Deny"},
            "public_network_access": {"type": "str", "choices": ["Enabled", "Disabled", "SecuredByPerimeter"],
                                      "default": "Enabled"},
            "trusted_service_access_enabled": {"type": "bool", "default": True},
            "virtual_network_rules": {"type": "list", "elements": "str", "default": []},
            "ip_rules": {"type": "list", "elements": "str", "default": []},
        }},
    ))
    params = az.params
    namespace_id = az.provider_id(params["resource_group"], TYPE, params["name"])
    if params["state"] == "present":
        problems = capability_problems(params)
        if problems:
            az.module.fail_json(msg=f"{namespace_id}: " + "; ".join(problems))
    result = az.ensure(namespace_id, TYPE, desired_namespace(params, creating=True), label="namespace")
    out: dict[str, Any] = {"id": result["id"], "namespace": result["resource"]}
    if params["network_rule_set"] is not None and params["state"] == "present":
        # The rule set always exists with its namespace; the registry keys its rules by subnet ID and IP mask,
        # so neither their order nor the casing of an ID is a difference.
        created = result["differences"] == ["(create)"]
        rules = az.ensure_present(f"{namespace_id}/networkRuleSets/default", RULE_SET,
                                  desired_rule_set(params["network_rule_set"]), label="network_rule_set",
                                  actual=None if created else ...)
        out["network_rule_set"] = rules["resource"]
    az.exit(**out)


if __name__ == "__main__":
    main()
