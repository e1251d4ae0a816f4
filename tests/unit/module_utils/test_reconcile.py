"""Normalisation, subset comparison, merge and diff: what decides whether a task reports a change."""

from __future__ import annotations

from ansible_collections.complianceflow.azure_infra.plugins.module_utils import reconcile as rec
from ansible_collections.complianceflow.azure_infra.plugins.modules.network_security_group import (
    canonical_security_rule,
)

SUB = "/subscriptions/00000000-0000-0000-0000-000000000001"
NSG_ID = f"{SUB}/resourceGroups/rg-a/providers/Microsoft.Network/networkSecurityGroups/nsg-a"


def vnet(subnets: list[dict], prefixes: list[str] | None = None) -> dict:
    return {"id": f"{SUB}/resourceGroups/rg-a/providers/Microsoft.Network/virtualNetworks/vnet-a",
            "name": "vnet-a", "location": "westeurope", "etag": 'W/"1"',
            "properties": {"provisioningState": "Succeeded", "resourceGuid": "g",
                           "addressSpace": {"addressPrefixes": prefixes or ["10.0.0.0/16"]},
                           "subnets": subnets}}


def subnet(name: str, prefix: str, **props) -> dict:
    return {"name": name, "id": f"x/subnets/{name}", "etag": "e",
            "properties": {"addressPrefix": prefix, "provisioningState": "Succeeded", **props}}


def test_location_display_name_matches_canonical_form():
    assert rec.differences({"location": "West Europe"}, {"location": "westeurope"}) == []
    assert rec.differences({"location": "North Europe"}, {"location": "westeurope"}) == ["location"]


def test_resource_ids_compare_case_insensitively():
    desired = {"properties": {"networkSecurityGroup": {"id": NSG_ID.replace("resourceGroups", "resourcegroups")}}}
    actual = {"properties": {"networkSecurityGroup": {"id": NSG_ID.upper()}}}
    assert rec.differences(desired, actual) == []


def test_fields_the_task_does_not_declare_are_ignored():
    actual = vnet([subnet("a", "10.0.0.0/24")])
    assert rec.differences({"location": "westeurope"}, actual) == []


def test_address_prefix_order_is_not_a_difference_but_a_missing_prefix_is():
    actual = vnet([], ["10.0.0.0/16", "10.1.0.0/16"])
    same = {"properties": {"addressSpace": {"addressPrefixes": ["10.1.0.0/16", "10.0.0.0/16"]}}}
    fewer = {"properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}}}
    assert rec.differences(same, actual) == []
    assert rec.differences(fewer, actual) == ["properties.addressSpace.addressPrefixes"]


def test_named_lists_match_by_name_not_position():
    actual = vnet([subnet("b", "10.0.1.0/24"), subnet("a", "10.0.0.0/24")])
    desired = {"properties": {"subnets": [{"name": "a", "properties": {"addressPrefix": "10.0.0.0/24"}},
                                          {"name": "B", "properties": {"addressPrefix": "10.0.1.0/24"}}]}}
    assert rec.differences(desired, actual) == []


def test_undeclared_subnet_is_kept_unless_the_list_is_purged():
    actual = vnet([subnet("a", "10.0.0.0/24"), subnet("manual", "10.0.9.0/24")])
    desired = {"properties": {"subnets": [{"name": "a", "properties": {"addressPrefix": "10.0.0.0/24"}}]}}
    assert rec.differences(desired, actual, partial_lists={"properties.subnets"}) == []
    assert rec.differences(desired, actual) == ["properties.subnets[manual]"]
    kept = rec.merge(actual, desired, partial_lists={"properties.subnets"})
    assert [s["name"] for s in kept["properties"]["subnets"]] == ["a", "manual"]
    purged = rec.merge(actual, desired)
    assert [s["name"] for s in purged["properties"]["subnets"]] == ["a"]


def test_service_endpoints_match_by_service_and_azure_added_fields_do_not_count():
    actual = vnet([subnet("a", "10.0.0.0/24", serviceEndpoints=[
        {"service": "Microsoft.KeyVault", "locations": ["*"], "provisioningState": "Succeeded"},
        {"service": "Microsoft.Storage", "locations": ["westeurope", "northeurope"]}])])
    desired = {"properties": {"subnets": [{"name": "a", "properties": {
        "addressPrefix": "10.0.0.0/24",
        "serviceEndpoints": [{"service": "Microsoft.Storage"}, {"service": "Microsoft.KeyVault"}]}}]}}
    assert rec.differences(desired, actual, partial_lists={"properties.subnets"}) == []
    desired["properties"]["subnets"][0]["properties"]["serviceEndpoints"] = [{"service": "Microsoft.Storage"}]
    # A declared nested list is exact: the extra endpoint must go.
    assert rec.differences(desired, actual, partial_lists={"properties.subnets"}) == [
        "properties.subnets[a].properties.serviceEndpoints[Microsoft.KeyVault]"]


def test_empty_declared_list_matches_absent_field_but_not_a_populated_one():
    actual = vnet([subnet("a", "10.0.0.0/24")])
    empty = {"properties": {"subnets": [{"name": "a", "properties": {"delegations": []}}]}}
    assert rec.differences(empty, actual) == []
    actual["properties"]["subnets"][0]["properties"]["delegations"] = [
        {"name": "d", "properties": {"serviceName": "Microsoft.DBforPostgreSQL/flexibleServers"}}]
    assert rec.differences(empty, actual) == ["properties.subnets[a].properties.delegations[d]"]


def test_tags_are_a_subset_and_values_compare_exactly():
    actual = {"tags": {"owner": "team", "added-by-policy": "x"}}
    assert rec.differences({"tags": {"owner": "team"}}, actual) == []
    assert rec.differences({"tags": {"owner": "Team"}}, actual) == ["tags.owner"]
    assert rec.differences({"tags": {"cost": "1"}}, actual) == ["tags.cost"]


def test_numbers_and_numeric_strings_are_equal_but_booleans_are_strict():
    assert rec.differences({"p": {"port": 443}}, {"p": {"port": "443"}}) == []
    assert rec.differences({"enabled": False}, {"enabled": 0}) == []
    assert rec.differences({"enabled": True}, {"enabled": False}) == ["enabled"]


def test_merge_keeps_azure_fields_and_strip_read_only_drops_computed_ones():
    actual = vnet([subnet("a", "10.0.0.0/24", ipConfigurations=[{"id": "nic"}])])
    desired = {"tags": {"t": "1"}, "properties": {"subnets": [{"name": "a", "properties": {
        "addressPrefix": "10.0.0.0/24", "serviceEndpoints": [{"service": "Microsoft.Storage"}]}}]}}
    body = rec.merge(rec.strip_read_only(actual), desired, partial_lists={"properties.subnets"})
    assert "etag" not in body and "provisioningState" not in body["properties"]
    only = body["properties"]["subnets"][0]
    assert only["properties"]["ipConfigurations"] == [{"id": "nic"}]
    assert only["properties"]["serviceEndpoints"] == [{"service": "Microsoft.Storage"}]
    assert body["tags"] == {"t": "1"}
    assert rec.differences(desired, body, partial_lists={"properties.subnets"}) == []


def test_diff_shows_only_what_differs():
    actual = {"location": "westeurope", "properties": {"securityRules": [
        {"name": "allow-https", "properties": {"priority": 100, "destinationPortRange": "8443", "access": "Allow"}},
        {"name": "deny-all", "properties": {"priority": 4096, "access": "Deny"}}]}}
    desired = {"location": "westeurope", "properties": {"securityRules": [
        {"name": "allow-https", "properties": {"priority": 100, "destinationPortRange": "443", "access": "Allow"}}]}}
    paths = rec.differences(desired, actual, partial_lists={"properties.securityRules"})
    assert paths == ["properties.securityRules[allow-https].properties.destinationPortRange"]
    diff = rec.diff_document(rec.merge(actual, desired, partial_lists={"properties.securityRules"}), actual, paths)
    assert diff == {
        "before": {"properties": {"securityRules": {"[allow-https]": {"properties": {"destinationPortRange": "8443"}}}}},
        "after": {"properties": {"securityRules": {"[allow-https]": {"properties": {"destinationPortRange": "443"}}}}},
    }


def test_diff_of_a_create_is_the_whole_desired_body():
    assert rec.diff_document({"location": "westeurope"}, None, ["(create)"]) == {
        "before": {}, "after": {"location": "westeurope"}}


def test_security_rule_singular_and_plural_fields_fold_as_azure_stores_them():
    one_in_list = {"name": "r", "properties": {"sourceAddressPrefixes": ["10.0.0.0/24"], "sourceAddressPrefix": None}}
    folded = canonical_security_rule(one_in_list)["properties"]
    assert folded["sourceAddressPrefix"] == "10.0.0.0/24"
    assert folded["sourceAddressPrefixes"] == []
    azure_form = {"name": "r", "properties": {"sourceAddressPrefix": "10.0.0.0/24", "sourceAddressPrefixes": []}}
    assert rec.differences(canonical_security_rule(one_in_list), canonical_security_rule(azure_form)) == []
    many = canonical_security_rule({"name": "r", "properties": {"sourceAddressPrefixes": ["b", "a"]}})
    assert "sourceAddressPrefix" not in many["properties"]
    assert rec.differences(many, {"name": "r", "properties": {"sourceAddressPrefixes": ["a", "b"]}}) == []


def test_compact_drops_unset_options():
    assert rec.compact({"a": None, "b": {"c": None, "d": 1}, "e": [{"f": None}]}) == {"b": {"d": 1}, "e": [{}]}


def test_diff_paths_with_dotted_names_resolve():
    actual = vnet([subnet("a", "10.0.0.0/24", serviceEndpoints=[{"service": "Microsoft.Storage", "locations": ["x"]}])])
    desired = {"properties": {"subnets": [{"name": "a", "properties": {"serviceEndpoints": []}}]}}
    paths = rec.differences(desired, actual)
    assert paths == ["properties.subnets[a].properties.serviceEndpoints[Microsoft.Storage]"]
    diff = rec.diff_document(rec.merge(actual, desired), actual, paths)
    entry = diff["before"]["properties"]["subnets"]["[a]"]["properties"]["serviceEndpoints"]["[Microsoft.Storage]"]
    assert entry == {"service": "Microsoft.Storage", "locations": ["x"]}
    assert diff["after"]["properties"]["subnets"]["[a]"]["properties"]["serviceEndpoints"] == {
        "[Microsoft.Storage]": None}


def test_exact_maps_report_and_remove_keys_only_azure_has():
    rules = rec.CompareRules.of(exact_maps=["tags"])
    assert rec.differences({"tags": {"a": "1"}}, {"tags": {"a": "1", "b": "2"}}, rules=rules) == ["tags.b"]
    assert rec.merge({"tags": {"a": "1", "b": "2"}, "x": 1}, {"tags": {"a": "1"}}, rules=rules) == {
        "tags": {"a": "1"}, "x": 1}
    # Without the rule a map is partial: an extra key is not a difference (purge_tags: false).
    assert rec.differences({"tags": {"a": "1"}}, {"tags": {"a": "1", "b": "2"}}) == []


def test_keyed_unordered_lists_match_by_their_key_not_position():
    rules = rec.CompareRules.of(list_keys={"properties.logs": ("categoryGroup", "category"),
                                           "properties.metrics": ("category",)})
    desired = {"properties": {"logs": [{"categoryGroup": "allLogs", "enabled": True}],
                              "metrics": [{"category": "AllMetrics", "enabled": True}]}}
    actual = {"properties": {"logs": [{"category": "Audit", "enabled": True},
                                      {"categoryGroup": "allLogs", "enabled": True}],
                             "metrics": [{"category": "AllMetrics", "enabled": False}]}}
    paths = rec.differences(desired, actual, rules=rules)
    assert paths == ["properties.logs[category=audit]", "properties.metrics[AllMetrics].enabled"]
    merged = rec.merge(actual, desired, rules=rules)
    assert merged["properties"]["logs"] == [{"categoryGroup": "allLogs", "enabled": True}]
    reordered = {"properties": {"logs": [{"categoryGroup": "allLogs", "enabled": True}],
                                "metrics": [{"category": "AllMetrics", "enabled": True}]}}
    assert rec.differences(desired, reordered, rules=rules) == []


def test_skipped_paths_are_never_compared_and_sets_ignore_order():
    rules = rec.CompareRules.of(skip=["properties.password"], sets=["properties.rights"])
    assert rec.differences({"properties": {"password": "new", "rights": ["Send", "Listen"]}},
                           {"properties": {"rights": ["Listen", "Send"]}}, rules=rules) == []
    assert rec.differences({"properties": {"rights": ["Send"]}},
                           {"properties": {"rights": ["Listen", "Send"]}}, rules=rules) == ["properties.rights"]


# --- a tag that names a resource ID (a web test's link to its Application Insights component) ---------------------
APPI = "/subscriptions/s/resourceGroups/g/providers/Microsoft.Insights/components/appi-cf-westeu-test-1"


def test_a_planned_hidden_link_tag_is_kept_compared_and_shown_under_its_whole_name() -> None:
    from ansible_collections.complianceflow.azure_infra.plugins.module_utils.resource_types import compare_rules

    rules = compare_rules("Microsoft.Insights/webtests")  # purge_tags: a tag only Azure has is removed
    link = f"hidden-link:{APPI}"
    planned = {"tags": {"env": "test", link: "Resource"}}
    assert rec.differences(planned, {"tags": {"env": "test", link: "Resource"}}, rules=rules) == []
    lost = rec.differences(planned, {"tags": {"env": "test"}}, rules=rules)
    assert lost == [f"tags[{link}]"]
    assert rec.diff_document(planned, {"tags": {"env": "test"}}, lost) == {
        "before": {"tags": {f"[{link}]": None}}, "after": {"tags": {f"[{link}]": "Resource"}}}
    other = f"hidden-link:{APPI}-old"
    assert rec.differences(planned, {"tags": {"env": "test", link: "Resource", other: "Resource"}}, rules=rules) == \
        [f"tags[{other}]"], "an unplanned link is purged like any tag"
    assert rec.merge({"tags": {"env": "test", other: "Resource"}}, planned, rules=rules)["tags"] == planned["tags"]
