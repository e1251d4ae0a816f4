"""Every network-slice module against the emulator: check -> apply -> idempotent check -> idempotent apply,
drift correction with --diff, purge semantics, Azure's refusals surfacing with Azure's code, and faults."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.modules.runner import ModuleRunner, Step, four_steps

pytestmark = pytest.mark.emulator

LOCATION = "westeurope"
RG = "rg-cf-it-1"


def by_id(emulator: Any) -> dict[str, dict[str, Any]]:
    """The emulator's resources keyed by lower-cased ID, whatever shape its admin API wraps them in."""
    out: dict[str, dict[str, Any]] = {}
    for item in emulator.resources():
        body = item.get("body", item) if isinstance(item, dict) else item
        rid = item.get("id") or body.get("id")
        out[str(rid).lower()] = body
    return out


def prepare(run: ModuleRunner, *steps: tuple[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Create prerequisites in one playbook run: the resource group, then ``steps`` in order."""
    done = run.steps([Step("resource_group", {"name": RG, "location": LOCATION})]
                     + [Step(module, args) for module, args in steps])
    for outcome in done:
        assert not outcome.result.get("failed"), outcome.result.get("msg")
    return [outcome.result for outcome in done[1:]]


VNET_PLAIN = {"resource_group": RG, "name": "vnet-cf-it-1", "location": LOCATION, "address_prefixes": ["10.20.0.0/20"]}


def nsg_id(run: ModuleRunner, name: str) -> str:
    return f"{run.rg_id(RG)}/providers/Microsoft.Network/networkSecurityGroups/{name}"


def vnet_id(run: ModuleRunner, name: str = "vnet-cf-it-1") -> str:
    return f"{run.rg_id(RG)}/providers/Microsoft.Network/virtualNetworks/{name}"


def test_resource_group_with_tags_and_lock(run: ModuleRunner, emulator: Any) -> None:
    args = {"name": RG, "location": "West Europe", "tags": {"deployment": "it-1", "cost_centre": 42},
            "lock": {"name": "cf-protect", "level": "CanNotDelete", "notes": "production"}}
    applied = four_steps(run, "resource_group", args)
    assert applied["id"].lower() == run.rg_id(RG).lower()
    resources = by_id(emulator)
    group = resources[run.rg_id(RG).lower()]
    assert group["location"] == "westeurope"
    assert group["tags"] == {"deployment": "it-1", "cost_centre": "42"}
    lock = resources[f"{run.rg_id(RG)}/providers/Microsoft.Authorization/locks/cf-protect".lower()]
    assert lock["properties"]["level"] == "CanNotDelete"

    info = run("resource_group_info", {"name": RG})
    assert info["exists"] is True
    assert [lock["name"] for lock in info["locks"]] == ["cf-protect"]


def test_locked_group_is_deleted_only_with_force_remove_lock(run: ModuleRunner, emulator: Any) -> None:
    prepare(run, ("resource_group", {"name": RG, "lock": {"name": "cf-protect"}}))
    absent = {"name": RG, "state": "absent", "force_remove_lock": True}
    refused, checked, deleted, again = run.steps([
        Step("resource_group", {"name": RG, "state": "absent"}), Step("resource_group", absent, check=True),
        Step("resource_group", absent), Step("resource_group", absent)])
    assert refused.result.get("failed") is True
    assert refused.result["error"]["code"] == "ScopeLocked"
    assert run.rg_id(RG).lower() in refused.result["msg"].lower()
    assert refused.writes and all(w["status"] >= 400 for w in refused.writes)

    assert checked.result["changed"] is True
    assert checked.writes == []

    assert deleted.result["changed"] is True
    assert [w["method"] for w in deleted.writes] == ["DELETE", "DELETE"]  # the lock, then the group
    assert run.rg_id(RG).lower() not in by_id(emulator)
    assert again.result["changed"] is False and again.writes == []


def nsg_args(**overrides: Any) -> dict[str, Any]:
    args = {"resource_group": RG, "name": "nsg-cf-it-1-db", "location": LOCATION, "tags": {"tier": "db"},
            "rules": [
                {"name": "allow-postgres", "priority": 100, "protocol": "Tcp",
                 "source_address_prefixes": ["10.20.0.0/23"], "destination_port_range": "5432",
                 "description": "containerapps to PostgreSQL"},
                {"name": "allow-https-two-sources", "priority": 110, "protocol": "Tcp",
                 "source_address_prefixes": ["10.20.0.0/24", "10.20.1.0/24"], "destination_port_ranges": ["443"]},
                {"name": "deny-all-inbound", "priority": 4096, "access": "Deny"},
            ]}
    args.update(overrides)
    return args


def test_network_security_group_four_steps(run: ModuleRunner, emulator: Any) -> None:
    prepare(run)
    four_steps(run, "network_security_group", nsg_args())
    stored = by_id(emulator)[nsg_id(run, "nsg-cf-it-1-db").lower()]
    rules = {r["name"]: r["properties"] for r in stored["properties"]["securityRules"]}
    assert set(rules) == {"allow-postgres", "allow-https-two-sources", "deny-all-inbound"}
    # One value goes to the singular field, several to the plural one, as Azure stores them.
    assert rules["allow-postgres"]["sourceAddressPrefix"] == "10.20.0.0/23"
    assert sorted(rules["allow-https-two-sources"]["sourceAddressPrefixes"]) == ["10.20.0.0/24", "10.20.1.0/24"]
    assert rules["deny-all-inbound"]["access"] == "Deny"


def test_rule_changed_behind_our_back_is_shown_and_restored(run: ModuleRunner, emulator: Any,
                                                           arm_client: Any) -> None:
    prepare(run, ("network_security_group", nsg_args()))
    rule_id = nsg_id(run, "nsg-cf-it-1-db") + "/securityRules/allow-postgres"
    rule = arm_client.get(rule_id, "2024-05-01")
    rule["properties"]["destinationPortRange"] = "5433"
    arm_client.write("PUT", rule_id, "2024-05-01", {"properties": rule["properties"]}, 60)

    checked_step, restored_step, again_step = run.steps([
        Step("network_security_group", nsg_args(), check=True, diff=True),
        Step("network_security_group", nsg_args(), diff=True), Step("network_security_group", nsg_args())])
    checked = checked_step.result
    assert checked["changed"] is True
    before = checked["diff"]["before"]["network_security_group"]["properties"]["securityRules"]
    after = checked["diff"]["after"]["network_security_group"]["properties"]["securityRules"]
    assert before == {"[allow-postgres]": {"properties": {"destinationPortRange": "5433"}}}
    assert after == {"[allow-postgres]": {"properties": {"destinationPortRange": "5432"}}}
    assert "5433" in checked["_stdout"] and "5432" in checked["_stdout"]
    assert checked_step.writes == []

    assert restored_step.result["changed"] is True
    assert [w["method"] for w in restored_step.writes] == ["PUT"]
    assert arm_client.get(rule_id, "2024-05-01")["properties"]["destinationPortRange"] == "5432"
    assert again_step.result["changed"] is False
    assert again_step.writes == []


def test_undeclared_rule_is_kept_unless_purged(run: ModuleRunner, emulator: Any) -> None:
    fewer = nsg_args(rules=[{"name": "deny-all-inbound", "priority": 4096, "access": "Deny"}])
    _, kept, purged = prepare(run, ("network_security_group", nsg_args()), ("network_security_group", fewer),
                              ("network_security_group", {**fewer, "purge_rules": True}))
    assert kept["changed"] is False
    assert purged["changed"] is True
    stored = by_id(emulator)[nsg_id(run, "nsg-cf-it-1-db").lower()]
    assert [r["name"] for r in stored["properties"]["securityRules"]] == ["deny-all-inbound"]


def vnet_args(run: ModuleRunner, **overrides: Any) -> dict[str, Any]:
    args = {"resource_group": RG, "name": "vnet-cf-it-1", "location": LOCATION,
            "address_prefixes": ["10.20.0.0/20"], "tags": {"deployment": "it-1"},
            "subnets": [
                {"name": "snet-containerapps", "address_prefix": "10.20.0.0/23",
                 "service_endpoints": ["Microsoft.Storage", "Microsoft.KeyVault", "Microsoft.EventHub"],
                 "network_security_group": "nsg-cf-it-1-db"},
                {"name": "snet-db", "address_prefix": "10.20.2.0/24", "service_endpoints": ["Microsoft.Sql"],
                 "delegations": ["Microsoft.DBforPostgreSQL/flexibleServers"],
                 "network_security_group": nsg_id(run, "nsg-cf-it-1-db"),
                 "private_endpoint_network_policies": "Disabled"},
            ]}
    args.update(overrides)
    return args


def test_virtual_network_with_subnets_four_steps(run: ModuleRunner, emulator: Any) -> None:
    prepare(run, ("network_security_group", nsg_args()))
    applied = four_steps(run, "virtual_network", vnet_args(run))
    assert set(applied["subnets"]) == {"snet-containerapps", "snet-db"}
    stored = by_id(emulator)[vnet_id(run).lower()]
    subnets = {s["name"]: s["properties"] for s in stored["properties"]["subnets"]}
    assert subnets["snet-db"]["delegations"][0]["properties"]["serviceName"] == \
        "Microsoft.DBforPostgreSQL/flexibleServers"
    assert {e["service"] for e in subnets["snet-containerapps"]["serviceEndpoints"]} == {
        "Microsoft.Storage", "Microsoft.KeyVault", "Microsoft.EventHub"}
    assert subnets["snet-db"]["networkSecurityGroup"]["id"].lower() == nsg_id(run, "nsg-cf-it-1-db").lower()

    info = run("network_info", {"resource_group": RG, "type": "subnet", "parent": "vnet-cf-it-1", "name": "snet-db"})
    assert info["exists"] is True
    assert info["resource"]["properties"]["addressPrefix"] == "10.20.2.0/24"


def test_undeclared_subnet_is_kept_unless_purged(run: ModuleRunner, emulator: Any) -> None:
    full = vnet_args(run)
    only_db = {**full, "subnets": [full["subnets"][1]]}
    _, _, kept = prepare(run, ("network_security_group", nsg_args()), ("virtual_network", full),
                         ("virtual_network", only_db))
    assert kept["changed"] is False
    names = {s["name"] for s in by_id(emulator)[vnet_id(run).lower()]["properties"]["subnets"]}
    assert names == {"snet-containerapps", "snet-db"}

    purged = run("virtual_network", {**only_db, "purge_subnets": True}, diff=True)
    assert purged["changed"] is True
    names = {s["name"] for s in by_id(emulator)[vnet_id(run).lower()]["properties"]["subnets"]}
    assert names == {"snet-db"}


def test_added_subnet_and_endpoint_change_are_one_write(run: ModuleRunner, emulator: Any) -> None:
    prepare(run, ("network_security_group", nsg_args()), ("virtual_network", vnet_args(run)))
    args = vnet_args(run)
    args["subnets"][0]["service_endpoints"] = ["Microsoft.Storage"]
    args["subnets"].append({"name": "snet-redis", "address_prefix": "10.20.3.0/24"})
    changed, again = run.steps([Step("virtual_network", args, diff=True), Step("virtual_network", args)])
    assert changed.result["changed"] is True
    assert [w["method"] for w in changed.writes] == ["PUT"]
    stored = by_id(emulator)[vnet_id(run).lower()]
    subnets = {s["name"]: s["properties"] for s in stored["properties"]["subnets"]}
    assert [e["service"] for e in subnets["snet-containerapps"]["serviceEndpoints"]] == ["Microsoft.Storage"]
    assert subnets["snet-redis"]["addressPrefix"] == "10.20.3.0/24"
    assert again.result["changed"] is False and again.writes == []


def test_azure_refusal_names_the_resource_and_azure_code(run: ModuleRunner) -> None:
    prepare(run)
    outside = {"resource_group": RG, "name": "vnet-cf-it-1", "location": LOCATION,
               "address_prefixes": ["10.20.0.0/20"],
               "subnets": [{"name": "snet-out", "address_prefix": "10.99.0.0/24"}]}
    result = run("virtual_network", outside)
    assert result.get("failed") is True
    assert vnet_id(run).lower() in result["msg"].lower()
    assert result["error"]["code"]
    assert result["error"]["code"] in result["msg"]
    assert result["error"]["status"] == 400


def test_private_dns_zone_with_links_four_steps(run: ModuleRunner, emulator: Any) -> None:
    prepare(run, ("virtual_network", VNET_PLAIN))
    args = {"resource_group": RG, "name": "privatelink.blob.core.windows.net", "tags": {"deployment": "it-1"},
            "virtual_network_links": [{"name": "link-vnet-cf-it-1", "virtual_network": "vnet-cf-it-1"}]}
    four_steps(run, "private_dns_zone", args)
    zone_id = f"{run.rg_id(RG)}/providers/Microsoft.Network/privateDnsZones/privatelink.blob.core.windows.net"
    resources = by_id(emulator)
    assert resources[zone_id.lower()]["location"] == "global"
    link = resources[f"{zone_id}/virtualNetworkLinks/link-vnet-cf-it-1".lower()]
    assert link["properties"]["virtualNetwork"]["id"].lower() == vnet_id(run).lower()
    assert link["properties"]["registrationEnabled"] is False

    info = run("network_info", {"id": zone_id})
    assert [x["name"] for x in info["virtual_network_links"]] == ["link-vnet-cf-it-1"]

    removed = run("private_dns_zone", {"resource_group": RG, "name": "privatelink.blob.core.windows.net",
                                       "state": "absent"})
    assert removed["changed"] is True
    assert zone_id.lower() not in by_id(emulator)


def test_storage_watcher_and_vnet_flow_log_four_steps(run: ModuleRunner, emulator: Any) -> None:
    prepare(run, ("virtual_network", VNET_PLAIN))
    storage = {"resource_group": RG, "name": "stcfit1flowlogs", "location": LOCATION, "tags": {"use": "flowlogs"},
               "network_acls": {"default_action": "Deny", "bypass": "AzureServices"}}
    account = four_steps(run, "storage_account", storage)
    stored = by_id(emulator)[account["id"].lower()]
    assert stored["properties"]["minimumTlsVersion"] == "TLS1_2"
    assert stored["properties"]["allowBlobPublicAccess"] is False
    assert stored["properties"]["supportsHttpsTrafficOnly"] is True

    watcher = four_steps(run, "network_watcher", {"resource_group": RG, "name": "nw-cf-it-1", "location": LOCATION})
    flow = {"resource_group": RG, "network_watcher": "nw-cf-it-1", "name": "fl-vnet-cf-it-1",
            "target_resource_id": vnet_id(run), "storage_account_id": account["id"], "retention_days": 30}
    applied = four_steps(run, "flow_log", flow)
    stored_flow = by_id(emulator)[applied["id"].lower()]
    assert stored_flow["properties"]["targetResourceId"].lower() == vnet_id(run).lower()
    assert stored_flow["properties"]["retentionPolicy"] == {"days": 30, "enabled": True}
    assert stored_flow["location"] == watcher["network_watcher"]["location"]

    info = run("storage_account_info", {"resource_group": RG, "name": "stcfit1flowlogs"})
    assert info["exists"] is True
    assert "keys" not in info["storage_account"]

    changed = run("storage_account", {**storage, "minimum_tls_version": "TLS1_2", "https_only": True,
                                      "tags": {"use": "flowlogs", "owner": "platform"}}, diff=True)
    assert changed["changed"] is True
    assert changed["diff"]["after"]["storage_account"] == {"tags": {"owner": "platform"}}


def test_nsg_flow_log_creation_is_refused_as_azure_does(run: ModuleRunner) -> None:
    _, account, _ = prepare(run, ("network_security_group", nsg_args()),
                            ("storage_account", {"resource_group": RG, "name": "stcfit1flowlogs", "location": LOCATION}),
                            ("network_watcher", {"resource_group": RG, "name": "nw-cf-it-1", "location": LOCATION}))
    refused = run("flow_log", {"resource_group": RG, "network_watcher": "nw-cf-it-1", "name": "fl-nsg",
                               "target_resource_id": nsg_id(run, "nsg-cf-it-1-db"),
                               "storage_account_id": account["id"]})
    assert refused.get("failed") is True
    assert "flowLogs/fl-nsg".lower() in refused["msg"].lower()


def test_resource_info_reads_and_lists(run: ModuleRunner) -> None:
    prepare(run)
    got = run("resource_info", {"id": run.rg_id(RG), "api_version": "2021-04-01"})
    assert got["exists"] is True and got["resource"]["name"] == RG
    missing = run("resource_info", {"id": run.rg_id("rg-does-not-exist"), "api_version": "2021-04-01"})
    assert missing["exists"] is False and missing["changed"] is False
    listed = run("resource_info", {"id": f"/subscriptions/{run.subscription}/resourcegroups",
                                   "api_version": "2021-04-01", "collection": True})
    assert RG in [g["name"] for g in listed["items"]]


def test_faults_at_ten_percent_still_converge(run: ModuleRunner, emulator: Any) -> None:
    # Ten percent of each at random, plus one of each for certain: a short run could otherwise draw none at all.
    emulator.set_faults("429:0.1,503:0.1,another-operation:0.1,get:*:429:once,get:*:503:once,"
                        "put:Microsoft.Network/virtualNetworks:another-operation:once")
    steps = [("resource_group", {"name": RG, "location": LOCATION, "lock": {"name": "cf-protect"}}),
             ("network_security_group", nsg_args()),
             ("virtual_network", vnet_args(run)),
             ("private_dns_zone", {"resource_group": RG, "name": "privatelink.vaultcore.azure.net",
                                   "virtual_network_links": [{"name": "link", "virtual_network": "vnet-cf-it-1"}]})]
    for outcome in run.steps([Step(module, args) for module, args in steps]):
        assert not outcome.result.get("failed"), outcome.result.get("msg")
    faulted = [e for e in emulator.requests() if int(e.get("status", 0)) in (409, 429, 503)]
    assert {409, 429, 503} <= {int(e["status"]) for e in faulted}, f"every kind of fault must be met: {faulted}"
    emulator.set_faults("")
    for outcome in run.steps([Step(module, args) for module, args in steps]):
        assert outcome.result["changed"] is False, outcome.result
        assert outcome.writes == []
