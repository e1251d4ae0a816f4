"""Names: every kind, every region, environment and instance, valid for Azure's own rule for the type.

The rules below are re-stated here from Azure's "Naming rules and restrictions for Azure resources" rather
than imported from naming_rules.NAME_RULES, so a wrong rule in the code cannot approve its own names.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.complianceflow.azure_infra.plugins.module_utils import deployment_model
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.naming_rules import (
    NAME_RULES,
    NamingError,
    name_errors,
    name_suffix,
    parse_deployment,
    resource_name,
)
from scripts.generate_docs import deployment_inputs

REPO = Path(__file__).resolve().parents[2]
REGISTRY = yaml.safe_load((REPO / "group_vars" / "all.yml").read_text())
ENVIRONMENTS = ("dev", "test", "stg", "prod")
SUBSCRIPTION = "3f2b8c1e-5a4d-4e6f-9b7a-0c1d2e3f4a5b"


@dataclass(frozen=True)
class AzureRule:
    min_length: int
    max_length: int
    allowed: str  # full-match regex over the whole name
    no_double_hyphen: bool = False
    forbidden_suffixes: tuple[str, ...] = ()

    def check(self, name: str) -> list[str]:
        problems = []
        if not self.min_length <= len(name) <= self.max_length:
            problems.append(f"length {len(name)} not in {self.min_length}-{self.max_length}")
        if not re.fullmatch(self.allowed, name):
            problems.append(f"characters or ends break {self.allowed}")
        if self.no_double_hyphen and "--" in name:
            problems.append("consecutive hyphens")
        problems.extend(f"ends with {s}" for s in self.forbidden_suffixes if name.endswith(s))
        return problems


_ALNUM_ENDS = r"[A-Za-z0-9]([A-Za-z0-9_.-]*[A-Za-z0-9_])?"   # network resources: end alnum or underscore
_NO_URL_CHARS = r"[^<>*%&:\\?/+#]*[^<>*%&:\\?/+#. ]"            # Insights resources: no URL-breaking characters
AZURE_RULES: dict[str, AzureRule] = {
    "resource_group": AzureRule(1, 90, r"[\w().-]*[\w()-]"),
    "virtual_network": AzureRule(2, 64, _ALNUM_ENDS),
    "subnet": AzureRule(1, 80, _ALNUM_ENDS),
    "network_security_group": AzureRule(1, 80, _ALNUM_ENDS),
    "security_rule": AzureRule(1, 80, _ALNUM_ENDS),
    "private_endpoint": AzureRule(2, 64, _ALNUM_ENDS),
    "private_dns_zone_group": AzureRule(1, 80, _ALNUM_ENDS),
    "private_dns_link": AzureRule(1, 80, _ALNUM_ENDS),
    "network_watcher": AzureRule(1, 80, _ALNUM_ENDS),
    "flow_log": AzureRule(1, 80, _ALNUM_ENDS),
    "public_ip": AzureRule(1, 80, _ALNUM_ENDS),
    "application_gateway": AzureRule(1, 80, _ALNUM_ENDS),
    # ApplicationGatewayWebApplicationFirewallPolicies: up to 128 characters (Microsoft.Network's REST spec).
    "waf_policy": AzureRule(1, 128, _ALNUM_ENDS),
    # Globally unique: DNS labels.
    "postgresql_server": AzureRule(3, 63, r"[a-z0-9]([a-z0-9-]*[a-z0-9])?"),
    "redis": AzureRule(1, 63, r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?", no_double_hyphen=True),
    "eventhub_namespace": AzureRule(6, 50, r"[A-Za-z][A-Za-z0-9-]*[A-Za-z0-9]", forbidden_suffixes=("-sb", "-mgmt")),
    "key_vault": AzureRule(3, 24, r"[A-Za-z][A-Za-z0-9-]*[A-Za-z0-9]", no_double_hyphen=True),
    "storage_account": AzureRule(3, 24, r"[a-z0-9]+"),
    # Alphanumerics only, 5-50 (Container Registry's naming rule; Azure compares names case-insensitively).
    "container_registry": AzureRule(5, 50, r"[a-zA-Z0-9]+"),
    # PostgreSQL identifiers: at most NAMEDATALEN-1 bytes, unquoted.
    "postgresql_database": AzureRule(1, 63, r"[a-z_][a-z0-9_]*"),
    "event_hub": AzureRule(1, 256, r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?"),
    "consumer_group": AzureRule(1, 50, r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?"),
    "sas_rule": AzureRule(1, 256, r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?"),
    "key_vault_secret": AzureRule(1, 127, r"[A-Za-z0-9-]+"),
    "log_analytics_workspace": AzureRule(4, 63, r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?"),
    "application_insights": AzureRule(1, 260, _NO_URL_CHARS),
    "action_group": AzureRule(1, 260, _NO_URL_CHARS),
    "action_group_short": AzureRule(1, 12, r"[A-Za-z0-9-]+"),
    "metric_alert": AzureRule(1, 260, _NO_URL_CHARS),
    "log_alert": AzureRule(1, 260, _NO_URL_CHARS),
    # resource-name-rules: Microsoft.Insights webtests, 1-260, no %&\?/ or control characters.
    "availability_test": AzureRule(1, 260, _NO_URL_CHARS),
    # Cost Management scheduled action names: letters, digits, hyphens, underscores.
    "cost_anomaly_alert": AzureRule(1, 260, r"[A-Za-z0-9_-]+"),
    "diagnostic_setting": AzureRule(1, 260, _NO_URL_CHARS),
    "budget": AzureRule(1, 63, r"[A-Za-z0-9_-]+"),
    # Policy assignment names at resource-group scope: at most 64 characters.
    "policy_assignment": AzureRule(1, 64, r"[^<>*%&:\\?/+#]+"),
    "policy_definition": AzureRule(1, 64, r"[^<>*%&:\\?/+#]+"),
    "management_lock": AzureRule(1, 90, r"[^<>*%&:\\?/+#]+"),
    # resource-name-rules: Microsoft.ManagedIdentity userAssignedIdentities, 3-128, alphanumerics, hyphens and
    # underscores, starting with a letter or number.
    "managed_identity": AzureRule(3, 128, r"[A-Za-z0-9][A-Za-z0-9_-]*"),
    # Container Apps environments: 2-60 lower-case letters, digits and hyphens, starting with a letter, ending with
    # a letter or digit.
    "container_apps_environment": AzureRule(2, 60, r"[a-z][a-z0-9-]*[a-z0-9]"),
}


def _reference_model() -> dict[str, Any]:
    return deployment_model.build_deployment(deployment_inputs(REPO / "inventories" / "westeu-prod-1"))


MODEL = _reference_model()
PREFIX = "westeu-prod-1-"


def _qualifiers_of(resource_type: str, marker: str) -> list[str]:
    """Qualifiers the model really uses for a type, read back from the names it produced."""
    names = [r["name"] for r in MODEL["resources"] if r["type"] == resource_type]
    return sorted({n.split(PREFIX, 1)[1] for n in names if marker in n})


SUBNET_TIERS = [t["name"] for t in REGISTRY["cf_subnet_tiers"]]
SECURITY_RULES = sorted({r["name"] for rules in REGISTRY["cf_nsg_rules"].values() for r in rules} | {"deny-all-inbound"})
SERVICES = list(REGISTRY["cf_services"])
HUBS = [h["name"] for h in REGISTRY["cf_event_hubs"]]
SECRETS = sorted(MODEL["secrets"])
METRIC_ALERTS = _qualifiers_of("Microsoft.Insights/metricAlerts", "alert-cf-")
LOG_ALERTS = _qualifiers_of("Microsoft.Insights/scheduledQueryRules", "alert-cf-")
POLICY_ASSIGNMENTS = _qualifiers_of("Microsoft.Authorization/policyAssignments", "pa-cf-")

# Every kind with every qualifier the collection passes for it.
QUALIFIERS: dict[str, list[dict[str, str]]] = {
    "subnet": [{"qualifier": t} for t in SUBNET_TIERS],
    "network_security_group": [{"qualifier": t} for t in SUBNET_TIERS],
    "security_rule": [{"qualifier": r} for r in SECURITY_RULES],
    "private_endpoint": [{"qualifier": "kv"}, {"qualifier": "redis"}],
    "flow_log": [{"qualifier": "vnet"}],
    "postgresql_database": [{"service": s} for s in SERVICES],
    "event_hub": [{"hub": h} for h in HUBS],
    "consumer_group": [{"service": s} for s in SERVICES],
    "managed_identity": [{"qualifier": s} for s in SERVICES],
    "sas_rule": [{"right": "send"}, {"right": "listen"}],
    "key_vault_secret": [{"secret": s} for s in SECRETS],
    "metric_alert": [{"qualifier": q} for q in METRIC_ALERTS],
    "log_alert": [{"qualifier": q} for q in LOG_ALERTS],
    "availability_test": [{"qualifier": "health"}],
    "policy_assignment": [{"qualifier": q} for q in POLICY_ASSIGNMENTS],
    "policy_definition": [{"qualifier": "deny-premium-skus"}],
}


def test_every_kind_has_an_independent_rule_and_real_qualifiers() -> None:
    assert set(AZURE_RULES) == set(NAME_RULES)
    # The qualifier lists come from the model; an empty one would make the property test vacuous.
    assert len(SECRETS) >= 20 and len(METRIC_ALERTS) >= 5 and len(LOG_ALERTS) >= 3 and len(POLICY_ASSIGNMENTS) >= 4


def all_names(deployment: str, subscription: str, regions: dict[str, Any], environments: dict[str, Any],
              location: str) -> list[tuple[str, str]]:
    names = []
    for kind in NAME_RULES:
        for qualifiers in QUALIFIERS.get(kind, [{}]):
            name = resource_name(deployment, kind, subscription_id=subscription, regions=regions,
                                 environments=environments, location=location, **qualifiers)
            names.append((kind, name))
    return names


def assert_valid(names: list[tuple[str, str]]) -> None:
    for kind, name in names:
        assert not AZURE_RULES[kind].check(name), f"{kind} {name!r}: {AZURE_RULES[kind].check(name)}"
        assert not name_errors(kind, name), (kind, name)


guids = st.uuids().map(str)


@settings(max_examples=300, deadline=None)
@given(region=st.sampled_from(sorted(REGISTRY["cf_regions"])), env=st.sampled_from(ENVIRONMENTS),
       instance=st.integers(1, 99), subscription=guids)
def test_every_name_is_valid_for_every_registered_region(region: str, env: str, instance: int, subscription: str) -> None:
    deployment = f"{region}-{env}-{instance}"
    location = REGISTRY["cf_regions"][region]["location"]
    assert_valid(all_names(deployment, subscription, REGISTRY["cf_regions"], REGISTRY["cf_environments"], location))


@pytest.mark.parametrize("region", sorted(REGISTRY["cf_regions"]))
@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_longest_instance_of_every_registered_region(region: str, env: str) -> None:
    """Instance 99 (the longest name) of every region and env, exhaustively, not just sampled."""
    location = REGISTRY["cf_regions"][region]["location"]
    assert_valid(all_names(f"{region}-{env}-99", SUBSCRIPTION, REGISTRY["cf_regions"], REGISTRY["cf_environments"],
                           location))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(region=st.from_regex(r"\A[a-z][a-z0-9]{1,19}\Z"), short=st.from_regex(r"\A[a-z][a-z0-9]{1,3}\Z"),
       env=st.sampled_from(ENVIRONMENTS), instance=st.integers(1, 99), subscription=guids)
def test_every_name_is_valid_for_any_region_the_registry_could_hold(region: str, short: str, env: str,
                                                                     instance: int, subscription: str) -> None:
    """A new registry entry (code up to 20 characters, like Azure's longest location names, with a short code)."""
    regions = {**REGISTRY["cf_regions"], region: {"location": region, "short": short}}
    assert_valid(all_names(f"{region}-{env}-{instance}", subscription, regions, REGISTRY["cf_environments"], region))


# --- global uniqueness ------------------------------------------------------------------------

GLOBAL_KINDS = ("postgresql_server", "redis", "eventhub_namespace", "key_vault", "storage_account",
                "container_registry")


@pytest.mark.parametrize("kind", GLOBAL_KINDS)
def test_global_names_are_stable_for_one_subscription(kind: str) -> None:
    first = resource_name("westeu-test-1", kind, subscription_id=SUBSCRIPTION, regions=REGISTRY["cf_regions"],
                          environments=REGISTRY["cf_environments"])
    again = resource_name("westeu-test-1", kind, subscription_id=SUBSCRIPTION.upper(), regions=REGISTRY["cf_regions"],
                          environments=REGISTRY["cf_environments"])
    assert first == again  # subscription ids are case-insensitive in Azure


@pytest.mark.parametrize("kind", GLOBAL_KINDS)
def test_global_names_differ_across_subscriptions(kind: str) -> None:
    # A fixed sample (uuid5 of a counter), so the outcome never changes between runs.
    subscriptions = [str(uuid.uuid5(uuid.NAMESPACE_URL, f"subscription/{i}")) for i in range(200)]
    names = {resource_name("westeu-test-1", kind, subscription_id=s, regions=REGISTRY["cf_regions"],
                           environments=REGISTRY["cf_environments"]) for s in subscriptions}
    assert len(names) == len(subscriptions)


@pytest.mark.parametrize("kind", GLOBAL_KINDS)
def test_global_names_differ_across_deployments_of_one_subscription(kind: str) -> None:
    # The deployment (or its compact code) is part of every global name, so even two deployments whose
    # 4-character suffixes happen to collide get different names.
    deployments = [f"{r}-{e}-{i}" for r in REGISTRY["cf_regions"] for e in ENVIRONMENTS for i in (1, 2, 9, 10, 99)]
    names = {resource_name(d, kind, subscription_id=SUBSCRIPTION, regions=REGISTRY["cf_regions"],
                           environments=REGISTRY["cf_environments"]) for d in deployments}
    assert len(names) == len(deployments)


def test_global_kinds_need_the_subscription() -> None:
    for kind in GLOBAL_KINDS:
        with pytest.raises(NamingError, match="subscription"):
            resource_name("westeu-test-1", kind)


# --- the issue's examples and the shapes users read ------------------------------------------

def test_examples_from_the_issue() -> None:
    suffix = name_suffix(SUBSCRIPTION, "westeu-test-1")
    assert re.fullmatch(r"[a-z0-9]{4}", suffix)
    assert resource_name("westeu-test-1", "virtual_network") == "vnet-cf-westeu-test-1"
    assert resource_name("westeu-test-1", "subnet", qualifier="db") == "snet-cf-westeu-test-1-db"
    assert resource_name("westeu-test-1", "postgresql_server", subscription_id=SUBSCRIPTION) == (
        f"psql-cf-westeu-test-1-{suffix}")
    assert resource_name("westeu-test-1", "postgresql_database", service="user") == "complianceflow_user_westeu_test_1"
    assert resource_name("westeu-test-1", "resource_group") == "rg-cf-westeu-test-1"


def test_short_types_fall_back_to_the_compact_code() -> None:
    kv = resource_name("southeastasia-prod-99", "key_vault", subscription_id=SUBSCRIPTION,
                       regions=REGISTRY["cf_regions"], environments=REGISTRY["cf_environments"])
    assert kv == f"kv-cf-seap99-{name_suffix(SUBSCRIPTION, 'southeastasia-prod-99')}"
    st_name = resource_name("westeu-test-1", "storage_account", subscription_id=SUBSCRIPTION)
    assert st_name == f"stcfwesteutest1{name_suffix(SUBSCRIPTION, 'westeu-test-1')}"


@pytest.mark.parametrize("name", ["westeu-test-0", "westeu-test-100", "westeu-test-01", "WestEU-test-1",
                                  "westeu_test_1", "westeu-test", "1westeu-test-1", "", "westeu-test-1-"])
def test_bad_deployment_names_are_refused(name: str) -> None:
    with pytest.raises(NamingError, match="region_code"):
        parse_deployment(name)


def test_unknown_kind_and_missing_qualifiers_are_refused() -> None:
    with pytest.raises(NamingError, match="unknown resource kind"):
        resource_name("westeu-test-1", "virtual_machine")
    for kind, key in (("postgresql_database", "service"), ("event_hub", "hub"), ("key_vault_secret", "secret"),
                      ("sas_rule", "right"), ("consumer_group", "service")):
        with pytest.raises(NamingError, match=key):
            resource_name("westeu-test-1", kind)
    with pytest.raises(NamingError, match="location"):
        resource_name("westeu-test-1", "network_watcher")


@pytest.mark.parametrize(
    ("kind", "name"),
    [("key_vault", "kv-cf-westeu-test-1-abcd1"), ("key_vault", "kv--cf"), ("key_vault", "1kv"),
     ("storage_account", "stCFwesteu"), ("storage_account", "st-cf"), ("eventhub_namespace", "evhns"),
     ("eventhub_namespace", "evhns-cf-westeu-sb"), ("postgresql_server", "psql-cf-"), ("virtual_network", "v"),
     ("postgresql_database", "complianceflow-user")],
)
def test_name_errors_catch_what_azure_refuses(kind: str, name: str) -> None:
    assert name_errors(kind, name)
    assert AZURE_RULES[kind].check(name)
