"""Cost Management anomaly alerts (scheduledActions of kind InsightAlert) at a subscription's scope: create, read,
update, delete, and the rules Azure's API definition and documentation give."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

pytestmark = pytest.mark.emulator
API = "2023-11-01"


def _alert(subscription: str, **props: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "InsightAlert",
        "properties": {
            "displayName": "Cost anomaly (westeu-test-1)",
            "notification": {"to": ["finops@example.com", "platform@example.com"],
                             "subject": "Cost anomaly in the subscription of westeu-test-1"},
            "schedule": {"frequency": "Daily", "startDate": "2026-12-01T00:00:00Z", "endDate": "2036-12-01T00:00:00Z"},
            "status": "Enabled",
            "viewId": f"{subscription}/providers/Microsoft.CostManagement/views/ms:DailyAnomalyByResourceGroup"}}
    for path, value in props.items():
        target = body["properties"]
        *parents, leaf = path.split(".")
        for part in parents:
            target = target[part]
        target[leaf] = value
    return body


def test_anomaly_alert_lifecycle_and_rules(emulator: Any, unique: Callable[[str], str]) -> None:
    arm = emulator.arm()
    subscription = f"/subscriptions/{emulator.env['AZURE_SUBSCRIPTION_ID']}"
    alert_id = f"{subscription}/providers/Microsoft.CostManagement/scheduledActions/{unique('anomaly-')}"

    def put(body: dict[str, Any], rid: str = alert_id) -> tuple[int, Any]:
        status, answer, _ = arm.call("PUT", f"{rid}?api-version={API}", body)
        return status, answer

    status, created = put(_alert(subscription))
    assert status == 201, created
    assert created["kind"] == "InsightAlert" and created["eTag"]
    assert created["properties"]["scope"] == subscription.strip("/")
    assert created["properties"]["notification"]["to"] == ["finops@example.com", "platform@example.com"]
    status, updated = put(_alert(subscription, **{"notification.to": ["finops@example.com"]}))
    assert status == 200 and updated["properties"]["notification"]["to"] == ["finops@example.com"]
    assert updated["eTag"] != created["eTag"], "every write changes the eTag"
    status, read, _ = arm.call("GET", f"{alert_id}?api-version={API}")
    assert status == 200 and read["properties"]["status"] == "Enabled"

    group = f"{subscription}/resourceGroups/{unique('rg-anomaly-')}"
    refused = {
        "no recipient": (_alert(subscription, **{"notification.to": []}), alert_id),
        "21 recipients": (_alert(subscription, **{"notification.to": [f"u{i}@example.com" for i in range(21)]}),
                          alert_id),
        "not an address": (_alert(subscription, **{"notification.to": ["finops"]}), alert_id),
        "subject over 70": (_alert(subscription, **{"notification.subject": "x" * 71}), alert_id),
        "weekly anomaly alert": (_alert(subscription, **{"schedule.frequency": "Weekly"}), alert_id),
        "end before start": (_alert(subscription, **{"schedule.endDate": "2025-01-01T00:00:00Z"}), alert_id),
        "another view": (_alert(subscription, viewId=f"{subscription}/providers/Microsoft.CostManagement/views/"
                                                     "ms:CostByService"), alert_id),
        "status": (_alert(subscription, status="Expired"), alert_id),
        "resource group scope": (_alert(subscription), f"{group}/providers/Microsoft.CostManagement/"
                                                      "scheduledActions/anomaly-rg"),
    }
    arm.call("PUT", f"{group}?api-version=2024-03-01", {"location": "westeurope"})
    for label, (body, rid) in refused.items():
        status, answer = put(body, rid if rid != alert_id else alert_id + "-x")
        assert status == 400, (label, answer)
    no_kind = copy.deepcopy(_alert(subscription))
    no_kind["kind"] = "Budget"
    assert put(no_kind, alert_id + "-y")[0] == 400

    status, _body, _ = arm.call("DELETE", f"{alert_id}?api-version={API}")
    assert status == 200
    assert arm.call("GET", f"{alert_id}?api-version={API}")[0] == 404


def test_microsofts_example_body_is_accepted_at_a_subscription(emulator: Any, unique: Callable[[str], str]) -> None:
    """The insight alert example of the REST specification, with a view of the subscription's own (an anomaly
    alert watches ms:DailyAnomalyByResourceGroup)."""
    subscription = f"/subscriptions/{emulator.env['AZURE_SUBSCRIPTION_ID']}"
    example = {"kind": "InsightAlert", "properties": {
        "displayName": "Daily anomaly by resource",
        "notification": {"to": ["user@gmail.com", "team@gmail.com"], "subject": "Cost anomaly detected in the resource"},
        "schedule": {"frequency": "Daily", "startDate": "2020-06-19T22:21:51.1287144Z",
                     "endDate": "2021-06-19T22:21:51.1287144Z"},
        "status": "Enabled",
        "viewId": f"{subscription}/providers/Microsoft.CostManagement/views/ms:DailyAnomalyByResourceGroup"}}
    rid = f"{subscription}/providers/Microsoft.CostManagement/scheduledActions/{unique('dailyAnomalyByResource')}"
    status, answer, _ = emulator.arm().call("PUT", f"{rid}?api-version={API}", example)
    assert status == 201, json.dumps(answer)
    assert answer["properties"]["fileDestination"] == {"fileFormats": []}
