#!/usr/bin/env python3
"""Generate the tables in docs/cidr-plan.md, docs/naming.md and docs/deployments.md.

    python scripts/generate_docs.py --write    # rewrite the generated regions in place
    python scripts/generate_docs.py --check    # exit 1 naming every stale file (make docs-check)

Only the regions between ``<!-- BEGIN GENERATED: <name> -->`` and ``<!-- END GENERATED: <name> -->`` are
touched; the prose around them is written by hand. Tables come from the registries (group_vars/) and the
inventories through the collection's own pure functions, so no Ansible run is needed.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "collections"))

from ansible_collections.complianceflow.azure_infra.plugins.module_utils import (  # noqa: E402
    cidr_plan,
    deployment_model,
    naming_rules,
)

SAMPLE_SUBSCRIPTION = "11111111-2222-3333-4444-555555555555"
EXAMPLE_DEPLOYMENTS = ("westeu-test-1", "westeu-prod-1")
ENVIRONMENT_ORDER = ("dev", "test", "stg", "prod")
MARKER_RE = re.compile(
    r"^(?P<indent>[ \t]*)<!-- BEGIN GENERATED: (?P<name>[a-z0-9-]+) -->\n(?P<body>.*?)"
    r"^(?P=indent)<!-- END GENERATED: (?P=name) -->$",
    re.DOTALL | re.MULTILINE,
)


# --- inputs, exactly as roles/preflight/tasks/main.yml gathers them --------------------------------

def _load_yaml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    return yaml.safe_load(path.read_text()) or {}


def inventory_host(inventory_dir: Path) -> tuple[str, list[str]]:
    """The one host of a deployment inventory and the groups it belongs to."""
    hosts_file = _load_yaml(inventory_dir / "hosts.yml")
    memberships: dict[str, list[str]] = {}

    def walk(group: str, body: Mapping[str, Any] | None) -> None:
        body = body or {}
        for host in body.get("hosts") or {}:
            memberships.setdefault(host, [])
            if group != "all":
                memberships[host].append(group)
        for child, child_body in (body.get("children") or {}).items():
            walk(child, child_body)

    walk("all", hosts_file.get("all"))
    if len(memberships) != 1:
        raise ValueError(f"{inventory_dir}/hosts.yml must hold exactly one host, found {sorted(memberships)}")
    [(host, groups)] = memberships.items()
    return host, sorted(set(groups))


def deployment_variables(inventory_dir: Path, repo: Path = REPO) -> tuple[str, list[str], dict[str, Any]]:
    """Host name, groups and merged variables: group_vars/all, group_vars/<group>, host_vars (Ansible's order)."""
    host, groups = inventory_host(inventory_dir)
    variables: dict[str, Any] = {}
    variables.update(_load_yaml(repo / "group_vars" / "all.yml"))
    for group in groups:
        variables.update(_load_yaml(repo / "group_vars" / f"{group}.yml"))
    variables.update(_load_yaml(inventory_dir / "host_vars" / f"{host}.yml"))
    return host, groups, variables


def deployment_inputs(inventory_dir: Path, repo: Path = REPO) -> dict[str, Any]:
    """The preflight role's ``__preflight_inputs`` for one inventory (without AZURE_SUBSCRIPTION_ID)."""
    host, groups, v = deployment_variables(inventory_dir, repo)
    return {
        "deployment": host,
        "groups": groups,
        "app": v.get("cf_app"),
        "managed_by": v.get("cf_managed_by", "ansible"),
        "regions": v.get("cf_regions"),
        "environments": v.get("cf_environments"),
        "allocations": v.get("cf_cidr_allocations"),
        "subnet_tiers": v.get("cf_subnet_tiers"),
        "nsg_rules": v.get("cf_nsg_rules", {}),
        "private_dns_zones": v.get("cf_private_dns_zones", []),
        "services": v.get("cf_services"),
        "event_hubs": v.get("cf_event_hubs"),
        "tag_policy": v.get("cf_tag_policy"),
        "tier": v.get("cf_tier"),
        "owner": v.get("cf_owner"),
        "cost_center": v.get("cf_cost_center"),
        "alert_emails": v.get("cf_alert_emails"),
        "admin_source_ranges": v.get("cf_admin_source_ranges", []),
        "extra_tags": {},
        "keyvault_runner_ip_ranges": v.get("keyvault_runner_ip_ranges", []),
        "policy_enforcement_mode": v.get("governance_enforcement_mode", "Default"),
        "defender_for_containers": v.get("registry_defender_for_containers", True),
        "database_role_prefix": v.get("database_role_prefix", "svc_"),
        "container_registry_id": v.get("identity_container_registry_id", ""),
        "entra_admin_group": v.get("database_entra_admin_group"),
        "availability_url": v.get("monitoring_availability_url", ""),
        "cost_anomaly_alert": v.get("monitoring_cost_anomaly_alert", True),
        "cost_anomaly_recipients": v.get("monitoring_cost_anomaly_recipients", []),
        "public_host_name": v.get("edge_host_name") or f"{host}.{v.get('cf_public_domain', 'complianceflow.example')}",
        "subscription_id": v.get("cf_subscription_id")
        or v.get("cf_placeholder_subscription_id", deployment_model.PLACEHOLDER_SUBSCRIPTION),
    }


# --- table helpers -------------------------------------------------------------------------

def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def _code(value: Any) -> str:
    return f"`{_cell(value)}`" if value not in (None, "") else ""


def table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    # Cells arrive formatted (_cell/_code escape what they take from the registries).
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


class Registry:
    """Everything the tables are generated from, loaded once."""

    def __init__(self, repo: Path = REPO) -> None:
        self.repo = repo
        self.all = _load_yaml(repo / "group_vars" / "all.yml")
        self.tiers = {env: _load_yaml(repo / "group_vars" / f"env_{env}.yml").get("cf_tier") or {}
                      for env in self.environments()}
        self.inventories = sorted(p.parent for p in (repo / "inventories").glob("*/hosts.yml"))
        self.models = {p.name: deployment_model.build_deployment(deployment_inputs(p, repo)) for p in self.inventories}

    def environments(self) -> list[str]:
        known = list(self.all["cf_environments"])
        return [e for e in ENVIRONMENT_ORDER if e in known] + [e for e in known if e not in ENVIRONMENT_ORDER]


# --- docs/cidr-plan.md ---------------------------------------------------------------------

def allocations_table(reg: Registry) -> str:
    allocations = reg.all["cf_cidr_allocations"]
    parsed = cidr_plan.check_allocations(allocations)
    rows = []
    for name, network in sorted(parsed.items(), key=lambda item: item[1]):
        dep = naming_rules.parse_deployment(name)
        location = reg.all["cf_regions"].get(dep.region, {}).get("location", "unknown region")
        inventory = f"inventories/{name}/" if (reg.repo / "inventories" / name / "hosts.yml").is_file() else "not yet"
        rows.append([_code(name), _code(network), location, dep.env, f"{network.num_addresses:,}", inventory])
    text = table(["Deployment", "Block", "Location", "Env", "Addresses", "Inventory"], rows)
    return text + f"\nNext free /16 (`make next-cidr`): `{cidr_plan.next_free_cidr(allocations)}`.\n"


def subnet_tiers_table(reg: Registry) -> str:
    envs = reg.environments()
    tiers = reg.all["cf_subnet_tiers"]
    plans = {env: cidr_plan.subnet_plan("10.0.0.0/16", tiers, env) for env in envs}
    rows = []
    for tier in tiers:
        in_vnet = next((plans[e][tier["name"]] for e in envs if tier["name"] in plans[e]), None)
        shape = in_vnet.replace("10.0.", "x.x.", 1) if in_vnet else "not in any environment"
        rows.append([_code(tier["name"]), tier["offset"], f"/{tier.get('prefixlen', 24)}", _code(shape)]
                    + ["yes" if tier["name"] in plans[e] else "-" for e in envs]
                    + [", ".join(tier.get("service_endpoints") or []) or "-", ", ".join(tier.get("delegations") or []) or "-"])
    return table(["Tier", "Offset", "Size", "Subnet in a /16 VNet", *envs, "Service endpoints", "Delegation"], rows)


def subnets_by_deployment_table(reg: Registry) -> str:
    tiers = [t["name"] for t in reg.all["cf_subnet_tiers"]]
    rows = []
    for name, block in sorted(reg.all["cf_cidr_allocations"].items(), key=lambda i: cidr_plan.parse_network(i[1], i[0])):
        plan = cidr_plan.subnet_plan(block, reg.all["cf_subnet_tiers"], naming_rules.parse_deployment(name).env)
        rows.append([_code(name), _code(block)] + [_code(plan[t]) if t in plan else "-" for t in tiers])
    return table(["Deployment", "VNet", *tiers], rows)


def _source(source: str) -> str:
    if source == "admin_ranges":
        return "the deployment's `cf_admin_source_ranges` (rule left out when empty)"
    if source.startswith("subnet:"):
        return f"the {source.split(':', 1)[1]} subnet"
    return f"`{source}`"


def nsg_rules_table(reg: Registry) -> str:
    deny_all = deployment_model.nsg_rules_for("any", [], {}, [])[-1]
    rows = []
    for tier in (t["name"] for t in reg.all["cf_subnet_tiers"]):
        rules = sorted(reg.all.get("cf_nsg_rules", {}).get(tier) or [], key=lambda r: int(r["priority"]))
        for rule in rules:
            rows.append([_code(tier), rule["priority"], _code(rule["name"]), rule["access"], rule.get("direction", "Inbound"),
                         _code(rule.get("protocol", "Tcp")), _source(str(rule["source"])),
                         ", ".join(_code(p) for p in rule.get("ports", ["*"]))])
        props = deny_all["properties"]
        rows.append([_code(tier), props["priority"], _code(deny_all["name"]), props["access"], props["direction"],
                     _code(props["protocol"]), "`*`", _code(props["destinationPortRange"])])
    return table(["Tier", "Priority", "Rule", "Access", "Direction", "Protocol", "Source", "Ports"], rows)


# --- docs/naming.md ------------------------------------------------------------------------

# How each kind is formed, where it is not simply <abbreviation>-cf-<deployment>[-<qualifier>].
SPECIAL_PATTERNS: dict[str, str] = {
    "security_rule": "`<rule name>` from `cf_nsg_rules`",
    "private_dns_zone_group": "`default`",
    "network_watcher": "`NetworkWatcher_<location>` (Azure's own, shared per region, in `NetworkWatcherRG`)",
    "postgresql_database": "`complianceflow_<service>_<deployment with underscores>`",
    "event_hub": "`<hub>` from `cf_event_hubs`",
    "consumer_group": "`<service>-consumer`",
    "sas_rule": "`send` or `listen`",
    "key_vault": "`kv-cf-<deployment>-<suffix>`, or `kv-cf-<compact>-<suffix>` beyond 24 characters",
    "key_vault_secret": "`<secret>` (fixed list, see the deployment model)",
    "storage_account": "`stcf<deployment without hyphens><suffix>`, or `stcf<compact><suffix>` beyond 24",
    "container_registry": "`crcf<deployment without hyphens><suffix>` (letters and digits only)",
    "action_group_short": "`cf-<compact>` (at most 12 characters)",
}
# The qualifier each example uses: a real one the model passes.
SAMPLE_QUALIFIERS: dict[str, dict[str, str]] = {
    "subnet": {"qualifier": "db"},
    "network_security_group": {"qualifier": "db"},
    "security_rule": {"qualifier": "allow-postgresql-from-containerapps"},
    "private_endpoint": {"qualifier": "kv"},
    "flow_log": {"qualifier": "vnet"},
    "postgresql_database": {"service": "user"},
    "event_hub": {"hub": "user-events"},
    "consumer_group": {"service": "analytics"},
    "sas_rule": {"right": "send"},
    "key_vault_secret": {"secret": "postgresql-admin-password"},
    "metric_alert": {"qualifier": "psql-cpu"},
    "log_alert": {"qualifier": "kv-unauthorized"},
    "policy_assignment": {"qualifier": "require-tag-owner"},
    "policy_definition": {"qualifier": "deny-premium-skus"},
}


def _rule_text(rule: naming_rules.NameRule) -> str:
    parts = [f"{rule.min_length}-{rule.max_length} chars", f"`{_cell(rule.pattern)}`"]
    if rule.no_double_hyphen:
        parts.append("no `--`")
    parts += [f"not ending `{s}`" for s in rule.reserved_suffixes]
    parts.append({"global": "globally unique (DNS name)", "subscription": "unique per subscription"}.get(
        rule.scope, "unique within its parent"))
    return "; ".join(parts)


def naming_table(reg: Registry) -> str:
    rows = []
    for kind, rule in naming_rules.NAME_RULES.items():
        if kind in SPECIAL_PATTERNS:
            pattern = SPECIAL_PATTERNS[kind]
        else:
            qualifier = "-<qualifier>" if kind in SAMPLE_QUALIFIERS else ""
            suffix = "-<suffix>" if kind in naming_rules.GLOBALLY_UNIQUE else ""
            pattern = f"`{naming_rules.ABBREVIATIONS[kind]}-cf-<deployment>{qualifier}{suffix}`"
        examples = []
        for deployment in EXAMPLE_DEPLOYMENTS:
            dep = naming_rules.parse_deployment(deployment)
            examples.append(_code(naming_rules.resource_name(
                deployment, kind, subscription_id=SAMPLE_SUBSCRIPTION, regions=reg.all["cf_regions"],
                environments=reg.all["cf_environments"], location=reg.all["cf_regions"][dep.region]["location"],
                **SAMPLE_QUALIFIERS.get(kind, {}))))
        rows.append([_code(kind), _code(rule.azure_type), pattern, _rule_text(rule), *examples])
    return table(["Kind", "Azure type", "Pattern", "Azure rule", *EXAMPLE_DEPLOYMENTS], rows)


def compact_codes_table(reg: Registry) -> str:
    rows = [[_code(code), entry["location"], _code(entry.get("short", code))] for code, entry in reg.all["cf_regions"].items()]
    envs = ", ".join(f"`{env}` -> `{entry.get('short', env)}`" for env, entry in reg.all["cf_environments"].items())
    return table(["Region code", "Azure location", "Short code"], rows) + f"\nEnvironment short codes: {envs}.\n"


# --- docs/deployments.md -------------------------------------------------------------------

def inventories_table(reg: Registry) -> str:
    rows = []
    for name, model in reg.models.items():
        rows.append([_code(name), model["env"], model["location"], _code(model["address_space"]), model["tags"]["owner"],
                     model["tags"]["costCenter"],
                     len([r for r in model["resources"] if r.get("state") != "absent"]),
                     "placeholder" if model["subscription_is_placeholder"] else _code(model["subscription_id"])])
    return table(["Deployment", "Env", "Location", "Address space", "Owner", "Cost centre", "Planned resources",
                  "Subscription"], rows)


def _flatten(prefix: str, value: Any) -> list[tuple[str, Any]]:
    if isinstance(value, Mapping):
        items: list[tuple[str, Any]] = []
        for key, sub in value.items():
            items += _flatten(f"{prefix}.{key}" if prefix else str(key), sub)
        return items
    return [(prefix, value)]


def _setting(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "(none)"
    if value is None:
        return "(null)"
    return str(value)


def tier_table(reg: Registry) -> str:
    envs = reg.environments()
    flat = {env: dict(_flatten("", reg.tiers[env])) for env in envs}
    keys: list[str] = []
    for env in envs:
        keys += [k for k in flat[env] if k not in keys]
    rows = [[_code(key)] + [_setting(flat[env][key]) if key in flat[env] else "(missing)" for env in envs] for key in keys]
    return table(["`cf_tier` setting"] + [f"{env} (`group_vars/env_{env}.yml`)" for env in envs], rows)


def next_free_text(reg: Registry) -> str:
    allocations = reg.all["cf_cidr_allocations"]
    return (f"With today's table the next free /16 is `{cidr_plan.next_free_cidr(allocations)}`; the next free /16 in "
            f"172.16.0.0/12 is `{cidr_plan.next_free_cidr(allocations, pool='172.16.0.0/12')}`.\n")


GENERATORS: dict[str, dict[str, Callable[[Registry], str]]] = {
    "docs/cidr-plan.md": {
        "allocations": allocations_table,
        "subnet-tiers": subnet_tiers_table,
        "subnets-by-deployment": subnets_by_deployment_table,
        "nsg-rules": nsg_rules_table,
    },
    "docs/naming.md": {
        "naming-kinds": naming_table,
        "short-codes": compact_codes_table,
    },
    "docs/deployments.md": {
        "inventories": inventories_table,
        "tier-table": tier_table,
        "next-free-cidr": next_free_text,
    },
}


# --- regions between markers ---------------------------------------------------------------

def render(text: str, sections: Mapping[str, Callable[[Registry], str]], reg: Registry, path: str) -> str:
    found = {m["name"] for m in MARKER_RE.finditer(text)}
    missing = sorted(set(sections) - found)
    if missing:
        raise SystemExit(f"{path}: missing generated region(s) {', '.join(missing)}: add "
                         f"'<!-- BEGIN GENERATED: NAME -->' and '<!-- END GENERATED: NAME -->' lines")
    unknown = sorted(found - set(sections))
    if unknown:
        raise SystemExit(f"{path}: unknown generated region(s) {', '.join(unknown)}")

    def replace(match: re.Match[str]) -> str:
        indent, name = match["indent"], match["name"]
        body = "".join(f"{indent}{line}".rstrip() + "\n" for line in ("\n" + sections[name](reg)).splitlines())
        return (f"{indent}<!-- BEGIN GENERATED: {name} -->\n{body}\n"
                f"{indent}<!-- END GENERATED: {name} -->")

    return MARKER_RE.sub(replace, text)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help="rewrite the generated regions")
    mode.add_argument("--check", action="store_true", help="exit 1 when a generated region is stale")
    parser.add_argument("--root", type=Path, default=REPO, help="repository root (default: this checkout)")
    args = parser.parse_args(argv)

    reg = Registry(args.root)
    stale = []
    for relative, sections in GENERATORS.items():
        path = args.root / relative
        if not path.is_file():
            print(f"{relative}: missing", file=sys.stderr)
            stale.append(relative)
            continue
        current = path.read_text()
        expected = render(current, sections, reg, relative)
        if expected == current:
            continue
        if args.write:
            path.write_text(expected)
            print(f"{relative}: updated")
        else:
            stale.append(relative)
    if stale:
        print("stale generated docs: " + ", ".join(stale) + " (run `make docs`)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
