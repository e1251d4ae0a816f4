"""What the engine decides before any request: the plan is checked (types, IDs, API versions, where run-time
secrets may stand, cycles), and writes are ordered in waves (a resource after its parent and its dependencies)."""

from __future__ import annotations

import pytest

from ansible_collections.complianceflow.azure_infra.plugins.module_utils.engine import (
    Engine,
    Item,
    Options,
    PlanError,
    RuntimeValues,
    arm_case,
    expiry_time,
    parent_id,
    secret_expiry_change,
    secret_expiry_days,
)

RG = "/subscriptions/s/resourceGroups/g"
VNET = f"{RG}/providers/Microsoft.Network/virtualNetworks/v"
NSG = f"{RG}/providers/Microsoft.Network/networkSecurityGroups/n"


def engine(entries: list[dict]) -> Engine:
    return Engine(None, entries, Options(), None)  # type: ignore[arg-type]


def test_waves_put_parents_and_dependencies_first_whatever_the_listing_order() -> None:
    planned = engine([
        {"id": f"{VNET}/subnets/a", "type": "Microsoft.Network/virtualNetworks/subnets", "depends_on": [NSG]},
        {"id": VNET, "type": "Microsoft.Network/virtualNetworks", "depends_on": [RG]},
        {"id": NSG, "type": "Microsoft.Network/networkSecurityGroups", "depends_on": [RG]},
        {"id": RG, "type": "Microsoft.Resources/resourceGroups"},
    ])
    level = {i.id.rsplit("/", 1)[-1]: i.level for i in planned.items}
    assert level == {"g": 0, "v": 1, "n": 1, "a": 2}


@pytest.mark.parametrize(("entries", "words"), [
    ([{"id": f"{RG}/providers/Microsoft.Nope/things/x", "type": "Microsoft.Nope/things"}], "not a type"),
    ([{"id": "vnet-without-scope", "type": "Microsoft.Network/virtualNetworks"}], "full resource ID"),
    ([{"id": VNET, "type": "Microsoft.Network/virtualNetworks"}, {"id": VNET.upper().replace("/SUBSCRIPTIONS", "/subscriptions"),
                                                                   "type": "Microsoft.Network/virtualNetworks"}],
     "planned twice"),
    ([{"id": VNET, "type": "Microsoft.Network/virtualNetworks", "api_version": "2019-01-01"}], "registry"),
    ([{"id": VNET, "type": "Microsoft.Network/virtualNetworks",
       "properties": {"dhcpOptions": {"dnsServers": ["<runtime:key-vault-secret:x>"]}}}], "write-only"),
    ([{"id": VNET, "type": "Microsoft.Network/virtualNetworks", "depends_on": [NSG]},
      {"id": NSG, "type": "Microsoft.Network/networkSecurityGroups", "depends_on": [VNET]}], "cycle"),
])
def test_a_plan_the_engine_cannot_run_is_refused_before_any_request(entries: list[dict], words: str) -> None:
    with pytest.raises(PlanError, match=words):
        engine(entries)


def test_parent_ids_and_arm_case() -> None:
    assert parent_id(f"{VNET}/subnets/a") == VNET
    assert parent_id(VNET) is None
    assert parent_id(f"{VNET}/providers/Microsoft.Insights/diagnosticSettings/d") is None
    assert arm_case([{"name": "teams", "service_uri": "https://x", "use_common_alert_schema": True}]) == [
        {"name": "teams", "serviceUri": "https://x", "useCommonAlertSchema": True}]


def test_each_role_keeps_its_own_options_in_a_pass_of_several_roles() -> None:
    """The site playbook applies every role's slice in one run: a role's options reach only its own resources."""
    planned = Engine(None, [  # type: ignore[arg-type]
        {"id": NSG, "type": "Microsoft.Network/networkSecurityGroups", "role": "network"},
        {"id": f"{NSG}/providers/Microsoft.Insights/diagnosticSettings/d",
         "type": "Microsoft.Insights/diagnosticSettings", "role": "monitoring"},
        {"id": VNET, "type": "Microsoft.Network/virtualNetworks"},
    ], Options(), None, role_options={  # type: ignore[arg-type]
        "network": {"partial_lists": {"Microsoft.Network/networkSecurityGroups": ["properties.securityRules"]},
                    "purge_tags": False},
        "monitoring": {"missing_dependencies": "skip"},
    })
    options = {i.id.rsplit("/", 1)[-1]: i.options for i in planned.items}
    assert options["n"].purge_tags is False
    assert options["n"].partial_lists == {"microsoft.network/networksecuritygroups": ["properties.securityRules"]}
    assert options["n"].missing_dependencies == "fail"
    assert options["d"].missing_dependencies == "skip" and options["d"].purge_tags is True
    assert options["v"] == Options()


@pytest.mark.parametrize(("role_options", "words"), [
    ({"network": {"purge_everything": True}}, "unknown option"),
    ({"monitoring": {"missing_dependencies": "ignore"}}, "fail or skip"),
])
def test_role_options_the_engine_does_not_know_are_refused_before_any_request(role_options: dict,
                                                                               words: str) -> None:
    with pytest.raises(PlanError, match=words):
        Engine(None, [{"id": NSG, "type": "Microsoft.Network/networkSecurityGroups", "role": "network"}],  # type: ignore[arg-type]
               Options(), None, role_options=role_options)  # type: ignore[arg-type]


def test_a_flexible_servers_parameters_and_databases_are_written_one_at_a_time() -> None:
    """Azure refuses a second operation on a flexible server while one runs (ServerIsBusy): the engine writes its
    parameters and databases one after another, while other resources of the wave go in parallel."""
    import threading
    import time

    server = f"{RG}/providers/Microsoft.DBforPostgreSQL/flexibleServers/p"
    active: dict[str, int] = {}
    overlaps: list[str] = []
    lock = threading.Lock()

    class Client:
        def write(self, _method: str, resource_id: str, *_args: object) -> dict:
            key = server if resource_id.startswith(server + "/") else resource_id
            with lock:
                active[key] = active.get(key, 0) + 1
                if active[key] > 1:
                    overlaps.append(resource_id)
            time.sleep(0.02)
            with lock:
                active[key] -= 1
            return {}

    planned = engine([
        *({"id": f"{server}/configurations/c{i}", "type": "Microsoft.DBforPostgreSQL/flexibleServers/configurations",
           "properties": {"value": "on"}} for i in range(3)),
        *({"id": f"{server}/databases/d{i}", "type": "Microsoft.DBforPostgreSQL/flexibleServers/databases",
           "properties": {}} for i in range(3)),
        {"id": NSG, "type": "Microsoft.Network/networkSecurityGroups", "location": "westeurope"},
    ])
    planned.client = Client()  # type: ignore[assignment]
    for item in planned.items:
        item.action = "create"
    planned._wave(planned.items)
    assert overlaps == []
    assert all(i.action == "create" for i in planned.items), [i.message for i in planned.items]


# --- Key Vault secret expiry (the tier's secret_expiry_days) ----------------------------------------------------

VAULT = f"{RG}/providers/Microsoft.KeyVault/vaults/kv"


def decided_secret(value: str, current: dict | None, rotate: tuple[str, ...] = ()) -> tuple[Engine, Item]:
    """What the engine decides for a secret planned with a 90-day expiry, against what the vault holds now."""
    run = Engine(None, [{"id": f"{VAULT}/secrets/s", "type": "Microsoft.KeyVault/vaults/secrets",  # type: ignore[arg-type]
                         "properties": {"contentType": "password", "value": value,
                                        "attributes": {"exp": "<runtime:expires-in-days:90>"}}}],
                 Options(diff=True), RuntimeValues(None, {"rotate": list(rotate)}))  # type: ignore[arg-type]
    [item] = run.items
    item.vault_uri, item.actual = "https://kv.vault.azure.net/", current
    run._decide_secret(item)
    return run, item


def test_an_existing_secret_without_expiry_gets_one_once_and_an_expiry_is_never_moved_without_a_new_value() -> None:
    _run, missing = decided_secret("<runtime:generate:password>", {"value": "x", "contentType": "password",
                                                                   "attributes": {"enabled": True}})
    assert (missing.action, missing.differences, missing.new_value) == ("update", ["properties.attributes.exp"], None)
    _run, dated = decided_secret("<runtime:generate:password>", {"value": "x", "contentType": "password",
                                                                 "attributes": {"enabled": True, "exp": 1}})
    assert (dated.action, dated.differences) == ("unchanged", [])


def test_a_new_value_gets_a_new_expiry_and_diff_says_so() -> None:
    run, rotated = decided_secret("<runtime:generate:password>", {"value": "x", "contentType": "password",
                                                                   "attributes": {"enabled": True, "exp": 1}},
                                  rotate=("s",))
    assert rotated.differences == ["properties.value"] and rotated.new_value not in (None, "x")
    assert run.before[rotated.id]["properties"]["attributes"] == {"exp": 1}
    assert run.after[rotated.id]["properties"]["attributes"] == {"exp": "(the write's time + 90 days)"}
    _run, derived = decided_secret("key-2", {"value": "key-1", "contentType": "password",
                                             "attributes": {"enabled": True, "exp": 1}})
    assert derived.differences == ["properties.value"]
    assert secret_expiry_change(90, {"attributes": {"exp": 1}}, value_written=True)
    assert not secret_expiry_change(None, None, value_written=True), "no expiry planned: none is ever set"


def test_expiry_is_unix_seconds_days_after_the_write() -> None:
    assert expiry_time(90, now=1_800_000_000.5) == 1_800_000_000 + 90 * 86400
    assert secret_expiry_days({"attributes": {"exp": "<runtime:expires-in-days:30>"}}) == 30
    assert secret_expiry_days({"contentType": "password"}) is None


@pytest.mark.parametrize("entry", [
    {"id": VNET, "type": "Microsoft.Network/virtualNetworks",
     "properties": {"attributes": {"exp": "<runtime:expires-in-days:90>"}}},
    {"id": f"{VAULT}/secrets/s", "type": "Microsoft.KeyVault/vaults/secrets",
     "properties": {"value": "v", "attributes": {"exp": "<runtime:expires-in-days:ninety>"}}},
    {"id": f"{VAULT}/secrets/s", "type": "Microsoft.KeyVault/vaults/secrets",
     "properties": {"value": "v", "attributes": {"nbf": "<runtime:expires-in-days:90>"}}},
])
def test_an_expiry_placeholder_outside_a_secrets_exp_is_refused_before_any_request(entry: dict) -> None:
    with pytest.raises(PlanError, match="expires-in-days"):
        engine([entry])


def test_a_schedules_end_is_whole_years_after_this_months_start() -> None:
    runtime = RuntimeValues(None)  # type: ignore[arg-type]
    start = str(runtime.get("month-start", None))
    end = str(runtime.get("month-start-plus-years", "10"))
    assert end == f"{int(start[:4]) + 10}{start[4:]}" and start.endswith("-01T00:00:00Z")
