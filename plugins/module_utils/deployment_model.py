# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The deployment model: every input validated, every name, ID, CIDR, tag and tier setting derived.

``validate_inputs`` returns the problems with a deployment's inputs, each naming the variable.
``build_deployment`` turns valid inputs into the ``deployment`` fact the roles read, including
``resources``: the desired state of the whole deployment as ARM resources (the offline plan).
Pure functions: no I/O, no Azure call.
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlparse

from ansible_collections.complianceflow.azure_infra.plugins.module_utils.cidr_plan import (
    CidrPlanError,
    check_allocations,
    check_source_ranges,
    deployment_cidr,
    subnet_plan,
)
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.naming_rules import (
    NamingError,
    parse_deployment,
    resource_name,
)
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.resource_types import (
    api_version,
    api_versions_by_namespace,
)

EMAIL_RE = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                      r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")
SUBSCRIPTION_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
SERVICE_RE = re.compile(r"^[a-z][a-z0-9]{0,19}$")
# A PostgreSQL extension as azure.extensions names it (uuid-ossp, pg_stat_statements, postgis_topology).
EXTENSION_RE = re.compile(r"^[a-z0-9_][a-z0-9_-]{0,62}$")
# The extensions the database role creates in every service database unless database_extensions says otherwise.
DEFAULT_EXTENSIONS = ("pg_stat_statements", "pg_trgm", "uuid-ossp")
GUID_RE = SUBSCRIPTION_RE

# Every tier file (group_vars/env_<env>.yml) must define each of these keys under cf_tier.
TIER_SCHEMA: dict[str, tuple[str, ...]] = {
    "postgresql": ("version", "sku_name", "sku_tier", "storage_size_gb", "storage_auto_grow",
                   "backup_retention_days", "geo_redundant_backup", "high_availability",
                   "pgbouncer_pool_size", "log_min_duration_statement_ms"),
    "redis": ("sku_name", "sku_family", "sku_capacity", "shard_count", "zones", "rdb_backup_enabled",
              "rdb_backup_frequency_minutes", "maxmemory_policy"),
    "eventhubs": ("sku", "capacity", "auto_inflate", "maximum_throughput_units", "zone_redundant",
                  "retention_days", "kafka_enabled"),
    "keyvault": ("sku", "soft_delete_retention_days", "purge_protection", "secret_expiry_days"),
    "storage": ("sku",),
    "monitoring": ("retention_days", "daily_quota_gb", "sampling_percentage", "flow_log_retention_days", "alerts"),
    "budget": ("amount", "time_grain", "thresholds"),
    "policy": ("deny_premium_skus", "allowed_sku_whitelist"),
    "registry": ("sku", "retention_days", "zone_redundancy", "private_endpoint"),
    "edge": ("min_capacity", "max_capacity", "zone_redundant", "waf_mode", "rate_limit_per_minute", "probe_path",
             "certificate"),
    "apps": ("zone_redundant",),
}
ALERT_KEYS = ("postgresql_cpu_percent", "postgresql_storage_percent", "postgresql_failed_connections",
              "redis_memory_percent", "redis_server_load_percent", "eventhubs_throttled_requests",
              "eventhubs_server_errors", "appinsights_failed_request_percent", "appinsights_p95_response_ms",
              "keyvault_unauthorized_requests", "postgresql_memory_percent", "postgresql_replication_lag_bytes",
              "nsg_denied_flows", "keyvault_secrets_near_expiry", "appinsights_availability_percent")
# Alerts a tier may leave out with null (a threshold that makes no sense there).
OPTIONAL_ALERT_KEYS = ("postgresql_replication_lag_bytes", "keyvault_secrets_near_expiry",
                       "appinsights_availability_percent")
# Key Vault publishes a secret's near-expiry event (Microsoft.KeyVault.SecretNearExpiry) 30 days before its expiry:
# a shorter validity would start out near expiry.
NEAR_EXPIRY_DAYS = 30
# Where the availability test runs from (Application Insights location IDs): Azure recommends at least five.
AVAILABILITY_TEST_LOCATIONS = ("emea-nl-ams-azr", "emea-gb-db3-azr", "emea-fr-pra-edge", "emea-ru-msa-edge",
                               "us-va-ash-azr")

# Every API version lives in the per-type registry; the fact keeps them by type for playbooks that read them.
API_VERSIONS: dict[str, str] = api_versions_by_namespace()

# Built-in role and policy definitions (their IDs are the same in every Azure cloud).
KEY_VAULT_SECRETS_OFFICER = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7"
KEY_VAULT_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
EVENT_HUBS_DATA_SENDER = "2b629674-e913-4c01-ae53-ef4638d8f975"
EVENT_HUBS_DATA_RECEIVER = "a638d3c7-ab3a-418d-83e6-5f17a39d4fde"
ACR_PULL = "7f951dda-4ed3-4680-a7ca-43fe172d538d"
# Create, import and read the vault's certificates (the runner issues or imports the gateway's certificate).
KEY_VAULT_CERTIFICATES_OFFICER = "a4417e6f-fecd-4de8-b567-7b0420556985"
# The outputs document's version: a consumer that reads a newer major version must not guess.
OUTPUTS_SCHEMA_VERSION = 1
OUTPUTS_SECRET = "deployment-outputs"
POLICY_REQUIRE_TAG = "/providers/Microsoft.Authorization/policyDefinitions/871b6d14-10aa-478d-b590-94f262ecfa99"
POLICY_NOT_ALLOWED_RESOURCE_TYPES = (
    "/providers/Microsoft.Authorization/policyDefinitions/6c112d4e-5bc7-47ae-a041-ea2d9dccd749"
)
# SKUs refused outside production unless whitelisted (premium and business-critical tiers).
PREMIUM_SKUS = ("Premium", "P1", "P2", "P3", "P4", "P5", "MemoryOptimized", "Premium_LRS", "Premium_ZRS",
                "Dedicated", "Isolated", "BusinessCritical")
# The SKU field (policy alias) that names the tier of each resource type the collection creates.
PREMIUM_SKU_ALIASES = (
    ("Microsoft.Cache/Redis", "Microsoft.Cache/Redis/sku.name"),
    ("Microsoft.ContainerRegistry/registries", "Microsoft.ContainerRegistry/registries/sku.name"),
    ("Microsoft.DBforPostgreSQL/flexibleServers", "Microsoft.DBforPostgreSQL/flexibleServers/sku.tier"),
    ("Microsoft.EventHub/namespaces", "Microsoft.EventHub/namespaces/sku.tier"),
    ("Microsoft.KeyVault/vaults", "Microsoft.KeyVault/vaults/sku.name"),
    ("Microsoft.Storage/storageAccounts", "Microsoft.Storage/storageAccounts/sku.name"),
)


def premium_sku_policy_rule() -> dict[str, Any]:
    """Custom policy rule denying the SKUs in parameter ``deniedSkus`` (Azure has no built-in covering these types)."""
    return {
        "if": {"anyOf": [{"allOf": [{"field": "type", "equals": rtype},
                                    {"field": alias, "in": "[parameters('deniedSkus')]"}]}
                         for rtype, alias in PREMIUM_SKU_ALIASES]},
        "then": {"effect": "[parameters('effect')]"},
    }


PREMIUM_SKU_POLICY_PARAMETERS = {
    "deniedSkus": {
        "type": "Array",
        "metadata": {"displayName": "Denied SKU names and tiers", "description": "SKU names or tiers refused in this scope."},
    },
    "effect": {"type": "String", "allowedValues": ["Deny", "Audit", "Disabled"], "defaultValue": "Deny",
               "metadata": {"displayName": "Effect"}},
}

REGISTRY_SKUS = ("Basic", "Standard", "Premium")
# Microsoft Defender for Containers: vulnerability assessment of the images in the subscription's registries.
DEFENDER_CONTAINER_EXTENSIONS = ("ContainerRegistriesVulnerabilityAssessments",)

# Application Gateway WAF_v2: autoscale bounds Azure accepts, WAF modes, how the TLS certificate gets into the vault.
GATEWAY_CAPACITY = (0, 125)
WAF_MODES = ("Detection", "Prevention")
CERTIFICATE_SOURCES = ("self-signed", "import")
# OWASP Core Rule Set on Application Gateway (its newest CRS version; Microsoft_DefaultRuleSet 2.1 is the successor).
WAF_RULE_SET = {"ruleSetType": "OWASP", "ruleSetVersion": "3.2"}
# The operators' PFX, given to the keyvault role at run time (never in the plan).
GATEWAY_CERTIFICATE_PFX = "<runtime:gateway-certificate-pfx>"
GATEWAY_CERTIFICATE_PASSWORD = "<runtime:gateway-certificate-password>"
HOST_NAME_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")

PLACEHOLDER_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
# Values only known at run time, resolved by the resources module (plugins/module_utils/engine.py).
RUNNER_PRINCIPAL = "<runtime:principal-id>"
TENANT = "<runtime:tenant-id>"
MONTH_START = "<runtime:month-start>"

# Which role applies each planned type (private endpoints and secrets name their role when they are added).
ROLE_OF_TYPE = {
    "Microsoft.Resources/resourceGroups": "resource_group",
    "Microsoft.Authorization/locks": "resource_group",
    "Microsoft.Consumption/budgets": "governance",
    "Microsoft.Authorization/policyDefinitions": "governance",
    "Microsoft.Authorization/policyAssignments": "governance",
    "Microsoft.Network/networkSecurityGroups": "network",
    "Microsoft.Network/virtualNetworks": "network",
    "Microsoft.Network/virtualNetworks/subnets": "network",
    "Microsoft.Network/privateDnsZones": "network",
    "Microsoft.Network/privateDnsZones/virtualNetworkLinks": "network",
    "Microsoft.Storage/storageAccounts": "network",
    "Microsoft.Network/networkWatchers": "network",
    "Microsoft.KeyVault/vaults": "keyvault",
    "Microsoft.Authorization/roleAssignments": "keyvault",
    "Microsoft.KeyVault/vaults/secrets": "keyvault",
    "Microsoft.DBforPostgreSQL/flexibleServers": "database",
    "Microsoft.DBforPostgreSQL/flexibleServers/configurations": "database",
    "Microsoft.DBforPostgreSQL/flexibleServers/databases": "database",
    "Microsoft.DBforPostgreSQL/flexibleServers/administrators": "database",
    "Microsoft.Cache/redis": "redis",
    "Microsoft.EventHub/namespaces": "messaging",
    "Microsoft.EventHub/namespaces/networkRuleSets": "messaging",
    "Microsoft.EventHub/namespaces/eventhubs": "messaging",
    "Microsoft.EventHub/namespaces/eventhubs/consumergroups": "messaging",
    "Microsoft.EventHub/namespaces/eventhubs/authorizationRules": "messaging",
    # Traffic analytics sends the flow log to the workspace, which the monitoring role creates.
    "Microsoft.Network/networkWatchers/flowLogs": "monitoring",
    "Microsoft.OperationalInsights/workspaces": "monitoring",
    "Microsoft.Insights/components": "monitoring",
    "Microsoft.Insights/diagnosticSettings": "monitoring",
    "Microsoft.Insights/actionGroups": "monitoring",
    "Microsoft.Insights/metricAlerts": "monitoring",
    "Microsoft.Insights/scheduledQueryRules": "monitoring",
    "Microsoft.ContainerRegistry/registries": "registry",
    # Subscription-wide: shared by every deployment of the subscription, kept by destroy.yml.
    "Microsoft.Security/pricings": "registry",
    "Microsoft.Insights/activityLogAlerts": "monitoring",
    "Microsoft.Insights/webtests": "monitoring",
    "Microsoft.CostManagement/scheduledActions": "monitoring",
    "Microsoft.ManagedIdentity/userAssignedIdentities": "identity",
    "Microsoft.KeyVault/vaults/certificates": "keyvault",
    "Microsoft.Network/publicIPAddresses": "edge",
    "Microsoft.Network/ApplicationGatewayWebApplicationFirewallPolicies": "edge",
    "Microsoft.Network/applicationGateways": "edge",
    "Microsoft.App/managedEnvironments": "apps",
    "Microsoft.Network/privateDnsZones/A": "apps",
}

ROLE_ASSIGNMENT_NAMESPACE = uuid.UUID("6f1c3d2a-8a71-4f6e-9a43-3c1f0e1b7c55")


# ---------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------

def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def validate_inputs(inputs: Mapping[str, Any]) -> list[str]:
    """Every problem with a deployment's inputs, each message naming the variable and deployment."""
    name = inputs.get("deployment")
    problems: list[str] = []

    def problem(variable: str, message: str) -> None:
        problems.append(f"{name}: {variable}: {message}")

    try:
        parsed = parse_deployment(name)
    except NamingError as exc:
        problems.append(f"inventory_hostname: {exc}")
        return problems

    regions = inputs.get("regions")
    if not isinstance(regions, Mapping) or not regions:
        problem("cf_regions", "the region registry is missing (group_vars/all.yml)")
    elif parsed.region not in regions:
        problem("cf_regions", f"region code {parsed.region!r} is unknown; known: {', '.join(sorted(regions))}")
    else:
        entry = regions[parsed.region]
        if not isinstance(entry, Mapping) or _missing(entry.get("location")):
            problem(f"cf_regions.{parsed.region}", "needs a location (the Azure region name)")

    if isinstance(regions, Mapping):
        _check_unique_short_codes(regions, "cf_regions", problem)

    environments = inputs.get("environments")
    if not isinstance(environments, Mapping) or not environments:
        problem("cf_environments", "the environment registry is missing (group_vars/all.yml)")
    elif parsed.env not in environments:
        problem("cf_environments", f"environment {parsed.env!r} is unknown; known: {', '.join(sorted(environments))}")

    if isinstance(environments, Mapping):
        _check_unique_short_codes(environments, "cf_environments", problem)

    groups = inputs.get("groups")
    if isinstance(groups, Sequence) and not isinstance(groups, str):
        for group in (f"env_{parsed.env}", f"region_{parsed.region}"):
            if group not in groups:
                problem("group_names", f"the host must be in group {group} (inventories/{name}/hosts.yml)")

    try:
        deployment_cidr(parsed.name, inputs.get("allocations"))
    except CidrPlanError as exc:
        problem("cf_cidr_allocations", str(exc))
    else:
        try:
            check_allocations(inputs.get("allocations"))
        except CidrPlanError as exc:
            problem("cf_cidr_allocations", str(exc))
        try:
            subnet_plan(str(inputs["allocations"][parsed.name]), inputs.get("subnet_tiers"), parsed.env)
        except CidrPlanError as exc:
            problem("cf_subnet_tiers", str(exc))

    policy = inputs.get("tag_policy")
    required_tags = policy.get("required", []) if isinstance(policy, Mapping) else None
    if required_tags is None:
        problem("cf_tag_policy", "the tag policy is missing (group_vars/all.yml)")
    tag_sources = {"app": ("cf_app", inputs.get("app")), "env": ("inventory group env_*", parsed.env),
                   "owner": ("cf_owner", inputs.get("owner")),
                   "costCenter": ("cf_cost_center", inputs.get("cost_center"))}
    for tag in required_tags or []:
        variable, value = tag_sources.get(tag, (f"cf_extra_tags.{tag}", (inputs.get("extra_tags") or {}).get(tag)))
        if _missing(value):
            problem(variable, f"required tag {tag!r} has no value")
        elif not isinstance(value, (str, int)) or len(str(value)) > 256 or re.search(r"[<>%&\\?/]", str(value)):
            problem(variable, f"{value!r} is not a valid Azure tag value (at most 256 characters, none of <>%&\\?/)")

    emails = inputs.get("alert_emails")
    if not isinstance(emails, Sequence) or isinstance(emails, str) or not emails:
        problem("cf_alert_emails", "needs at least one e-mail address for alerts and budget notifications")
    else:
        for email in emails:
            if not isinstance(email, str) or not EMAIL_RE.match(email):
                problem("cf_alert_emails", f"{email!r} is not a valid e-mail address")

    try:
        check_source_ranges(inputs.get("admin_source_ranges"), "cf_admin_source_ranges")
    except CidrPlanError as exc:
        problems.append(f"{name}: {exc}")

    ranges = inputs.get("keyvault_runner_ip_ranges")
    if ranges is not None:
        if not isinstance(ranges, Sequence) or isinstance(ranges, str):
            problem("keyvault_runner_ip_ranges", "must be a list of IPv4 addresses or CIDR ranges")
        else:
            for value in ranges:
                try:
                    ipaddress.IPv4Network(str(value), strict=True)
                except ValueError:
                    problem("keyvault_runner_ip_ranges", f"{value!r} is not an IPv4 address or CIDR range "
                                                         "(no host bits set)")
    mode = inputs.get("policy_enforcement_mode")
    if mode is not None and mode not in ("Default", "DoNotEnforce"):
        problem("governance_enforcement_mode", f"{mode!r} is neither Default nor DoNotEnforce")
    anomaly_alert = inputs.get("cost_anomaly_alert")
    if anomaly_alert is not None and not isinstance(anomaly_alert, bool):
        problem("monitoring_cost_anomaly_alert", f"{anomaly_alert!r} is not true or false")
    recipients = inputs.get("cost_anomaly_recipients")
    if recipients not in (None, ""):
        if not isinstance(recipients, Sequence) or isinstance(recipients, str) or len(recipients) > 20:
            problem("monitoring_cost_anomaly_recipients", "must be a list of at most 20 e-mail addresses "
                                                          "(empty: the deployment's cf_alert_emails)")
        else:
            for address in recipients:
                if not isinstance(address, str) or not EMAIL_RE.fullmatch(address):
                    problem("monitoring_cost_anomaly_recipients", f"{address!r} is not an e-mail address")
    url = inputs.get("availability_url")
    if url not in (None, ""):
        parsed_url = urlparse(str(url))
        if not isinstance(url, str) or parsed_url.scheme not in ("http", "https") or not parsed_url.hostname:
            problem("monitoring_availability_url", f"{url!r} is not an absolute http(s) URL (or empty: no test)")
    entra = inputs.get("entra_admin_group")
    entra_invalid = not isinstance(entra, Mapping) or not GUID_RE.match(str(entra.get("object_id") or "")) \
        or _missing(entra.get("name"))
    if entra not in (None, "", {}) and entra_invalid:
        problem("database_entra_admin_group", "needs object_id (the group's object ID, a GUID) and name (its "
                                              "display name)")
    extensions = inputs.get("database_extensions")
    if extensions is not None:
        if not isinstance(extensions, Sequence) or isinstance(extensions, str):
            problem("database_extensions", "must be a list of PostgreSQL extension names")
        else:
            for extension in extensions:
                if not isinstance(extension, str) or not EXTENSION_RE.match(extension):
                    problem("database_extensions", f"{extension!r} is not a PostgreSQL extension name (lower case "
                                                   "letters, digits, _ and -, as azure.extensions lists them)")
    registry = inputs.get("container_registry_id")
    if registry not in (None, "") and not re.match(
            r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.ContainerRegistry/registries/[^/]+$",
            str(registry), re.IGNORECASE):
        problem("identity_container_registry_id", f"{registry!r} is not a container registry's resource ID")

    subscription = inputs.get("subscription_id")
    if not _missing(subscription) and not SUBSCRIPTION_RE.match(str(subscription)):
        problem("cf_subscription_id", f"{subscription!r} is not a subscription id (a GUID)")

    services = inputs.get("services")
    if not isinstance(services, Sequence) or isinstance(services, str) or not services:
        problem("cf_services", "the service registry is missing or empty")
    else:
        for service in services:
            if not isinstance(service, str) or not SERVICE_RE.match(service):
                problem("cf_services", f"{service!r} is not a service name (lowercase letters and digits, 1-20)")
        if len(set(services)) != len(services):
            problem("cf_services", "a service is listed twice")

    hubs = inputs.get("event_hubs")
    if not isinstance(hubs, Sequence) or isinstance(hubs, str) or not hubs:
        problem("cf_event_hubs", "the event hub registry is missing or empty")
    else:
        for hub in hubs:
            if not isinstance(hub, Mapping) or _missing(hub.get("name")):
                problem("cf_event_hubs", f"{hub!r} needs a name")
                continue
            partitions = hub.get("partitions")
            if not isinstance(partitions, int) or isinstance(partitions, bool) or not 1 <= partitions <= 32:
                problem(f"cf_event_hubs[{hub['name']}].partitions", f"{partitions!r} is not 1-32 (Standard tier)")
            for field_name in ("consumers", "producers"):
                for service in hub.get(field_name) or []:
                    if isinstance(services, Sequence) and service not in services:
                        problem(f"cf_event_hubs[{hub['name']}].{field_name}", f"{service!r} is not in cf_services")

    tier = inputs.get("tier")
    if not isinstance(tier, Mapping):
        problem("cf_tier", f"tier settings are missing (group_vars/env_{parsed.env}.yml)")
    else:
        for section, keys in TIER_SCHEMA.items():
            values = tier.get(section)
            if not isinstance(values, Mapping):
                problem(f"cf_tier.{section}", f"is missing (group_vars/env_{parsed.env}.yml)")
                continue
            for key in keys:
                if key not in values:
                    problem(f"cf_tier.{section}.{key}", f"is missing (group_vars/env_{parsed.env}.yml)")
        alerts = (tier.get("monitoring") or {}).get("alerts") if isinstance(tier.get("monitoring"), Mapping) else None
        if isinstance(alerts, Mapping):
            for key in ALERT_KEYS:
                if key in OPTIONAL_ALERT_KEYS and key in alerts and alerts[key] is None:
                    continue
                if not isinstance(alerts.get(key), (int, float)) or isinstance(alerts.get(key), bool):
                    problem(f"cf_tier.monitoring.alerts.{key}", "needs a numeric threshold")
        kv_settings = tier.get("keyvault")
        if isinstance(kv_settings, Mapping) and kv_settings.get("secret_expiry_days") is not None:
            days = kv_settings["secret_expiry_days"]
            if not isinstance(days, int) or isinstance(days, bool) or not NEAR_EXPIRY_DAYS < days <= 3650:
                problem("cf_tier.keyvault.secret_expiry_days",
                        f"{days!r} is not {NEAR_EXPIRY_DAYS + 1}-3650 days or null (Key Vault warns "
                        f"{NEAR_EXPIRY_DAYS} days before a secret expires) (group_vars/env_{parsed.env}.yml)")
        if "resource_lock" not in tier:
            problem("cf_tier.resource_lock", f"is missing (group_vars/env_{parsed.env}.yml)")
        _check_registry_tier(tier, parsed.env, problem)
        _check_edge_tier(tier, parsed.env, inputs, problem)
        apps = tier.get("apps")
        if isinstance(apps, Mapping) and not isinstance(apps.get("zone_redundant"), bool):
            problem("cf_tier.apps.zone_redundant",
                    f"{apps.get('zone_redundant')!r} is not true or false (group_vars/env_{parsed.env}.yml)")
    defender = inputs.get("defender_for_containers")
    if defender is not None and not isinstance(defender, bool):
        problem("registry_defender_for_containers", f"{defender!r} is not true or false")
    return problems


def _check_registry_tier(tier: Mapping[str, Any], env: str, problem: Any) -> None:
    """The registry's SKU decides what it may have; the premium-SKU deny policy must let a Premium registry through
    explicitly (production does not assign the policy; elsewhere Premium must be in its whitelist)."""
    registry = tier.get("registry")
    if not isinstance(registry, Mapping) or "sku" not in registry:
        return
    where = f"(group_vars/env_{env}.yml)"
    sku = registry.get("sku")
    if sku not in REGISTRY_SKUS:
        problem("cf_tier.registry.sku", f"{sku!r} is not one of {', '.join(REGISTRY_SKUS)} {where}")
        return
    days = registry.get("retention_days")
    if days is not None:
        if not isinstance(days, int) or isinstance(days, bool) or not 0 <= days <= 365:
            problem("cf_tier.registry.retention_days", f"{days!r} is not 0-365 days or null {where}")
        elif sku != "Premium":
            problem("cf_tier.registry.retention_days", f"the retention policy for untagged manifests needs the "
                                                       f"Premium SKU, not {sku}: set it to null {where}")
    for key, feature in (("zone_redundancy", "zone redundancy"), ("private_endpoint", "a private endpoint")):
        value = registry.get(key)
        if value is not None and not isinstance(value, bool):
            problem(f"cf_tier.registry.{key}", f"{value!r} is not true or false {where}")
        elif value and sku != "Premium":
            problem(f"cf_tier.registry.{key}", f"{feature} needs the Premium SKU, not {sku} {where}")
    policy = tier.get("policy")
    if sku == "Premium" and isinstance(policy, Mapping) and policy.get("deny_premium_skus") \
            and "Premium" not in (policy.get("allowed_sku_whitelist") or []):
        problem("cf_tier.registry.sku", "Premium is refused by this tier's premium-SKU deny policy "
                                        f"(cf_tier.policy.deny_premium_skus): add Premium to "
                                        f"cf_tier.policy.allowed_sku_whitelist or use Standard {where}")


def _check_edge_tier(tier: Mapping[str, Any], env: str, inputs: Mapping[str, Any], problem: Any) -> None:
    """The gateway's autoscale bounds, WAF mode and rate limit, and where its TLS certificate comes from."""
    edge = tier.get("edge")
    if not isinstance(edge, Mapping):
        return
    where = f"(group_vars/env_{env}.yml)"
    low, high = edge.get("min_capacity"), edge.get("max_capacity")
    for key, value in (("min_capacity", low), ("max_capacity", high)):
        if not isinstance(value, int) or isinstance(value, bool) or not GATEWAY_CAPACITY[0] <= value <= GATEWAY_CAPACITY[1]:
            problem(f"cf_tier.edge.{key}", f"{value!r} is not {GATEWAY_CAPACITY[0]}-{GATEWAY_CAPACITY[1]} instances {where}")
    if isinstance(low, int) and isinstance(high, int) and not isinstance(high, bool):
        if high < 2:
            problem("cf_tier.edge.max_capacity", f"{high} is below 2 (the least an autoscaling WAF_v2 gateway takes) {where}")
        elif high < low:
            problem("cf_tier.edge.max_capacity", f"{high} is below min_capacity {low} {where}")
    if edge.get("waf_mode") not in WAF_MODES:
        problem("cf_tier.edge.waf_mode", f"{edge.get('waf_mode')!r} is not one of {', '.join(WAF_MODES)} {where}")
    rate = edge.get("rate_limit_per_minute")
    if not isinstance(rate, int) or isinstance(rate, bool) or rate < 1:
        problem("cf_tier.edge.rate_limit_per_minute", f"{rate!r} is not a positive number of requests {where}")
    path = edge.get("probe_path")
    if not isinstance(path, str) or not path.startswith("/") or " " in path:
        problem("cf_tier.edge.probe_path", f"{path!r} is not a URL path (starting with /) {where}")
    if "zone_redundant" in edge and not isinstance(edge.get("zone_redundant"), bool):
        problem("cf_tier.edge.zone_redundant", f"{edge.get('zone_redundant')!r} is not true or false {where}")
    source = edge.get("certificate")
    if source not in CERTIFICATE_SOURCES:
        problem("cf_tier.edge.certificate", f"{source!r} is not one of {', '.join(CERTIFICATE_SOURCES)} {where}")
    elif source == "import" and inputs.get("gateway_certificate_given") is False:
        problem("keyvault_gateway_certificate_pfx", "this tier imports the gateway's TLS certificate that the operators "
                                                    "provide: set keyvault_gateway_certificate_pfx (the PFX, base64) and "
                                                    "keyvault_gateway_certificate_password (roles/keyvault/README.md)")
    host = inputs.get("public_host_name")
    if host is not None and not (isinstance(host, str) and HOST_NAME_RE.match(host)):
        problem("edge_host_name", f"{host!r} is not a DNS host name (lowercase, with a domain)")


def _check_unique_short_codes(registry: Mapping[str, Any], variable: str, problem: Any) -> None:
    """Short codes build compact names (Key Vault, storage): two entries sharing one would collide."""
    seen: dict[str, str] = {}
    for key, entry in registry.items():
        short = entry.get("short") if isinstance(entry, Mapping) else None
        if _missing(short):
            problem(f"{variable}.{key}.short", "needs a short code (used in compact resource names)")
        elif str(short) in seen:
            problem(f"{variable}.{key}.short", f"{short!r} is also the short code of {seen[str(short)]}")
        else:
            seen[str(short)] = str(key)


# ---------------------------------------------------------------------------------------------
# The model
# ---------------------------------------------------------------------------------------------

class _Plan:
    """Collects ARM resources in dependency order."""

    def __init__(self, location: str, tags: dict[str, str]) -> None:
        self.location = location
        self.tags = tags
        self.resources: list[dict[str, Any]] = []

    def add(self, rtype: str, rid: str, properties: Mapping[str, Any] | None = None, *,
            depends_on: Sequence[str] = (), location: str | None = "", tags: bool = True,
            role: str | None = None, extra_tags: Mapping[str, str] | None = None, **top: Any) -> str:
        resource: dict[str, Any] = {
            "type": rtype,
            "name": rid.rsplit("/", 1)[-1],
            "id": rid,
            "api_version": api_version(rtype),
            "role": role or ROLE_OF_TYPE[rtype],
            "location": self.location if location == "" else location,
        }
        if tags:
            # Children and extension resources carry no tags of their own: their entries leave tags unmanaged.
            resource["tags"] = {**self.tags, **(extra_tags or {})}
        resource["properties"] = dict(properties or {})
        resource["depends_on"] = list(depends_on)
        for key, value in top.items():
            if value is not None:
                resource[key] = value
        self.resources.append(resource)
        return rid


def _resolve_source(source: str, subnets: Mapping[str, str], admin_ranges: list[str]) -> list[str]:
    if source == "admin_ranges":
        return list(admin_ranges)
    if source.startswith("subnet:"):
        return [subnets[source.split(":", 1)[1]]]
    return [source]


def nsg_rules_for(tier: str, rules: Sequence[Mapping[str, Any]], subnets: Mapping[str, str],
                  admin_ranges: list[str]) -> list[dict[str, Any]]:
    """ARM security rules for one tier, ending with deny-all-inbound at 4096."""
    result = []
    for rule in rules:
        sources = _resolve_source(str(rule["source"]), subnets, admin_ranges)
        if not sources:
            continue  # e.g. SSH/RDP with no admin ranges: nothing is opened
        ports = [str(p) for p in rule.get("ports", ["*"])]
        properties: dict[str, Any] = {
            "priority": int(rule["priority"]),
            "direction": rule.get("direction", "Inbound"),
            "access": rule["access"],
            "protocol": rule.get("protocol", "Tcp"),
            "sourcePortRange": "*",
            # A rule may name its destination (Application Gateway's own ports: "*", as Azure documents them).
            "destinationAddressPrefix": str(rule.get("destination") or subnets.get(tier, "*")),
            "description": rule.get("description", rule["name"].replace("-", " ")),
        }
        if len(sources) == 1:
            properties["sourceAddressPrefix"] = sources[0]
        else:
            properties["sourceAddressPrefixes"] = sources
        if len(ports) == 1:
            properties["destinationPortRange"] = ports[0]
        else:
            properties["destinationPortRanges"] = ports
        result.append({"name": rule["name"], "properties": properties})
    result.append({"name": "deny-all-inbound", "properties": {
        "priority": 4096, "direction": "Inbound", "access": "Deny", "protocol": "*",
        "sourcePortRange": "*", "destinationPortRange": "*", "sourceAddressPrefix": "*",
        "destinationAddressPrefix": "*", "description": "deny everything not allowed above",
    }})
    return result


def role_assignment_name(scope: str, role_definition_guid: str, principal: str) -> str:
    """Deterministic role assignment name (a GUID), so that re-runs find the same assignment."""
    return str(uuid.uuid5(ROLE_ASSIGNMENT_NAMESPACE, f"{scope.lower()}|{role_definition_guid}|{principal}"))


def build_deployment(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """The ``deployment`` fact. Call ``validate_inputs`` first; this raises on invalid input."""
    problems = validate_inputs(inputs)
    if problems:
        raise ValueError("; ".join(problems))
    dep = parse_deployment(inputs["deployment"])
    regions = inputs["regions"]
    environments = inputs["environments"]
    location = str(regions[dep.region]["location"])
    subscription = str(inputs.get("subscription_id") or PLACEHOLDER_SUBSCRIPTION).lower()
    tier = inputs["tier"]
    app = str(inputs.get("app") or "complianceflow")
    admin_ranges = check_source_ranges(inputs.get("admin_source_ranges"), "cf_admin_source_ranges")

    def name(kind: str, **qualifiers: Any) -> str:
        return resource_name(dep.name, kind, subscription_id=subscription, regions=regions,
                             environments=environments, location=location, **qualifiers)

    tags = {"app": app, "env": dep.env, "owner": str(inputs["owner"]), "costCenter": str(inputs["cost_center"])}
    for key, value in (inputs.get("extra_tags") or {}).items():
        tags.setdefault(str(key), str(value))
    tags.update({"deployment": dep.name, "region": location, "managedBy": str(inputs.get("managed_by") or "ansible")})

    rg = name("resource_group")
    sub_id = f"/subscriptions/{subscription}"
    rg_id = f"{sub_id}/resourceGroups/{rg}"

    def rid(provider_path: str) -> str:
        return f"{rg_id}/providers/{provider_path}"

    vnet_cidr = deployment_cidr(dep.name, inputs["allocations"])
    subnet_cidrs = subnet_plan(vnet_cidr, inputs["subnet_tiers"], dep.env)
    tiers_by_name = {t["name"]: t for t in inputs["subnet_tiers"]}
    nsg_rules = inputs.get("nsg_rules") or {}

    plan = _Plan(location, tags)
    plan.add("Microsoft.Resources/resourceGroups", rg_id, {})
    if tier["resource_lock"]:
        plan.add("Microsoft.Authorization/locks", f"{rg_id}/providers/Microsoft.Authorization/locks/{name('management_lock')}",
                 {"level": "CanNotDelete", "notes": f"Protects production deployment {dep.name}; destroy.yml removes it."},
                 depends_on=[rg_id], location=None, tags=False)

    # --- network ------------------------------------------------------------------------------
    vnet_name = name("virtual_network")
    vnet_id = rid(f"Microsoft.Network/virtualNetworks/{vnet_name}")
    subnets: dict[str, dict[str, Any]] = {}
    for tier_name, cidr in subnet_cidrs.items():
        tier_def = tiers_by_name[tier_name]
        nsg_name = name("network_security_group", qualifier=tier_name)
        nsg_id = rid(f"Microsoft.Network/networkSecurityGroups/{nsg_name}")
        rules = nsg_rules_for(tier_name, nsg_rules.get(tier_name, []), subnet_cidrs, admin_ranges)
        plan.add("Microsoft.Network/networkSecurityGroups", nsg_id, {"securityRules": rules}, depends_on=[rg_id])
        subnet_name = name("subnet", qualifier=tier_name)
        subnets[tier_name] = {
            "name": subnet_name,
            "id": f"{vnet_id}/subnets/{subnet_name}",
            "address_prefix": cidr,
            "nsg_name": nsg_name,
            "nsg_id": nsg_id,
            "nsg_rules": rules,
            "service_endpoints": list(tier_def.get("service_endpoints") or []),
            "delegations": list(tier_def.get("delegations") or []),
        }
    plan.add("Microsoft.Network/virtualNetworks", vnet_id, {"addressSpace": {"addressPrefixes": [vnet_cidr]}},
             depends_on=[rg_id])
    # A delegated subnet takes no private endpoint: the Key Vault's endpoint of deployments built before the
    # containerapps subnet was delegated (pe-cf-<deployment>-kv, now in the storage subnet under another name) is
    # removed first. The engine deletes a resource that a planned one depends on before writing that one.
    retired_kv_pe = rid(f"Microsoft.Network/privateEndpoints/{name('private_endpoint', qualifier='kv')}")
    plan.add("Microsoft.Network/privateEndpoints", retired_kv_pe, {}, location=None, tags=False, role="keyvault",
             state="absent")
    for subnet in subnets.values():
        properties: dict[str, Any] = {
            "addressPrefix": subnet["address_prefix"],
            "networkSecurityGroup": {"id": subnet["nsg_id"]},
            "privateEndpointNetworkPolicies": "Enabled",
        }
        if subnet["service_endpoints"]:
            properties["serviceEndpoints"] = [{"service": s} for s in subnet["service_endpoints"]]
        if subnet["delegations"]:
            properties["delegations"] = [{"name": d.replace("/", "."), "properties": {"serviceName": d}}
                                         for d in subnet["delegations"]]
        plan.add("Microsoft.Network/virtualNetworks/subnets", subnet["id"], properties,
                 depends_on=[vnet_id, subnet["nsg_id"]]
                 + ([retired_kv_pe] if "Microsoft.App/environments" in subnet["delegations"] else []),
                 location=None, tags=False)

    postgres_zone = f"{dep.name}.private.postgres.database.azure.com"
    zone_names = [postgres_zone] + [str(z) for z in inputs.get("private_dns_zones") or []]
    zones: dict[str, str] = {}
    link_name = name("private_dns_link")
    for zone in zone_names:
        zone_id = rid(f"Microsoft.Network/privateDnsZones/{zone}")
        zones[zone] = zone_id
        plan.add("Microsoft.Network/privateDnsZones", zone_id, {}, depends_on=[rg_id], location="global")
        plan.add("Microsoft.Network/privateDnsZones/virtualNetworkLinks", f"{zone_id}/virtualNetworkLinks/{link_name}",
                 {"virtualNetwork": {"id": vnet_id}, "registrationEnabled": False},
                 depends_on=[zone_id, vnet_id], location="global")

    storage_name = name("storage_account")
    storage_id = rid(f"Microsoft.Storage/storageAccounts/{storage_name}")
    plan.add("Microsoft.Storage/storageAccounts", storage_id, {
        "minimumTlsVersion": "TLS1_2", "allowBlobPublicAccess": False, "supportsHttpsTrafficOnly": True,
        "networkAcls": {"defaultAction": "Deny", "bypass": "AzureServices",
                        "virtualNetworkRules": [{"id": subnets[t]["id"], "action": "Allow"}
                                                for t in ("containerapps", "storage") if t in subnets]},
    }, depends_on=[rg_id] + [subnets[t]["id"] for t in ("containerapps", "storage") if t in subnets],
        sku={"name": tier["storage"]["sku"]}, kind="StorageV2")

    workspace_name = name("log_analytics_workspace")
    workspace_id = rid(f"Microsoft.OperationalInsights/workspaces/{workspace_name}")
    monitoring = tier["monitoring"]
    # Before the flow log, which sends traffic analytics to it: the plan is listed in dependency order.
    plan.add("Microsoft.OperationalInsights/workspaces", workspace_id, {
        "sku": {"name": "PerGB2018"}, "retentionInDays": monitoring["retention_days"],
        "workspaceCapping": {"dailyQuotaGb": monitoring["daily_quota_gb"]},
    }, depends_on=[rg_id])
    watcher_rg_id = f"{sub_id}/resourceGroups/NetworkWatcherRG"
    watcher_id = f"{watcher_rg_id}/providers/Microsoft.Network/networkWatchers/{name('network_watcher')}"
    # Azure creates NetworkWatcherRG itself in the first region a subscription uses; when we create it, it is shared
    # by every deployment: created when missing, never updated or tagged, never deleted by destroy.yml.
    plan.add("Microsoft.Resources/resourceGroups", watcher_rg_id, {}, tags=False, role="network", manage="create")
    plan.add("Microsoft.Network/networkWatchers", watcher_id, {}, depends_on=[watcher_rg_id], tags=False)
    flow_log_id = f"{watcher_id}/flowLogs/{name('flow_log', qualifier='vnet')}"
    plan.add("Microsoft.Network/networkWatchers/flowLogs", flow_log_id, {
        "targetResourceId": vnet_id, "storageId": storage_id, "enabled": True,
        "format": {"type": "JSON", "version": 2},
        "retentionPolicy": {"days": tier["monitoring"]["flow_log_retention_days"], "enabled": True},
        "flowAnalyticsConfiguration": {"networkWatcherFlowAnalyticsConfiguration": {
            "enabled": True, "workspaceId": f"<runtime:workspace-customer-id:{workspace_id}>",
            "workspaceResourceId": workspace_id, "workspaceRegion": location,
            "trafficAnalyticsInterval": 60}},
    }, depends_on=[watcher_id, vnet_id, storage_id, workspace_id])

    # --- monitoring (the workspace is created above, before the flow log that points at it) -----
    appi_name = name("application_insights")
    appi_id = rid(f"Microsoft.Insights/components/{appi_name}")
    appi_props: dict[str, Any] = {"Application_Type": "web", "WorkspaceResourceId": workspace_id,
                                  "IngestionMode": "LogAnalytics"}
    if monitoring["sampling_percentage"] is not None:
        appi_props["SamplingPercentage"] = monitoring["sampling_percentage"]
    plan.add("Microsoft.Insights/components", appi_id, appi_props, depends_on=[workspace_id], kind="web")

    # --- key vault ------------------------------------------------------------------------------
    kv_tier = tier["keyvault"]
    # The runner's public address ranges: its secret writes pass the vault's firewall from there.
    runner_ranges = [str(r) for r in inputs.get("keyvault_runner_ip_ranges") or []]
    kv_name = name("key_vault")
    kv_id = rid(f"Microsoft.KeyVault/vaults/{kv_name}")
    kv_props: dict[str, Any] = {
        "tenantId": TENANT,
        "sku": {"family": "A", "name": kv_tier["sku"]},
        "enableRbacAuthorization": True,
        "enableSoftDelete": True,
        "softDeleteRetentionInDays": kv_tier["soft_delete_retention_days"],
        "publicNetworkAccess": "Enabled",
        "networkAcls": {"defaultAction": "Deny", "bypass": "AzureServices",
                        # The gateway reads its TLS certificate through the appgw subnet's service endpoint.
                        "virtualNetworkRules": [{"id": subnets[t]["id"]} for t in ("containerapps", "appgw")
                                                if t in subnets],
                        "ipRules": [{"value": r if "/" in r else f"{r}/32"} for r in runner_ranges]},
        # Ignored with RBAC authorization, but a vault's create call requires the list.
        "accessPolicies": [],
    }
    if kv_tier["purge_protection"]:
        kv_props["enablePurgeProtection"] = True
    plan.add("Microsoft.KeyVault/vaults", kv_id, kv_props, depends_on=[subnets["containerapps"]["id"]])
    secrets_officer_id = f"{sub_id}/providers/Microsoft.Authorization/roleDefinitions/{KEY_VAULT_SECRETS_OFFICER}"
    plan.add("Microsoft.Authorization/roleAssignments",
             f"{kv_id}/providers/Microsoft.Authorization/roleAssignments/"
             f"{role_assignment_name(kv_id, KEY_VAULT_SECRETS_OFFICER, 'runner')}",
             {"roleDefinitionId": secrets_officer_id, "principalId": RUNNER_PRINCIPAL,
              "principalType": "<runtime:principal-type>"},
             depends_on=[kv_id], location=None, tags=False)
    # In the storage subnet, next to the production registry's: the containerapps subnet is delegated to the
    # Container Apps environment, and a delegated subnet takes no private endpoint. Deployments built before
    # had the endpoint (pe-cf-<deployment>-kv) in the containerapps subnet: it is planned absent (with the subnets),
    # and the delegated subnet waits for its removal.
    kv_pe = _private_endpoint(plan, rid, name, "kv-storage", kv_id, "vault", subnets["storage"]["id"],
                              zones["privatelink.vaultcore.azure.net"], role="keyvault")

    services = list(inputs["services"])
    hubs = list(inputs["event_hubs"])
    secret_names = (["postgresql-admin-password"] + [f"postgresql-{s}-password" for s in services]
                    + ["redis-primary-key"]
                    + [f"eventhub-{h['name']}-{right}-connection-string" for h in hubs for right in ("send", "listen")]
                    + ["jwt-signing-key", "jwt-refresh-signing-key", "appinsights-connection-string"])
    secrets: dict[str, str] = {}
    secret_types: dict[str, str] = {}
    for secret in secret_names:
        secret_id = f"{kv_id}/secrets/{name('key_vault_secret', secret=secret)}"
        secrets[secret] = secret_id
        content_type = "text/plain" if "connection-string" in secret or secret == "redis-primary-key" else "password"
        if secret.startswith("jwt-"):
            content_type = "application/octet-stream; encoding=base64"
        secret_types[secret] = content_type
    # Credentials expire after the tier's rotation period (null: never); a secret written with a new value gets a new
    # expiry (docs/secrets.md). The App Insights connection string (an ingestion address, which cannot be rotated) and
    # the outputs document hold nothing to rotate and never expire.
    expiry_days = kv_tier.get("secret_expiry_days")

    def secret_body(secret: str, value: str) -> dict[str, Any]:
        body: dict[str, Any] = {"contentType": secret_types[secret], "value": value}
        if expiry_days is not None and secret != "appinsights-connection-string":
            body["attributes"] = {"exp": f"<runtime:expires-in-days:{expiry_days}>"}
        return body

    runner_assignment = (f"{kv_id}/providers/Microsoft.Authorization/roleAssignments/"
                         f"{role_assignment_name(kv_id, KEY_VAULT_SECRETS_OFFICER, 'runner')}")
    generated = [s for s in secret_names if s.startswith(("postgresql-", "jwt-"))]
    for secret in generated:
        # Generated once by the keyvault role (before the server that reads the admin password), replaced only
        # when rotated.
        value = "<runtime:generate:base64>" if secret.startswith("jwt-") else "<runtime:generate:password>"
        plan.add("Microsoft.KeyVault/vaults/secrets", secrets[secret], secret_body(secret, value),
                 depends_on=[kv_id, runner_assignment], location=None, role="keyvault")

    # --- database -------------------------------------------------------------------------------
    pg = tier["postgresql"]
    entra_group = inputs.get("entra_admin_group") or None
    psql_name = name("postgresql_server")
    psql_id = rid(f"Microsoft.DBforPostgreSQL/flexibleServers/{psql_name}")
    plan.add("Microsoft.DBforPostgreSQL/flexibleServers", psql_id, {
        "version": str(pg["version"]),
        "administratorLogin": "cfadmin",
        "storage": {"storageSizeGB": pg["storage_size_gb"], "autoGrow": pg["storage_auto_grow"]},
        "backup": {"backupRetentionDays": pg["backup_retention_days"], "geoRedundantBackup": pg["geo_redundant_backup"]},
        "highAvailability": {"mode": pg["high_availability"]},
        "network": {"delegatedSubnetResourceId": subnets["db"]["id"], "privateDnsZoneArmResourceId": zones[postgres_zone],
                    "publicNetworkAccess": "Disabled"},
        # Microsoft Entra authentication alongside passwords when an admin group is named (emergency access).
        "authConfig": ({"activeDirectoryAuth": "Enabled", "passwordAuth": "Enabled", "tenantId": TENANT}
                       if entra_group else {"activeDirectoryAuth": "Disabled", "passwordAuth": "Enabled"}),
        "createMode": "Create",
        # Read from the vault when the server is written, never shown.
        "administratorLoginPassword": f"<runtime:key-vault-secret:{secrets['postgresql-admin-password']}>",
    }, depends_on=[subnets["db"]["id"], zones[postgres_zone], secrets["postgresql-admin-password"]],
        sku={"name": pg["sku_name"], "tier": pg["sku_tier"]})
    parameters = {
        "require_secure_transport": "on",
        "ssl_min_protocol_version": "TLSv1.2",
        # Azure lets the administrator CREATE EXTENSION only for what this list allows: exactly what the database
        # role creates (database_extensions).
        "azure.extensions": ",".join(sorted(set(inputs.get("database_extensions") or DEFAULT_EXTENSIONS))),
        # Azure's default keeps pg_cron loaded; keeping it avoids a restart of every new server.
        "shared_preload_libraries": "pg_cron,pg_stat_statements",
        "log_min_duration_statement": str(pg["log_min_duration_statement_ms"]),
        # Query Store and its wait sampling: the runbooks read query_store.qs_view and the wait statistics.
        "pg_qs.query_capture_mode": "top",
        "pgms_wait_sampling.query_capture_mode": "all",
    }
    if pg["sku_tier"] != "Burstable":
        # Azure offers the built-in PgBouncer on General Purpose and Memory Optimized servers only.
        parameters.update({
            "pgbouncer.enabled": "true",
            "pgbouncer.pool_mode": "transaction",
            "pgbouncer.default_pool_size": str(pg["pgbouncer_pool_size"]),
        })
    for param, value in parameters.items():
        plan.add("Microsoft.DBforPostgreSQL/flexibleServers/configurations", f"{psql_id}/configurations/{param}",
                 {"value": value, "source": "user-override"}, depends_on=[psql_id], location=None, tags=False)
    if entra_group:
        plan.add("Microsoft.DBforPostgreSQL/flexibleServers/administrators",
                 f"{psql_id}/administrators/{str(entra_group['object_id']).lower()}",
                 {"principalType": "Group", "principalName": str(entra_group["name"]), "tenantId": TENANT},
                 depends_on=[psql_id], location=None, tags=False)
    databases = {}
    for service in services:
        db_name = name("postgresql_database", service=service)
        databases[service] = db_name
        plan.add("Microsoft.DBforPostgreSQL/flexibleServers/databases", f"{psql_id}/databases/{db_name}",
                 {"charset": "UTF8", "collation": "en_US.utf8"}, depends_on=[psql_id], location=None, tags=False)

    # --- redis ----------------------------------------------------------------------------------
    rd = tier["redis"]
    redis_name = name("redis")
    redis_id = rid(f"Microsoft.Cache/redis/{redis_name}")
    redis_config: dict[str, Any] = {"maxmemory-policy": rd["maxmemory_policy"]}
    redis_depends = [rg_id]
    if rd["rdb_backup_enabled"]:
        redis_config.update({"rdb-backup-enabled": "true",
                             "rdb-backup-frequency": str(rd["rdb_backup_frequency_minutes"]),
                             "rdb-storage-connection-string": f"<runtime:storage-connection-string:{storage_id}>"})
        redis_depends.append(storage_id)
    redis_props: dict[str, Any] = {
        "sku": {"name": rd["sku_name"], "family": rd["sku_family"], "capacity": rd["sku_capacity"]},
        "enableNonSslPort": False, "minimumTlsVersion": "1.2", "publicNetworkAccess": "Disabled",
        "redisConfiguration": redis_config,
    }
    if rd["shard_count"]:
        redis_props["shardCount"] = rd["shard_count"]
    plan.add("Microsoft.Cache/redis", redis_id, redis_props, depends_on=redis_depends, zones=list(rd["zones"]) or None)
    redis_pe = _private_endpoint(plan, rid, name, "redis", redis_id, "redisCache", subnets["redis"]["id"],
                                 zones["privatelink.redis.cache.windows.net"], role="redis")

    # --- messaging ------------------------------------------------------------------------------
    eh = tier["eventhubs"]
    evhns_name = name("eventhub_namespace")
    evhns_id = rid(f"Microsoft.EventHub/namespaces/{evhns_name}")
    evhns_props: dict[str, Any] = {"isAutoInflateEnabled": bool(eh["auto_inflate"]), "kafkaEnabled": bool(eh["kafka_enabled"]),
                                   "zoneRedundant": bool(eh["zone_redundant"]), "minimumTlsVersion": "1.2"}
    if eh["auto_inflate"]:
        evhns_props["maximumThroughputUnits"] = eh["maximum_throughput_units"]
    plan.add("Microsoft.EventHub/namespaces", evhns_id, evhns_props, depends_on=[rg_id],
             sku={"name": eh["sku"], "tier": eh["sku"], "capacity": eh["capacity"]})
    plan.add("Microsoft.EventHub/namespaces/networkRuleSets", f"{evhns_id}/networkRuleSets/default", {
        "defaultAction": "Deny", "publicNetworkAccess": "Enabled", "trustedServiceAccessEnabled": True,
        "virtualNetworkRules": [{"subnet": {"id": subnets["containerapps"]["id"]}, "ignoreMissingVnetServiceEndpoint": False}],
        "ipRules": [],
    }, depends_on=[evhns_id, subnets["containerapps"]["id"]], location=None, tags=False)
    event_hubs = {}
    for hub in hubs:
        hub_name = name("event_hub", hub=hub["name"])
        hub_id = f"{evhns_id}/eventhubs/{hub_name}"
        event_hubs[hub["name"]] = {"name": hub_name, "id": hub_id, "partitions": hub["partitions"],
                                   "consumer_groups": [], "sas_rules": {}}
        plan.add("Microsoft.EventHub/namespaces/eventhubs", hub_id, {
            "partitionCount": hub["partitions"], "messageRetentionInDays": eh["retention_days"],
        }, depends_on=[evhns_id], location=None, tags=False)
        for consumer in hub.get("consumers") or []:
            cg = name("consumer_group", service=consumer)
            event_hubs[hub["name"]]["consumer_groups"].append(cg)
            plan.add("Microsoft.EventHub/namespaces/eventhubs/consumergroups", f"{hub_id}/consumergroups/{cg}",
                     {"userMetadata": f"{consumer} service"}, depends_on=[hub_id], location=None, tags=False)
        for right, rights in (("send", ["Send"]), ("listen", ["Listen"])):
            rule = name("sas_rule", right=right)
            event_hubs[hub["name"]]["sas_rules"][right] = rule
            plan.add("Microsoft.EventHub/namespaces/eventhubs/authorizationRules", f"{hub_id}/authorizationRules/{rule}",
                     {"rights": rights}, depends_on=[hub_id], location=None, tags=False)

    # --- container registry ---------------------------------------------------------------------
    registry = _plan_registry(plan, rid, name, tier["registry"], subnets, vnet_id, rg_id, sub_id,
                              defender=inputs.get("defender_for_containers") is not False)

    # --- container apps environment ------------------------------------------------------------
    apps = _plan_apps(plan, rid, name, tier["apps"], subnets["containerapps"], vnet_id)

    # --- edge: the gateway's TLS certificate (keyvault role), WAF policy, public IP and Application Gateway ------
    # in front of the Container Apps environment (its static IP is the backend).
    edge = _plan_edge(plan, rid, name, sub_id, tier["edge"], subnets, kv_id, runner_assignment,
                      str(inputs.get("public_host_name") or f"{dep.name}.complianceflow.example"),
                      environment_id=apps["environment_id"])

    # --- secrets whose values come from other resources (keys, connection strings), once those exist -----
    secret_sources: dict[str, tuple[str, str, str]] = {
        "redis-primary-key": ("redis", redis_id, f"<runtime:list-keys:{redis_id}:primaryKey>"),
        "appinsights-connection-string": (
            "monitoring", appi_id, f"<runtime:property:{appi_id}:properties.ConnectionString>"),
    }
    for hub in hubs:
        for right in ("send", "listen"):
            rule_id = f"{event_hubs[hub['name']]['id']}/authorizationRules/{event_hubs[hub['name']]['sas_rules'][right]}"
            secret_sources[f"eventhub-{hub['name']}-{right}-connection-string"] = (
                "messaging", rule_id, f"<runtime:list-keys:{rule_id}:primaryConnectionString>")
    for secret, (writer, source, value) in secret_sources.items():
        plan.add("Microsoft.KeyVault/vaults/secrets", secrets[secret], secret_body(secret, value),
                 depends_on=[kv_id, runner_assignment, source], location=None, role=writer)

    # --- service identities, their grants, and the outputs document ------------------------------
    # AcrPull on the deployment's own registry, or on the registry identity_container_registry_id names.
    identities = _service_identities(plan, rid, name, sub_id, services, hubs, secrets, event_hubs,
                                     inputs.get("container_registry_id") or registry["id"])
    outputs = _outputs_document(dep.name, location, sub_id, rg, services, hubs, secrets, event_hubs, identities,
                                databases, zones, {"key_vault": kv_id, "postgresql_server": psql_id,
                                                   "redis": redis_id, "eventhub_namespace": evhns_id},
                                str(inputs.get("database_role_prefix") or "svc_"))
    outputs_id = f"{kv_id}/secrets/{name('key_vault_secret', secret=OUTPUTS_SECRET)}"
    secrets[OUTPUTS_SECRET] = outputs_id
    # A secret that holds no secret: the vault is where services and AWX already read from, with their identity.
    plan.add("Microsoft.KeyVault/vaults/secrets", outputs_id, {"contentType": "application/json", "value": outputs},
             depends_on=[kv_id, runner_assignment, psql_id, redis_id, evhns_id,
                         *(i["id"] for i in identities.values())],
             location=None, role="identity", publish=True)

    # --- diagnostics and alerts -----------------------------------------------------------------
    diag_name = name("diagnostic_setting")
    diagnosed = ([psql_id, redis_id, evhns_id, kv_id, registry["id"], apps["environment_id"], edge["gateway_id"],
                  edge["public_ip_id"], vnet_id, storage_id]
                 + [s["nsg_id"] for s in subnets.values()])
    for target in diagnosed:
        metrics = [] if "/networkSecurityGroups/" in target else [{"category": "AllMetrics", "enabled": True}]
        logs = [{"categoryGroup": "allLogs", "enabled": True}]
        if target == storage_id:
            # Storage accounts log per service (blob, queue, ...); the account itself publishes one metric
            # category, Transaction (it has no AllMetrics group).
            logs = []
            metrics = [{"category": "Transaction", "enabled": True}]
        plan.add("Microsoft.Insights/diagnosticSettings",
                 f"{target}/providers/Microsoft.Insights/diagnosticSettings/{diag_name}",
                 {"workspaceId": workspace_id, "logs": logs, "metrics": metrics},
                 depends_on=[target, workspace_id], location=None, tags=False)

    ag_name = name("action_group")
    ag_id = rid(f"Microsoft.Insights/actionGroups/{ag_name}")
    emails = list(inputs["alert_emails"])
    plan.add("Microsoft.Insights/actionGroups", ag_id, {
        "groupShortName": name("action_group_short"), "enabled": True,
        "emailReceivers": [{"name": f"email-{i + 1}", "emailAddress": e, "useCommonAlertSchema": True}
                           for i, e in enumerate(emails)],
        # Webhook URLs carry signatures: the monitoring role gives them at run time, so they are never in the plan.
        "webhookReceivers": "<runtime:webhook-receivers>",
    }, depends_on=[rg_id], location="global")
    thresholds = monitoring["alerts"]
    metric_alerts = [
        # "CPU above 80% for 10 minutes": metric alert windows are 1, 5, 15, 30 minutes or more (no 10), so the
        # average over 15 minutes, evaluated every minute, stands in for it.
        ("psql-cpu", psql_id, "Microsoft.DBforPostgreSQL/flexibleServers", "cpu_percent", "Average",
         thresholds["postgresql_cpu_percent"], "PT15M", 2),
        ("psql-storage", psql_id, "Microsoft.DBforPostgreSQL/flexibleServers", "storage_percent", "Average",
         thresholds["postgresql_storage_percent"], "PT15M", 2),
        ("psql-failed-connections", psql_id, "Microsoft.DBforPostgreSQL/flexibleServers", "connections_failed", "Total",
         thresholds["postgresql_failed_connections"], "PT5M", 2),
        ("psql-memory", psql_id, "Microsoft.DBforPostgreSQL/flexibleServers", "memory_percent", "Average",
         thresholds["postgresql_memory_percent"], "PT15M", 2),
        ("redis-memory", redis_id, "Microsoft.Cache/redis", "usedmemorypercentage", "Maximum",
         thresholds["redis_memory_percent"], "PT5M", 2),
        ("redis-server-load", redis_id, "Microsoft.Cache/redis", "serverLoad", "Maximum",
         thresholds["redis_server_load_percent"], "PT5M", 2),
        ("evhns-throttled", evhns_id, "Microsoft.EventHub/namespaces", "ThrottledRequests", "Total",
         thresholds["eventhubs_throttled_requests"], "PT5M", 3),
        ("evhns-server-errors", evhns_id, "Microsoft.EventHub/namespaces", "ServerErrors", "Total",
         thresholds["eventhubs_server_errors"], "PT5M", 2),
    ]
    # A backend the gateway's health probe finds unhealthy: services unreachable from the internet.
    metric_alerts.append(("appgw-unhealthy-backends", edge["gateway_id"], "Microsoft.Network/applicationGateways",
                          "UnhealthyHostCount", "Average", 0, "PT5M", 1))
    if thresholds.get("postgresql_replication_lag_bytes") is not None:
        # "Max Physical Replication Lag", emitted by the primary: how far its slowest physical replica is behind.
        metric_alerts.append(("psql-replication-lag", psql_id, "Microsoft.DBforPostgreSQL/flexibleServers",
                              "physical_replication_delay_in_bytes", "Maximum",
                              thresholds["postgresql_replication_lag_bytes"], "PT5M", 2))
    for qualifier, scope, namespace, metric, aggregation, threshold, window, severity in metric_alerts:
        alert_id = rid(f"Microsoft.Insights/metricAlerts/{name('metric_alert', qualifier=qualifier)}")
        runbook = RUNBOOKS.get(qualifier)
        plan.add("Microsoft.Insights/metricAlerts", alert_id, {
            "description": f"{metric} {aggregation.lower()} above {threshold} over {window}"
                           + (f" (runbook: {runbook})" if runbook else ""),
            "severity": severity, "enabled": True, "scopes": [scope], "evaluationFrequency": "PT1M",
            "windowSize": window,
            "criteria": {"odata.type": "Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria", "allOf": [{
                "criterionType": "StaticThresholdCriterion", "name": metric, "metricName": metric,
                "metricNamespace": namespace, "operator": "GreaterThan", "threshold": threshold,
                "timeAggregation": aggregation}]},
            "actions": [{"actionGroupId": ag_id}], "autoMitigate": True,
        }, depends_on=[scope, ag_id], location="global")
    # Key Vault's AuditEvent lands in AzureDiagnostics: 403 is a refused operation; 401 is also the normal first
    # leg of every token challenge, so only 401s outside the Authentication operation count.
    log_alerts = [
        ("kv-unauthorized", workspace_id,
         'AzureDiagnostics | where ResourceProvider == "MICROSOFT.KEYVAULT" and Category == "AuditEvent" '
         '| where httpStatusCode_d == 403 or (httpStatusCode_d == 401 and OperationName != "Authentication") '
         "| summarize Count = count()", thresholds["keyvault_unauthorized_requests"], "PT5M", 2,
         "GreaterThanOrEqual", f"Key Vault unauthorized access ({dep.name})"),
        ("appi-failed-requests", appi_id,
         "requests | summarize FailedPercent = 100.0 * countif(success == false) / count()",
         thresholds["appinsights_failed_request_percent"], "PT5M", 1, "GreaterThan",
         f"Failed requests above {thresholds['appinsights_failed_request_percent']}% ({dep.name})"),
        # Traffic analytics (the flow log, every 60 minutes): flows the NSGs denied in the last hour.
        ("nsg-denied-flows", workspace_id,
         'NTANetAnalytics | where SubType == "FlowLog" and FlowStatus == "D" | summarize DeniedFlows = count()',
         thresholds["nsg_denied_flows"], "PT1H", 3, "GreaterThan",
         f"NSG denied flows above {thresholds['nsg_denied_flows']} per hour ({dep.name})"),
        ("appi-p95-response", appi_id,
         "requests | summarize P95 = percentile(duration, 95)", thresholds["appinsights_p95_response_ms"], "PT5M", 2,
         "GreaterThan", f"p95 server response above {thresholds['appinsights_p95_response_ms']} ms ({dep.name})"),
    ]
    if thresholds.get("keyvault_secrets_near_expiry") is not None:
        # Key Vault logs the near-expiry event it publishes (30 days before a secret's expiry) in its AuditEvent,
        # which the vault's diagnostic setting sends to the workspace. One event per secret version: a day's window
        # keeps the alert fired for a day after it.
        log_alerts.append((
            "kv-secret-near-expiry", workspace_id,
            'AzureDiagnostics | where ResourceProvider == "MICROSOFT.KEYVAULT" and Category == "AuditEvent" '
            '| where OperationName == "SecretNearExpiryEventGridNotification" | summarize NearExpiry = count()',
            thresholds["keyvault_secrets_near_expiry"], "P1D", 2, "GreaterThan",
            f"Key Vault secrets near expiry ({dep.name}; runbook: secret-near-expiry.md)"))
    # An hourly signal (traffic analytics) is looked at every 15 minutes, a daily one every hour, the others every 5.
    frequencies = {"PT1H": "PT15M", "P1D": "PT1H"}
    for qualifier, scope, query, threshold, window, severity, operator, display in log_alerts:
        alert_id = rid(f"Microsoft.Insights/scheduledQueryRules/{name('log_alert', qualifier=qualifier)}")
        plan.add("Microsoft.Insights/scheduledQueryRules", alert_id, {
            "displayName": display, "severity": severity, "enabled": True, "scopes": [scope],
            "evaluationFrequency": frequencies.get(window, "PT5M"), "windowSize": window,
            "criteria": {"allOf": [{"query": query, "timeAggregation": "Maximum",
                                    "metricMeasureColumn": query.rsplit("summarize ", 1)[1].split(" =")[0],
                                    "operator": operator, "threshold": threshold,
                                    "failingPeriods": {"numberOfEvaluationPeriods": 1, "minFailingPeriodsToAlert": 1}}]},
            "actions": {"actionGroups": [ag_id]}, "autoMitigate": True,
        }, depends_on=[scope, ag_id], kind="LogAlert")

    # Any write or delete Azure refused or failed in the deployment's resource group (a deployment, a hand edit, a
    # policy denial): the Activity Log's Administrative events with status Failed.
    plan.add("Microsoft.Insights/activityLogAlerts",
             rid(f"Microsoft.Insights/activityLogAlerts/{name('log_alert', qualifier='arm-failed-writes')}"), {
                 "description": f"Failed Azure Resource Manager writes in {rg} (runbook: arm-write-failed.md)",
                 "enabled": True, "scopes": [rg_id],
                 "condition": {"allOf": [{"field": "category", "equals": "Administrative"},
                                         {"field": "status", "equals": "Failed"}]},
                 "actions": {"actionGroups": [{"actionGroupId": ag_id}]},
             }, depends_on=[rg_id, ag_id], location="global")

    # Service unavailability: a standard availability test on the deployment's health URL (none without a URL), and a
    # metric alert on its availability.
    availability_url = str(inputs.get("availability_url") or "")
    if availability_url:
        test_name = name("availability_test", qualifier="health")
        test_id = rid(f"Microsoft.Insights/webtests/{test_name}")
        https = availability_url.lower().startswith("https://")
        validation: dict[str, Any] = {"ExpectedHttpStatusCode": 200, "SSLCheck": https}
        if https:
            validation["SSLCertRemainingLifetimeCheck"] = 7
        plan.add("Microsoft.Insights/webtests", test_id, {
            "SyntheticMonitorId": test_name, "Name": test_name, "Enabled": True, "Kind": "standard",
            "Description": f"GET {availability_url} from five locations every 5 minutes ({dep.name})",
            "Frequency": 300, "Timeout": 30, "RetryEnabled": True,
            "Locations": [{"Id": location_id} for location_id in AVAILABILITY_TEST_LOCATIONS],
            "Request": {"RequestUrl": availability_url, "HttpVerb": "GET", "ParseDependentRequests": False},
            "ValidationRules": validation,
            # Azure links a web test to its Application Insights resource by this tag (results and the portal).
        }, depends_on=[appi_id], kind="standard", extra_tags={f"hidden-link:{appi_id}": "Resource"})
        if thresholds.get("appinsights_availability_percent") is not None:
            threshold = thresholds["appinsights_availability_percent"]
            plan.add("Microsoft.Insights/metricAlerts",
                     rid(f"Microsoft.Insights/metricAlerts/{name('metric_alert', qualifier='availability')}"), {
                         "description": f"Availability of {availability_url} below {threshold}% over 15 minutes "
                                        "(runbook: service-unavailable.md)",
                         "severity": 1, "enabled": True, "scopes": [appi_id], "evaluationFrequency": "PT5M",
                         "windowSize": "PT15M",
                         "criteria": {"odata.type": "Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria",
                                      "allOf": [{
                                          "criterionType": "StaticThresholdCriterion", "name": "availability",
                                          "metricName": "availabilityResults/availabilityPercentage",
                                          "metricNamespace": "Microsoft.Insights/components", "operator": "LessThan",
                                          "threshold": threshold, "timeAggregation": "Average",
                                          "dimensions": [{"name": "availabilityResult/name", "operator": "Include",
                                                          "values": [test_name]}]}]},
                         "actions": [{"actionGroupId": ag_id}], "autoMitigate": True,
                     }, depends_on=[appi_id, test_id, ag_id], location="global")

    # Cost anomalies of the subscription (seed ECS-46): Cost Management's anomaly alert, a scheduled action of kind
    # InsightAlert at the subscription's scope on its daily anomaly view, e-mailed to the alert contacts. One per
    # deployment (destroy removes its own); it watches the whole subscription.
    if inputs.get("cost_anomaly_alert") is not False:
        anomaly_to = list(inputs.get("cost_anomaly_recipients") or emails)[:20]
        plan.add("Microsoft.CostManagement/scheduledActions",
                 f"{sub_id}/providers/Microsoft.CostManagement/scheduledActions/{name('cost_anomaly_alert')}", {
                     "displayName": f"Cost anomaly ({dep.name})",
                     "notification": {"to": anomaly_to,
                                      "subject": f"Cost anomaly in the subscription of {dep.name}"[:70]},
                     # Azure needs an end: ten years after the first month (sent on create only, docs/monitoring.md).
                     "schedule": {"frequency": "Daily", "startDate": MONTH_START,
                                  "endDate": "<runtime:month-start-plus-years:10>"},
                     "status": "Enabled",
                     "viewId": f"{sub_id}/providers/Microsoft.CostManagement/views/ms:DailyAnomalyByResourceGroup",
                 }, location=None, tags=False, kind="InsightAlert")

    # --- guardrails -----------------------------------------------------------------------------
    budget = tier["budget"]
    plan.add("Microsoft.Consumption/budgets", f"{rg_id}/providers/Microsoft.Consumption/budgets/{name('budget')}", {
        "category": "Cost", "amount": budget["amount"], "timeGrain": budget["time_grain"],
        "timePeriod": {"startDate": MONTH_START},
        "notifications": {f"actual-greater-than-{pct}-percent": {
            "enabled": True, "operator": "GreaterThanOrEqualTo", "threshold": pct, "contactEmails": emails,
            "thresholdType": "Actual"} for pct in budget["thresholds"]},
    }, depends_on=[rg_id], location=None, tags=False)
    enforcement = str(inputs.get("policy_enforcement_mode") or "Default")
    for tag in (inputs["tag_policy"].get("required") or []):
        plan.add("Microsoft.Authorization/policyAssignments",
                 f"{rg_id}/providers/Microsoft.Authorization/policyAssignments/"
                 f"{name('policy_assignment', qualifier=f'require-tag-{tag}')}",
                 {"displayName": f"Require tag {tag} on resources ({dep.name})", "policyDefinitionId": POLICY_REQUIRE_TAG,
                  "parameters": {"tagName": {"value": tag}}, "enforcementMode": enforcement},
                 depends_on=[rg_id], location=None, tags=False)
    policy = tier["policy"]
    if policy["deny_premium_skus"]:
        allowed = set(policy.get("allowed_sku_whitelist") or [])
        definition_id = (f"{sub_id}/providers/Microsoft.Authorization/policyDefinitions/"
                         f"{name('policy_definition', qualifier='deny-premium-skus')}")
        # Custom: no built-in denies SKUs across these types. Subscription scope, one per deployment, so that
        # destroying one deployment never removes another's definition.
        plan.add("Microsoft.Authorization/policyDefinitions", definition_id, {
            "displayName": f"Deny premium SKUs ({dep.name})", "policyType": "Custom", "mode": "Indexed",
            "description": "Refuses premium and business-critical SKUs of the resource types ComplianceFlow deploys.",
            "metadata": {"category": "General", "deployment": dep.name},
            "parameters": PREMIUM_SKU_POLICY_PARAMETERS, "policyRule": premium_sku_policy_rule(),
        }, location=None, tags=False)
        plan.add("Microsoft.Authorization/policyAssignments",
                 f"{rg_id}/providers/Microsoft.Authorization/policyAssignments/"
                 f"{name('policy_assignment', qualifier='deny-premium-skus')}",
                 {"displayName": f"Deny premium SKUs outside production ({dep.name})",
                  "policyDefinitionId": definition_id,
                  "parameters": {"deniedSkus": {"value": [s for s in PREMIUM_SKUS if s not in allowed]}},
                  "enforcementMode": enforcement},
                 depends_on=[rg_id, definition_id], location=None, tags=False)

    return {
        "name": dep.name,
        "region_code": dep.region,
        "env": dep.env,
        "instance": dep.instance,
        "location": location,
        "subscription_id": subscription,
        "subscription_is_placeholder": subscription == PLACEHOLDER_SUBSCRIPTION,
        "tags": tags,
        "resource_group": rg,
        "resource_group_id": rg_id,
        "address_space": vnet_cidr,
        "subnets": subnets,
        "alert_emails": emails,
        "admin_source_ranges": admin_ranges,
        "services": services,
        "tier": dict(tier),
        "api_versions": dict(API_VERSIONS),
        "names": {
            "resource_group": rg, "virtual_network": vnet_name, "storage_account": storage_name,
            "network_watcher": name("network_watcher"), "network_watcher_resource_group": "NetworkWatcherRG",
            "flow_log": flow_log_id.rsplit("/", 1)[1], "private_dns_link": link_name,
            "postgresql_private_dns_zone": postgres_zone, "key_vault": kv_name, "postgresql_server": psql_name,
            "redis": redis_name, "container_registry": registry["name"], "eventhub_namespace": evhns_name,
            "container_apps_environment": apps["environment_name"],
            "application_gateway": edge["gateway_id"].rsplit("/", 1)[1],
            "log_analytics_workspace": workspace_name,
            "application_insights": appi_name, "action_group": ag_name, "diagnostic_setting": diag_name,
            "management_lock": name("management_lock"), "budget": name("budget"),
            "key_vault_private_endpoint": kv_pe.rsplit("/", 1)[1], "redis_private_endpoint": redis_pe.rsplit("/", 1)[1],
        },
        "ids": {
            "resource_group": rg_id, "virtual_network": vnet_id, "storage_account": storage_id,
            "network_watcher": watcher_id, "flow_log": flow_log_id, "key_vault": kv_id, "postgresql_server": psql_id,
            "redis": redis_id, "container_registry": registry["id"], "eventhub_namespace": evhns_id,
            "container_apps_environment": apps["environment_id"], "application_gateway": edge["gateway_id"],
            "log_analytics_workspace": workspace_id,
            "application_insights": appi_id, "action_group": ag_id, "private_dns_zones": zones,
        },
        "registry": registry,
        "apps": apps,
        "edge": edge,
        "databases": databases,
        "event_hubs": event_hubs,
        "identities": identities,
        "outputs": outputs,
        "secrets": secrets,
        "postgresql_parameters": parameters,
        "resources": plan.resources,
    }


def _plan_registry(plan: _Plan, rid: Any, name: Any, settings: Mapping[str, Any], subnets: Mapping[str, Any],
                   vnet_id: str, rg_id: str, sub_id: str, *, defender: bool) -> dict[str, Any]:
    """The container registry, its private endpoint (Premium), and Defender for Containers on the subscription."""
    sku = str(settings["sku"])
    premium = sku == "Premium"
    acr_name = name("container_registry")
    acr_id = rid(f"Microsoft.ContainerRegistry/registries/{acr_name}")
    retention: dict[str, Any] = {"status": "disabled"}
    if settings["retention_days"] is not None:
        retention = {"status": "enabled", "days": int(settings["retention_days"])}
    policies: dict[str, Any] = {"exportPolicy": {"status": "enabled"}}
    if premium:
        # The retention policy for untagged manifests is a Premium capability; Azure refuses it on Standard.
        policies["retentionPolicy"] = retention
    private = bool(settings["private_endpoint"])
    properties: dict[str, Any] = {
        "adminUserEnabled": False, "anonymousPullEnabled": False, "policies": policies,
        # Behind a private endpoint the registry takes no public traffic; Standard has no network rules at all.
        "publicNetworkAccess": "Disabled" if private else "Enabled",
        "networkRuleBypassOptions": "AzureServices",
        "zoneRedundancy": "Enabled" if settings["zone_redundancy"] else "Disabled",
    }
    plan.add("Microsoft.ContainerRegistry/registries", acr_id, properties, depends_on=[rg_id], sku={"name": sku})
    result: dict[str, Any] = {"id": acr_id, "name": acr_name, "login_server": f"{acr_name}.azurecr.io",
                              "sku": sku, "private_endpoint": None, "private_dns_zone": None}
    if private:
        zone = "privatelink.azurecr.io"
        zone_id = rid(f"Microsoft.Network/privateDnsZones/{zone}")
        plan.add("Microsoft.Network/privateDnsZones", zone_id, {}, depends_on=[rg_id], location="global",
                 role="registry")
        plan.add("Microsoft.Network/privateDnsZones/virtualNetworkLinks",
                 f"{zone_id}/virtualNetworkLinks/{name('private_dns_link')}",
                 {"virtualNetwork": {"id": vnet_id}, "registrationEnabled": False},
                 depends_on=[zone_id, vnet_id], location="global", role="registry")
        # In the storage subnet: the container-apps subnet is delegated to the apps' environment, which takes no
        # private endpoints; its NSG admits HTTPS from the container-apps subnet.
        result["private_endpoint"] = _private_endpoint(plan, rid, name, "acr", acr_id, "registry",
                                                       subnets["storage"]["id"], zone_id, role="registry")
        result["private_dns_zone"] = zone_id
    if defender:
        plan.add("Microsoft.Security/pricings", f"{sub_id}/providers/Microsoft.Security/pricings/Containers", {
            "pricingTier": "Standard",
            "extensions": [{"name": e, "isEnabled": "True"} for e in DEFENDER_CONTAINER_EXTENSIONS],
        }, location=None, tags=False)
    return result


# Workload profiles: the serverless Consumption profile; dedicated profiles are added per workload when needed.
APPS_WORKLOAD_PROFILES = ({"name": "Consumption", "workloadProfileType": "Consumption"},)


def _plan_apps(plan: _Plan, rid: Any, name: Any, settings: Mapping[str, Any], subnet: Mapping[str, Any],
               vnet_id: str) -> dict[str, Any]:
    """The Container Apps managed environment (workload profiles, internal load balancer in the delegated
    containerapps subnet, app logs to Azure Monitor, which its diagnostic setting sends to the workspace) and its
    private DNS zone: named after the default domain Azure gives the environment, with ``*`` and ``@`` pointing at
    its static IP. Both values exist only once the environment does, so the zone's entries carry them as run-time
    placeholders in their IDs; the engine reconciles such entries after the rest of the plan."""
    env_name = name("container_apps_environment")
    env_id = rid(f"Microsoft.App/managedEnvironments/{env_name}")
    plan.add("Microsoft.App/managedEnvironments", env_id, {
        "workloadProfiles": [dict(p) for p in APPS_WORKLOAD_PROFILES],
        "vnetConfiguration": {"infrastructureSubnetId": subnet["id"], "internal": True},
        "zoneRedundant": bool(settings["zone_redundant"]),
        # No shared key in the body: logs go to Azure Monitor, and the diagnostic setting sends them on.
        "appLogsConfiguration": {"destination": "azure-monitor"},
    }, depends_on=[subnet["id"]])
    domain = f"<runtime:public-property:{env_id}:properties.defaultDomain>"
    static_ip = f"<runtime:public-property:{env_id}:properties.staticIp>"
    zone_id = rid(f"Microsoft.Network/privateDnsZones/{domain}")
    plan.add("Microsoft.Network/privateDnsZones", zone_id, {}, depends_on=[env_id], location="global", role="apps",
             name=domain)
    link_id = f"{zone_id}/virtualNetworkLinks/{name('private_dns_link')}"
    plan.add("Microsoft.Network/privateDnsZones/virtualNetworkLinks", link_id,
             {"virtualNetwork": {"id": vnet_id}, "registrationEnabled": False},
             depends_on=[zone_id, vnet_id], location="global", role="apps")
    for record in ("*", "@"):
        plan.add("Microsoft.Network/privateDnsZones/A", f"{zone_id}/A/{record}",
                 {"ttl": 3600, "aRecords": [{"ipv4Address": static_ip}]},
                 depends_on=[zone_id, env_id], location=None, tags=False)
    return {"environment_id": env_id, "environment_name": env_name, "subnet_id": subnet["id"],
            "zone_redundant": bool(settings["zone_redundant"]), "internal": True,
            "default_domain": domain, "static_ip": static_ip, "private_dns_zone_id": zone_id,
            "workload_profiles": [p["name"] for p in APPS_WORKLOAD_PROFILES]}


RUNBOOKS = {"appgw-unhealthy-backends": "appgw-unhealthy-backends.md"}


def _plan_edge(plan: _Plan, rid: Any, name: Any, sub_id: str, settings: Mapping[str, Any],
               subnets: Mapping[str, Any], kv_id: str, runner_assignment: str, host: str,
               environment_id: str | None = None) -> dict[str, Any]:
    """The internet edge: the gateway's TLS certificate in the vault (issued self-signed, or imported from the
    operators' PFX), the gateway's identity and its read access to that certificate's secret, a Standard static
    public IP, the WAF policy, and the WAF_v2 Application Gateway in front of the Container Apps environment."""
    zones = ["1", "2", "3"] if settings.get("zone_redundant") else None
    cert_name = name("key_vault_secret", secret="gateway-tls")
    cert_id = f"{kv_id}/certificates/{cert_name}"
    # The certificate's policy: Key Vault keeps the key, the secret holds key and chain as PKCS#12, and a new
    # version is issued 30 days before expiry (the gateway's versionless reference follows it within 4 hours).
    policy: dict[str, Any] = {"secret_props": {"contentType": "application/x-pkcs12"}}
    if settings["certificate"] == "self-signed":
        policy.update({
            "key_props": {"exportable": True, "kty": "RSA", "key_size": 2048, "reuse_key": False},
            "x509_props": {"subject": f"CN={host}", "sans": {"dns_names": [host]},
                           "ekus": ["1.3.6.1.5.5.7.3.1"], "key_usage": ["digitalSignature", "keyEncipherment"],
                           "validity_months": 12},
            "issuer": {"name": "Self"},
            "lifetime_actions": [{"trigger": {"days_before_expiry": 30}, "action": {"action_type": "AutoRenew"}}],
        })
        cert_props: dict[str, Any] = {"policy": policy}
    else:
        cert_props = {"value": GATEWAY_CERTIFICATE_PFX, "pwd": GATEWAY_CERTIFICATE_PASSWORD, "policy": policy}
    certificates_officer = (f"{kv_id}/providers/Microsoft.Authorization/roleAssignments/"
                            f"{role_assignment_name(kv_id, KEY_VAULT_CERTIFICATES_OFFICER, 'runner')}")
    plan.add("Microsoft.Authorization/roleAssignments", certificates_officer, {
        "roleDefinitionId": f"{sub_id}/providers/Microsoft.Authorization/roleDefinitions/{KEY_VAULT_CERTIFICATES_OFFICER}",
        "principalId": RUNNER_PRINCIPAL, "principalType": "<runtime:principal-type>",
    }, depends_on=[kv_id], location=None, tags=False)
    plan.add("Microsoft.KeyVault/vaults/certificates", cert_id, cert_props,
             depends_on=[kv_id, runner_assignment, certificates_officer], location=None, tags=False)

    identity_id = rid(f"Microsoft.ManagedIdentity/userAssignedIdentities/{name('managed_identity', qualifier='appgw')}")
    plan.add("Microsoft.ManagedIdentity/userAssignedIdentities", identity_id, {},
             depends_on=[identity_id.split("/providers/", 1)[0]], role="edge")
    # Read access to this one certificate's secret, not to the vault.
    secret_scope = f"{kv_id}/secrets/{cert_name}"
    grant_id = (f"{secret_scope}/providers/Microsoft.Authorization/roleAssignments/"
                f"{role_assignment_name(secret_scope, KEY_VAULT_SECRETS_USER, 'edge:appgw')}")
    plan.add("Microsoft.Authorization/roleAssignments", grant_id, {
        "roleDefinitionId": f"{sub_id}/providers/Microsoft.Authorization/roleDefinitions/{KEY_VAULT_SECRETS_USER}",
        "principalId": f"<runtime:public-property:{identity_id}:properties.principalId>",
        "principalType": "ServicePrincipal",
    }, depends_on=[cert_id, identity_id], location=None, tags=False, role="edge")

    rg_id = identity_id.split("/providers/", 1)[0]
    pip_id = rid(f"Microsoft.Network/publicIPAddresses/{name('public_ip', qualifier='appgw')}")
    plan.add("Microsoft.Network/publicIPAddresses", pip_id, {
        "publicIPAllocationMethod": "Static", "publicIPAddressVersion": "IPv4", "idleTimeoutInMinutes": 4,
    }, depends_on=[rg_id], sku={"name": "Standard", "tier": "Regional"}, zones=zones)

    waf_id = rid(f"Microsoft.Network/ApplicationGatewayWebApplicationFirewallPolicies/{name('waf_policy')}")
    plan.add("Microsoft.Network/ApplicationGatewayWebApplicationFirewallPolicies", waf_id, {
        "policySettings": {"state": "Enabled", "mode": settings["waf_mode"], "requestBodyCheck": True,
                           "maxRequestBodySizeInKb": 128, "fileUploadLimitInMb": 100},
        "managedRules": {"managedRuleSets": [dict(WAF_RULE_SET)]},
        "customRules": [{
            # Requests per client address and minute; the match condition (not the one address no client has)
            # takes every request into the count.
            "name": "RateLimitPerClient", "priority": 10, "ruleType": "RateLimitRule", "state": "Enabled",
            "rateLimitDuration": "OneMin", "rateLimitThreshold": int(settings["rate_limit_per_minute"]),
            "groupByUserSession": [{"groupByVariables": [{"variableName": "ClientAddr"}]}],
            "matchConditions": [{"matchVariables": [{"variableName": "RemoteAddr"}], "operator": "IPMatch",
                                 "negationConditon": True, "matchValues": ["255.255.255.255/32"]}],
            "action": "Block",
        }],
    }, depends_on=[rg_id])

    gw_name = name("application_gateway")
    gw_id = rid(f"Microsoft.Network/applicationGateways/{gw_name}")

    def ref(collection: str, item: str) -> dict[str, str]:
        return {"id": f"{gw_id}/{collection}/{item}"}

    backend = [] if environment_id is None else [
        {"ipAddress": f"<runtime:public-property:{environment_id}:properties.staticIp>"}]
    gateway_depends = [subnets["appgw"]["id"], pip_id, waf_id, identity_id, cert_id, grant_id]
    if environment_id is not None:
        gateway_depends.append(environment_id)
    plan.add("Microsoft.Network/applicationGateways", gw_id, {
        "sku": {"name": "WAF_v2", "tier": "WAF_v2"},
        "autoscaleConfiguration": {"minCapacity": int(settings["min_capacity"]),
                                   "maxCapacity": int(settings["max_capacity"])},
        "firewallPolicy": {"id": waf_id},
        "enableHttp2": True,
        "sslPolicy": {"policyType": "Predefined", "policyName": "AppGwSslPolicy20220101S"},
        "gatewayIPConfigurations": [{"name": "gateway", "properties": {"subnet": {"id": subnets["appgw"]["id"]}}}],
        "frontendIPConfigurations": [{"name": "public", "properties": {"publicIPAddress": {"id": pip_id}}}],
        "frontendPorts": [{"name": "https", "properties": {"port": 443}}, {"name": "http", "properties": {"port": 80}}],
        "sslCertificates": [{"name": "gateway-tls", "properties": {
            # Versionless: the gateway picks up a renewed certificate by itself.
            "keyVaultSecretId": f"<runtime:public-property:{kv_id}:properties.vaultUri>secrets/{cert_name}"}}],
        "httpListeners": [
            {"name": "https", "properties": {
                "frontendIPConfiguration": ref("frontendIPConfigurations", "public"),
                "frontendPort": ref("frontendPorts", "https"), "protocol": "Https",
                "sslCertificate": ref("sslCertificates", "gateway-tls"), "hostName": host,
                "requireServerNameIndication": True}},
            {"name": "http", "properties": {
                "frontendIPConfiguration": ref("frontendIPConfigurations", "public"),
                "frontendPort": ref("frontendPorts", "http"), "protocol": "Http", "hostName": host}},
        ],
        "backendAddressPools": [{"name": "containerapps", "properties": {"backendAddresses": backend}}],
        "probes": [{"name": "containerapps", "properties": {
            "protocol": "Https", "host": host, "path": str(settings["probe_path"]), "interval": 30, "timeout": 30,
            "unhealthyThreshold": 3, "pickHostNameFromBackendHttpSettings": False,
            "match": {"statusCodes": ["200-399"]}}}],
        "backendHttpSettingsCollection": [{"name": "containerapps", "properties": {
            "port": 443, "protocol": "Https", "cookieBasedAffinity": "Disabled", "requestTimeout": 30,
            "hostName": host, "pickHostNameFromBackendAddress": False, "probe": ref("probes", "containerapps")}}],
        "redirectConfigurations": [{"name": "http-to-https", "properties": {
            "redirectType": "Permanent", "targetListener": ref("httpListeners", "https"),
            "includePath": True, "includeQueryString": True}}],
        "requestRoutingRules": [
            {"name": "https", "properties": {
                "ruleType": "Basic", "priority": 100, "httpListener": ref("httpListeners", "https"),
                "backendAddressPool": ref("backendAddressPools", "containerapps"),
                "backendHttpSettings": ref("backendHttpSettingsCollection", "containerapps")}},
            {"name": "http-to-https", "properties": {
                "ruleType": "Basic", "priority": 200, "httpListener": ref("httpListeners", "http"),
                "redirectConfiguration": ref("redirectConfigurations", "http-to-https")}},
        ],
    }, depends_on=gateway_depends, zones=zones,
        identity={"type": "UserAssigned", "userAssignedIdentities": {identity_id: {}}})
    return {"gateway_id": gw_id, "gateway_name": gw_name, "public_ip_id": pip_id, "waf_policy_id": waf_id,
            "identity_id": identity_id, "certificate_id": cert_id, "certificate_name": cert_name,
            "certificate_source": settings["certificate"], "certificate_grant_id": grant_id, "host_name": host,
            "backend_environment_id": environment_id}


def _grant(plan: _Plan, sub_id: str, scope: str, role_guid: str, service: str, identity: Mapping[str, str],
           depends_on: Sequence[str] = ()) -> str:
    grant_id = (f"{scope}/providers/Microsoft.Authorization/roleAssignments/"
                f"{role_assignment_name(scope, role_guid, f'service:{service}')}")
    plan.add("Microsoft.Authorization/roleAssignments", grant_id, {
        "roleDefinitionId": f"{sub_id}/providers/Microsoft.Authorization/roleDefinitions/{role_guid}",
        "principalId": identity["principal_id"],
        # Named, so that Azure does not look up a principal created seconds ago in a directory replica.
        "principalType": "ServicePrincipal",
    }, depends_on=[scope, identity["id"], *depends_on], location=None, tags=False, role="identity")
    return grant_id


def _service_identities(plan: _Plan, rid: Any, name: Any, sub_id: str, services: Sequence[str],
                        hubs: Sequence[Mapping[str, Any]], secrets: Mapping[str, str],
                        event_hubs: Mapping[str, Mapping[str, Any]], registry_id: Any) -> dict[str, dict[str, Any]]:
    """One user-assigned identity per service and its least-privilege grants: Key Vault Secrets User on each secret
    it reads (its own password, the Redis key, App Insights, its hubs' connection strings; never the vault), Event
    Hubs Data Sender / Receiver on exactly the hubs it produces to / consumes from, AcrPull on the registry."""
    identities: dict[str, dict[str, Any]] = {}
    for service in services:
        identity_id = rid(f"Microsoft.ManagedIdentity/userAssignedIdentities/"
                          f"{name('managed_identity', qualifier=service)}")
        plan.add("Microsoft.ManagedIdentity/userAssignedIdentities", identity_id, {},
                 depends_on=[identity_id.split("/providers/", 1)[0]])
        identity = {"id": identity_id, "name": identity_id.rsplit("/", 1)[1],
                    "principal_id": f"<runtime:public-property:{identity_id}:properties.principalId>",
                    "client_id": f"<runtime:public-property:{identity_id}:properties.clientId>"}
        produces = [h["name"] for h in hubs if service in (h.get("producers") or [])]
        consumes = [h["name"] for h in hubs if service in (h.get("consumers") or [])]
        readable = [f"postgresql-{service}-password", "redis-primary-key", "appinsights-connection-string"]
        readable += [f"eventhub-{hub}-send-connection-string" for hub in produces]
        readable += [f"eventhub-{hub}-listen-connection-string" for hub in consumes]
        grants = [_grant(plan, sub_id, secrets[secret], KEY_VAULT_SECRETS_USER, service, identity)
                  for secret in readable]
        grants += [_grant(plan, sub_id, event_hubs[hub]["id"], EVENT_HUBS_DATA_SENDER, service, identity)
                   for hub in produces]
        grants += [_grant(plan, sub_id, event_hubs[hub]["id"], EVENT_HUBS_DATA_RECEIVER, service, identity)
                   for hub in consumes]
        if registry_id:
            grants.append(_grant(plan, sub_id, str(registry_id), ACR_PULL, service, identity))
        identities[service] = {**identity, "secrets": readable, "produces": produces, "consumes": consumes,
                               "grants": grants}
    return identities


def _outputs_document(deployment: str, location: str, sub_id: str, rg: str, services: Sequence[str],
                      hubs: Sequence[Mapping[str, Any]], secrets: Mapping[str, str],
                      event_hubs: Mapping[str, Mapping[str, Any]], identities: Mapping[str, Mapping[str, Any]],
                      databases: Mapping[str, str], zones: Mapping[str, str], ids: Mapping[str, str],
                      role_prefix: str) -> dict[str, Any]:
    """What a service (or AWX) needs to use the deployment: where things are and which secret holds what; never a
    secret's value. docs/outputs.md and docs/outputs.schema.json describe it. Values Azure assigns (client ids,
    host names, the vault's URI) are read back when the document is written."""

    def public(resource_id: str, path: str) -> str:
        return f"<runtime:public-property:{resource_id}:{path}>"

    def secret_name(key: str) -> str:
        return secrets[key].rsplit("/", 1)[1]

    fqdn = public(ids["postgresql_server"], "properties.fullyQualifiedDomainName")
    namespace = ids["eventhub_namespace"].rsplit("/", 1)[1]
    return {
        "schema_version": OUTPUTS_SCHEMA_VERSION,
        "deployment": deployment,
        "location": location,
        "subscription_id": sub_id.rsplit("/", 1)[1],
        "resource_group": rg,
        "key_vault": {"name": ids["key_vault"].rsplit("/", 1)[1], "id": ids["key_vault"],
                      "uri": public(ids["key_vault"], "properties.vaultUri")},
        "postgresql": {
            "server": ids["postgresql_server"].rsplit("/", 1)[1], "id": ids["postgresql_server"], "fqdn": fqdn,
            "port": 5432, "sslmode": "require",
            "connection_string_template": f"postgresql://{{user}}:{{password}}@{fqdn}:5432/{{database}}?sslmode=require",
        },
        "redis": {"name": ids["redis"].rsplit("/", 1)[1], "id": ids["redis"],
                  "host": public(ids["redis"], "properties.hostName"),
                  "ssl_port": public(ids["redis"], "properties.sslPort"), "key_secret": secret_name("redis-primary-key")},
        "event_hubs": {
            "namespace": namespace, "id": ids["eventhub_namespace"],
            "fqdn": f"{namespace}.servicebus.windows.net",
            "service_bus_endpoint": public(ids["eventhub_namespace"], "properties.serviceBusEndpoint"),
            "kafka_endpoint": f"{namespace}.servicebus.windows.net:9093",
            "hubs": {hub["name"]: {"name": event_hubs[hub["name"]]["name"], "partitions": hub["partitions"],
                                   "consumer_groups": list(event_hubs[hub["name"]]["consumer_groups"]),
                                   "producers": list(hub.get("producers") or []),
                                   "consumers": list(hub.get("consumers") or [])} for hub in hubs},
        },
        "app_insights": {"connection_string_secret": secret_name("appinsights-connection-string")},
        "private_dns_zones": dict(zones),
        "services": {service: {
            "identity": {"name": identities[service]["name"], "id": identities[service]["id"],
                         "client_id": identities[service]["client_id"],
                         "principal_id": identities[service]["principal_id"]},
            "postgresql": {"database": databases[service], "login_role": f"{role_prefix}{service}",
                           "password_secret": secret_name(f"postgresql-{service}-password")},
            "redis": {"key_secret": secret_name("redis-primary-key")},
            "event_hubs": {
                "produces": {hub: {"hub": event_hubs[hub]["name"],
                                   "connection_string_secret": secret_name(f"eventhub-{hub}-send-connection-string")}
                             for hub in identities[service]["produces"]},
                "consumes": {hub: {"hub": event_hubs[hub]["name"],
                                   "consumer_group": f"{service}-consumer",
                                   "connection_string_secret": secret_name(f"eventhub-{hub}-listen-connection-string")}
                             for hub in identities[service]["consumes"]},
            },
            "app_insights_connection_string_secret": secret_name("appinsights-connection-string"),
            "secrets": [secret_name(s) for s in identities[service]["secrets"]],
        } for service in services},
    }


def _private_endpoint(plan: _Plan, rid: Any, name: Any, target: str, target_id: str, group_id: str,
                      subnet_id: str, zone_id: str, role: str) -> str:
    pe_name = name("private_endpoint", qualifier=target)
    pe_id = rid(f"Microsoft.Network/privateEndpoints/{pe_name}")
    plan.add("Microsoft.Network/privateEndpoints", pe_id, {
        "subnet": {"id": subnet_id},
        "privateLinkServiceConnections": [{"name": pe_name, "properties": {
            "privateLinkServiceId": target_id, "groupIds": [group_id]}}],
    }, depends_on=[target_id, subnet_id], role=role)
    plan.add("Microsoft.Network/privateEndpoints/privateDnsZoneGroups", f"{pe_id}/privateDnsZoneGroups/default", {
        "privateDnsZoneConfigs": [{"name": zone_id.rsplit("/", 1)[1].replace(".", "-"),
                                   "properties": {"privateDnsZoneId": zone_id}}],
    }, depends_on=[pe_id, zone_id], location=None, tags=False, role=role)
    return pe_id


def plan_summary(deployment: Mapping[str, Any]) -> dict[str, Any]:
    """Counts per ARM type and the address plan, for the human summary of plan.yml; resources planned absent (left
    over by older versions, removed when found) are listed apart."""
    counts: dict[str, int] = {}
    present = [r for r in deployment["resources"] if r.get("state", "present") != "absent"]
    for resource in present:
        counts[resource["type"]] = counts.get(resource["type"], 0) + 1
    return {
        "deployment": deployment["name"],
        "location": deployment["location"],
        "subscription_id": deployment["subscription_id"],
        "resource_count": len(present),
        "counts": dict(sorted(counts.items())),
        "absent": [f"{r['type']} {r['name']}" for r in deployment["resources"] if r.get("state") == "absent"],
        "address_space": deployment["address_space"],
        "subnets": {tier: s["address_prefix"] for tier, s in deployment["subnets"].items()},
    }


def plan_document(deployment: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON document plan.yml writes."""
    return {
        "deployment": deployment["name"],
        "location": deployment["location"],
        "subscription_id": deployment["subscription_id"],
        "resources": deployment["resources"],
    }


def plan_slice(resources: Sequence[Mapping[str, Any]], role: str) -> list[Mapping[str, Any]]:
    """The planned resources a role applies with the resources module."""
    return [r for r in resources if r.get("role") == role]
