# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Names of everything the collection creates, and Azure's rules for them: pure functions.

Pattern: ``<abbreviation>-cf-<deployment>[-<qualifier>]`` (``vnet-cf-westeu-test-1``,
``snet-cf-westeu-test-1-db``). Types whose Azure rules do not fit the pattern get their own
form (databases, storage accounts, Key Vaults, action group short names), and globally unique
names get a short suffix derived from the subscription id and the deployment: stable across
runs, different across subscriptions.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

DEPLOYMENT_RE = re.compile(r"^(?P<region>[a-z][a-z0-9]*)-(?P<env>[a-z]+)-(?P<instance>[1-9][0-9]?)$")
ORG = "cf"
SUFFIX_LENGTH = 4
_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"


class NamingError(ValueError):
    """A name that cannot be formed or would break Azure's rules."""


@dataclass(frozen=True)
class NameRule:
    """Azure's naming rule for one resource type (length, characters, ends)."""

    azure_type: str
    min_length: int
    max_length: int
    pattern: str  # full-match regex of allowed characters and ends
    no_double_hyphen: bool = False
    reserved_suffixes: tuple[str, ...] = ()
    scope: str = "resource group"

    def errors(self, name: str) -> list[str]:
        problems = []
        if not self.min_length <= len(name) <= self.max_length:
            problems.append(f"length {len(name)} is outside {self.min_length}-{self.max_length}")
        if not re.fullmatch(self.pattern, name):
            problems.append(f"does not match {self.pattern}")
        if self.no_double_hyphen and "--" in name:
            problems.append("contains consecutive hyphens")
        for suffix in self.reserved_suffixes:
            if name.endswith(suffix):
                problems.append(f"ends with the reserved {suffix!r}")
        return problems


_HYPHENATED_63 = r"[a-z0-9][a-z0-9-]*[a-z0-9]|[a-z0-9]"
_GENERAL_NAME = r"[A-Za-z0-9][A-Za-z0-9_.()-]*[A-Za-z0-9_()]|[A-Za-z0-9]"
_NO_SPECIAL = r"[^%&\\?/<>*#+:@{}]*[^%&\\?/<>*#+:@{}.\s]"

# One entry per kind of resource the collection names. Sources: Azure's "Naming rules and
# restrictions for Azure resources" and each provider's REST API reference.
NAME_RULES: dict[str, NameRule] = {
    "resource_group": NameRule("Microsoft.Resources/resourceGroups", 1, 90, r"[-\w._()]*[-\w_()]", scope="subscription"),
    "virtual_network": NameRule("Microsoft.Network/virtualNetworks", 2, 64, r"[A-Za-z0-9][A-Za-z0-9_.-]*[A-Za-z0-9_]"),
    "subnet": NameRule("Microsoft.Network/virtualNetworks/subnets", 1, 80, r"[A-Za-z0-9]([A-Za-z0-9_.-]*[A-Za-z0-9_])?"),
    "network_security_group": NameRule("Microsoft.Network/networkSecurityGroups", 1, 80, _GENERAL_NAME),
    "security_rule": NameRule("Microsoft.Network/networkSecurityGroups/securityRules", 1, 80, _GENERAL_NAME),
    "private_endpoint": NameRule("Microsoft.Network/privateEndpoints", 2, 64, r"[A-Za-z0-9][A-Za-z0-9_.-]*[A-Za-z0-9_]"),
    "private_dns_zone_group": NameRule("Microsoft.Network/privateEndpoints/privateDnsZoneGroups", 1, 80, _GENERAL_NAME),
    "private_dns_link": NameRule("Microsoft.Network/privateDnsZones/virtualNetworkLinks", 1, 80, _GENERAL_NAME),
    "network_watcher": NameRule("Microsoft.Network/networkWatchers", 1, 80, _GENERAL_NAME),
    "flow_log": NameRule("Microsoft.Network/networkWatchers/flowLogs", 1, 80, _GENERAL_NAME),
    "postgresql_server": NameRule("Microsoft.DBforPostgreSQL/flexibleServers", 3, 63, _HYPHENATED_63, scope="global"),
    "postgresql_database": NameRule("Microsoft.DBforPostgreSQL/flexibleServers/databases", 1, 63, r"[a-z_][a-z0-9_]*"),
    "redis": NameRule("Microsoft.Cache/redis", 1, 63, _HYPHENATED_63, no_double_hyphen=True, scope="global"),
    "eventhub_namespace": NameRule(
        "Microsoft.EventHub/namespaces", 6, 50, r"[A-Za-z][A-Za-z0-9-]*[A-Za-z0-9]",
        reserved_suffixes=("-sb", "-mgmt"), scope="global",
    ),
    "event_hub": NameRule("Microsoft.EventHub/namespaces/eventhubs", 1, 256, r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?"),
    "consumer_group": NameRule(
        "Microsoft.EventHub/namespaces/eventhubs/consumergroups", 1, 50, r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?"
    ),
    "sas_rule": NameRule(
        "Microsoft.EventHub/namespaces/eventhubs/authorizationRules", 1, 256, r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?"
    ),
    "key_vault": NameRule(
        "Microsoft.KeyVault/vaults", 3, 24, r"[A-Za-z][A-Za-z0-9-]*[A-Za-z0-9]", no_double_hyphen=True, scope="global"
    ),
    "key_vault_secret": NameRule("Microsoft.KeyVault/vaults/secrets", 1, 127, r"[A-Za-z0-9-]+"),
    "storage_account": NameRule("Microsoft.Storage/storageAccounts", 3, 24, r"[a-z0-9]+", scope="global"),
    "container_registry": NameRule("Microsoft.ContainerRegistry/registries", 5, 50, r"[a-z0-9]+", scope="global"),
    "container_apps_environment": NameRule("Microsoft.App/managedEnvironments", 2, 60, r"[a-z][a-z0-9-]*[a-z0-9]"),
    "log_analytics_workspace": NameRule(
        "Microsoft.OperationalInsights/workspaces", 4, 63, r"[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9]"
    ),
    "application_insights": NameRule("Microsoft.Insights/components", 1, 260, _NO_SPECIAL),
    "action_group": NameRule("Microsoft.Insights/actionGroups", 1, 260, _NO_SPECIAL),
    "action_group_short": NameRule("Microsoft.Insights/actionGroups (groupShortName)", 1, 12, r"[A-Za-z0-9-]+"),
    "metric_alert": NameRule("Microsoft.Insights/metricAlerts", 1, 260, _NO_SPECIAL),
    "log_alert": NameRule("Microsoft.Insights/scheduledQueryRules", 1, 260, _NO_SPECIAL),
    "availability_test": NameRule("Microsoft.Insights/webtests", 1, 260, _NO_SPECIAL),
    "cost_anomaly_alert": NameRule("Microsoft.CostManagement/scheduledActions", 1, 260, r"[A-Za-z0-9_-]+",
                                   scope="subscription"),
    "diagnostic_setting": NameRule("Microsoft.Insights/diagnosticSettings", 1, 260, _NO_SPECIAL),
    "budget": NameRule("Microsoft.Consumption/budgets", 1, 63, r"[A-Za-z0-9_-]+"),
    "policy_assignment": NameRule("Microsoft.Authorization/policyAssignments", 1, 64, r"[^%&\\?/<>*#+:@{}]+"),
    "policy_definition": NameRule("Microsoft.Authorization/policyDefinitions", 1, 64, r"[^%&\\?/<>*#+:@{}]+"),
    "management_lock": NameRule("Microsoft.Authorization/locks", 1, 90, r"[^<>*%&:\\?+/]+"),
    "public_ip": NameRule("Microsoft.Network/publicIPAddresses", 1, 80, r"[A-Za-z0-9][A-Za-z0-9_.-]*[A-Za-z0-9_]"),
    "application_gateway": NameRule("Microsoft.Network/applicationGateways", 1, 80,
                                    r"[A-Za-z0-9][A-Za-z0-9_.-]*[A-Za-z0-9_]"),
    "waf_policy": NameRule("Microsoft.Network/ApplicationGatewayWebApplicationFirewallPolicies", 1, 128,
                           r"[A-Za-z0-9][A-Za-z0-9_.-]*[A-Za-z0-9_]"),
    "managed_identity": NameRule("Microsoft.ManagedIdentity/userAssignedIdentities", 3, 128,
                                 r"[A-Za-z0-9][A-Za-z0-9_-]*"),
}

# Kinds that follow ``<abbreviation>-cf-<deployment>[-<qualifier>]``.
ABBREVIATIONS: dict[str, str] = {
    "resource_group": "rg",
    "virtual_network": "vnet",
    "subnet": "snet",
    "network_security_group": "nsg",
    "private_endpoint": "pe",
    "private_dns_link": "link",
    "flow_log": "fl",
    "postgresql_server": "psql",
    "redis": "redis",
    "eventhub_namespace": "evhns",
    "log_analytics_workspace": "log",
    "application_insights": "appi",
    "action_group": "ag",
    "metric_alert": "alert",
    "log_alert": "alert",
    "availability_test": "avail",
    "cost_anomaly_alert": "anomaly",
    "diagnostic_setting": "diag",
    "budget": "budget",
    "policy_assignment": "pa",
    "policy_definition": "pd",
    "management_lock": "lock",
    "managed_identity": "id",
    "container_apps_environment": "cae",
    "public_ip": "pip",
    "application_gateway": "agw",
    "waf_policy": "waf",
}

GLOBALLY_UNIQUE = frozenset(kind for kind, rule in NAME_RULES.items() if rule.scope == "global")


@dataclass(frozen=True)
class Deployment:
    name: str
    region: str
    env: str
    instance: int


def parse_deployment(name: Any) -> Deployment:
    """Split ``<region_code>-<env>-<instance>``; instance is 1-99 without leading zeros."""
    if not isinstance(name, str):
        raise NamingError(f"deployment name {name!r} is not a string")
    match = DEPLOYMENT_RE.fullmatch(name)
    if not match:
        raise NamingError(
            f"deployment name {name!r} is not <region_code>-<env>-<instance> "
            "(lowercase region code and environment, instance 1-99, e.g. westeu-test-1)"
        )
    return Deployment(name, match["region"], match["env"], int(match["instance"]))


def name_suffix(subscription_id: str, deployment: str, length: int = SUFFIX_LENGTH) -> str:
    """A short base-36 suffix, stable for one subscription and deployment."""
    digest = hashlib.sha256(f"{str(subscription_id).strip().lower()}/{deployment}".encode()).digest()
    number = int.from_bytes(digest[:8], "big")
    chars = []
    for _position in range(length):
        number, rem = divmod(number, 36)
        chars.append(_ALPHABET[rem])
    return "".join(chars)


def compact_deployment(deployment: str, regions: Mapping[str, Any] | None = None,
                       environments: Mapping[str, Any] | None = None) -> str:
    """``westeu-test-1`` -> ``weut1``, from the registries' short codes (for short-name types)."""
    parsed = parse_deployment(deployment)
    region_short = _short_code(regions, parsed.region)
    env_short = _short_code(environments, parsed.env)
    return f"{region_short}{env_short}{parsed.instance}"


def _short_code(registry: Mapping[str, Any] | None, key: str) -> str:
    entry = (registry or {}).get(key)
    if isinstance(entry, Mapping) and entry.get("short"):
        return str(entry["short"])
    return key


def _qualified(parts: list[str]) -> str:
    return "-".join(p for p in parts if p)


def resource_name(deployment: str, kind: str, subscription_id: str | None = None,
                  regions: Mapping[str, Any] | None = None, environments: Mapping[str, Any] | None = None,
                  location: str | None = None, **qualifiers: Any) -> str:
    """The name of a resource of ``kind`` in ``deployment``.

    Qualifiers: ``qualifier`` (tier, target or purpose: ``snet-cf-<d>-db``), ``service`` (for
    ``postgresql_database`` and ``consumer_group``), ``secret`` (``key_vault_secret``),
    ``hub`` (``event_hub``), ``right`` (``sas_rule``: send or listen). Globally unique kinds
    need ``subscription_id``. The result is checked against Azure's rule for the kind.
    """
    if kind not in NAME_RULES:
        raise NamingError(f"unknown resource kind {kind!r}; known kinds: {', '.join(sorted(NAME_RULES))}")
    parsed = parse_deployment(deployment)
    qualifier = qualifiers.get("qualifier")
    qualifier = str(qualifier).lower() if qualifier not in (None, "") else ""
    suffix = ""
    if kind in GLOBALLY_UNIQUE:
        if not subscription_id:
            raise NamingError(f"{kind} names are globally unique and need the subscription id")
        suffix = name_suffix(subscription_id, parsed.name)

    if kind == "postgresql_database":
        service = _required(qualifiers, "service", kind)
        name = f"complianceflow_{service}_{parsed.name.replace('-', '_')}"
    elif kind == "key_vault_secret":
        name = _required(qualifiers, "secret", kind)
    elif kind == "event_hub":
        name = _required(qualifiers, "hub", kind)
    elif kind == "consumer_group":
        name = f"{_required(qualifiers, 'service', kind)}-consumer"
    elif kind == "sas_rule":
        name = _required(qualifiers, "right", kind)
    elif kind == "private_dns_zone_group":
        name = "default"
    elif kind == "network_watcher":
        # Azure allows one network watcher per region and subscription; Azure's own convention
        # names it so, and every deployment in that region shares it.
        if not location:
            raise NamingError("network_watcher names need the Azure location")
        name = f"NetworkWatcher_{location}"
    elif kind == "security_rule":
        name = _required(qualifiers, "qualifier", kind)
    elif kind == "storage_account":
        compact = parsed.name.replace("-", "")
        if len(f"st{ORG}{compact}{suffix}") > NAME_RULES[kind].max_length:
            compact = compact_deployment(parsed.name, regions, environments)
        name = f"st{ORG}{compact}{suffix}"
    elif kind == "container_registry":
        # Letters and digits only (the registry's DNS name <name>.azurecr.io); a /16-long deployment name fits.
        name = f"cr{ORG}{parsed.name.replace('-', '')}{suffix}"
    elif kind == "key_vault":
        name = _qualified(["kv", ORG, parsed.name, suffix])
        if len(name) > NAME_RULES[kind].max_length:
            name = _qualified(["kv", ORG, compact_deployment(parsed.name, regions, environments), suffix])
    elif kind == "action_group_short":
        name = f"{ORG}-{compact_deployment(parsed.name, regions, environments)}"[:12]
    else:
        name = _qualified([ABBREVIATIONS[kind], ORG, parsed.name, qualifier, suffix])
    problems = NAME_RULES[kind].errors(name)
    if problems:
        raise NamingError(f"{kind} name {name!r} breaks Azure's rule for {NAME_RULES[kind].azure_type}: "
                          + "; ".join(problems))
    return name


def _required(qualifiers: Mapping[str, Any], key: str, kind: str) -> str:
    value = qualifiers.get(key)
    if value in (None, ""):
        raise NamingError(f"{kind} names need the {key!r} qualifier")
    return str(value)


def name_errors(kind: str, name: str) -> list[str]:
    """Azure's complaints about ``name`` for ``kind`` (empty when valid)."""
    if kind not in NAME_RULES:
        raise NamingError(f"unknown resource kind {kind!r}")
    return NAME_RULES[kind].errors(name)
