"""The pure parts of the module skeleton: the registry's compare rules per task (purge_tags), what is fixed at
creation, and write-only values masked."""

from __future__ import annotations

from ansible_collections.complianceflow.azure_infra.plugins.module_utils import reconcile as rec
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.azure_module import (
    WRITE_ONLY_MASK,
    compare_rules,
    fixed_at_creation,
)
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.resource_types import resource_type

ACTUAL = {"location": "westeurope", "tags": {"owner": "platform", "added_by": "portal"},
          "properties": {"redisConfiguration": {"maxmemory-policy": "allkeys-lru"}}, "zones": ["1"]}


def test_tags_not_declared_are_a_difference_only_with_purge_tags() -> None:
    desired = {"tags": {"owner": "platform"}}
    purge = compare_rules("Microsoft.Cache/redis")
    keep = compare_rules("Microsoft.Cache/redis", purge_tags=False)
    assert rec.differences(desired, ACTUAL, rules=purge) == ["tags.added_by"]
    assert rec.differences(desired, ACTUAL, rules=keep) == []
    assert rec.merge(ACTUAL, desired, rules=purge)["tags"] == {"owner": "platform"}
    assert rec.merge(ACTUAL, desired, rules=keep)["tags"] == {"owner": "platform", "added_by": "portal"}
    # Tags omitted: not managed, whatever purge_tags says.
    assert rec.differences({"location": "West Europe"}, ACTUAL, rules=purge) == []


def test_write_only_paths_are_never_compared() -> None:
    desired = {"properties": {"redisConfiguration": {"rdb-storage-connection-string": "AccountKey=k"}}}
    assert rec.differences(desired, ACTUAL, rules=compare_rules("Microsoft.Cache/redis")) == []


def test_create_only_paths_and_location_are_named_when_they_differ() -> None:
    redis = resource_type("Microsoft.Cache/redis")
    assert fixed_at_creation({"zones": ["1"], "location": "West Europe"}, ACTUAL, redis) == []
    assert fixed_at_creation({"zones": ["1", "2"]}, ACTUAL, redis) == [
        "zones is fixed at creation (Azure has ['1'], the task asks for ['1', '2'])"]
    assert fixed_at_creation({"location": "northeurope"}, ACTUAL, redis)[0].startswith("location is fixed")


def test_update_bodies_leave_out_what_is_fixed_or_initial() -> None:
    body = {"location": "westeurope", "zones": ["1"], "properties": {"timePeriod": {"startDate": "x", "endDate": "y"}}}
    assert rec.without_paths(body, ("location", "zones", "properties.timePeriod.startDate")) == {
        "properties": {"timePeriod": {"endDate": "y"}}}
    assert body["zones"] == ["1"], "the input is not changed"


def test_masked_replaces_present_values_only() -> None:
    doc = {"properties": {"administratorLoginPassword": "s3cr3t", "version": "16"}}
    out = rec.masked(doc, ("properties.administratorLoginPassword", "properties.missing.value"))
    assert out == {"properties": {"administratorLoginPassword": WRITE_ONLY_MASK, "version": "16"}}
    assert doc["properties"]["administratorLoginPassword"] == "s3cr3t"
