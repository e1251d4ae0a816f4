"""validate.yml's conclusions (plugins/module_utils/platform_checks.py): what passes, what fails and why."""

from __future__ import annotations

from ansible_collections.complianceflow.azure_infra.plugins.module_utils.platform_checks import (
    connection_string_check,
    hub_check,
    parse_connection_string,
    secret_state,
    summary,
)

NOW = 1_800_000_000.0
GOOD = ("Endpoint=sb://evhns-cf-westeu-test-1-abcd.servicebus.windows.net/;SharedAccessKeyName=send;"
        "SharedAccessKey=c2VjcmV0;EntityPath=user-events")


def test_secret_missing_disabled_expired_or_fine() -> None:
    assert secret_state("a", None, NOW)["reason"] == "missing from the vault"
    assert secret_state("a", {"attributes": {"enabled": False}}, NOW)["status"] == "fail"
    expired = secret_state("a", {"attributes": {"enabled": True, "exp": NOW - 1}}, NOW)
    assert expired["status"] == "fail" and expired["reason"].startswith("expired at 2027-01-15")
    assert secret_state("a", {"attributes": {"enabled": True, "exp": NOW + 31 * 86400}}, NOW)["status"] == "pass"
    assert secret_state("a", {"attributes": {"enabled": True}}, NOW)["reason"] == "enabled, no expiry set"


def test_a_secret_within_30_days_of_its_expiry_warns_without_failing_the_run() -> None:
    near = secret_state("a", {"attributes": {"enabled": True, "exp": NOW + 10 * 86400 + 60}}, NOW)
    assert near["status"] == "warn" and "in 10 days" in near["reason"] and "secret-near-expiry.md" in near["reason"]
    result = summary([near])
    assert result["counts"]["warn"] == 1 and result["failures"] == []
    assert result["report"][0].startswith("WARN keyvault: ")


def test_connection_string_must_point_at_the_namespace_hub_and_rule() -> None:
    host = "evhns-cf-westeu-test-1-abcd.servicebus.windows.net"
    assert connection_string_check("user", "user-events", "send", "s", GOOD, host, "send")["status"] == "pass"
    other_hub = connection_string_check("user", "case-events", "send", "s", GOOD, host, "send")
    assert other_hub["status"] == "fail" and "EntityPath is 'user-events'" in other_hub["reason"]
    wrong_rule = connection_string_check("user", "user-events", "listen", "s", GOOD, host, "listen")
    assert wrong_rule["status"] == "fail" and "SharedAccessKeyName" in wrong_rule["reason"]
    elsewhere = connection_string_check("user", "user-events", "send", "s", GOOD, "evhns-other.servicebus.windows.net",
                                        "send")
    assert elsewhere["status"] == "fail" and "not the namespace's" in elsewhere["reason"]
    garbage = connection_string_check("user", "user-events", "send", "s", "not a connection string", host, "send")
    assert garbage["status"] == "fail" and garbage["reason"].startswith("does not parse")
    assert "c2VjcmV0" not in " ".join(c["reason"] for c in (other_hub, wrong_rule, elsewhere, garbage))


def test_parse_refuses_what_is_not_an_event_hubs_connection_string() -> None:
    assert parse_connection_string(GOOD)["EntityPath"] == "user-events"
    for bad in ("Endpoint=https://x/;SharedAccessKeyName=a;SharedAccessKey=b", "Endpoint=sb://x/;SharedAccessKey=b"):
        try:
            parse_connection_string(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad} parsed")


def test_hub_partitions_and_summary() -> None:
    checks = [hub_check("a", 4, {"properties": {"partitionCount": 4}}), hub_check("b", 4, None),
              hub_check("c", 4, {"properties": {"partitionCount": 2}})]
    assert [c["status"] for c in checks] == ["pass", "fail", "fail"]
    assert checks[2]["reason"] == "2 partitions, planned 4"
    result = summary(checks)
    assert result["counts"] == {"pass": 1, "warn": 0, "fail": 2, "skip": 0}
    assert [c["target"] for c in result["failures"]] == ["b", "c"]
    assert result["report"][1] == "FAIL eventhubs: hub exists with its partition count: b: the hub does not exist"
