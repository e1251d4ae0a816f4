"""Budgets through azure-mgmt-consumption at subscription and resource-group scope: CRUD, eTag concurrency,
Azure's validation rules, and Microsoft's example."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from tests.test_emulator.examples import assert_shape, load_example, rewrite

pytestmark = pytest.mark.emulator


@pytest.fixture(scope="module")
def consumption(emulator: Any) -> Any:
    from azure.mgmt.consumption import ConsumptionManagementClient

    return emulator.mgmt_client(ConsumptionManagementClient)


def _budget(amount: float = 500, **props: Any) -> dict[str, Any]:
    body = {"amount": amount, "category": "Cost", "timeGrain": "Monthly",
            "timePeriod": {"startDate": "2026-11-01T00:00:00Z"},
            "notifications": {"actual-80": {"enabled": True, "operator": "GreaterThan", "threshold": 80,
                                            "contactEmails": ["finops@example.com"]}}}
    body.update(props)
    return {"properties": body}


def _error(call: Callable[[], Any]) -> tuple[int, str]:
    with pytest.raises(HttpResponseError) as excinfo:
        call()
    return excinfo.value.status_code, excinfo.value.error.code


def test_budget_lifecycle_at_both_scopes(emulator: Any, consumption: Any, rg: str,
                                         unique: Callable[[str], str]) -> None:
    sub_scope = f"/subscriptions/{emulator.env['AZURE_SUBSCRIPTION_ID']}"
    for scope in (sub_scope, f"{sub_scope}/resourceGroups/{rg}"):
        name = unique("budget-")
        created = consumption.budgets.create_or_update(scope, name, _budget())
        assert created.amount == 500
        assert created.current_spend.amount == 0 and created.current_spend.unit == "USD"
        assert created.time_period.end_date.year == 2036, "the end date defaults to ten years after the start"
        assert created.notifications["actual-80"].threshold_type == "Actual"
        assert created.e_tag
        assert consumption.budgets.get(scope, name).amount == 500
        assert name in [b.name for b in consumption.budgets.list(scope)]
        updated = consumption.budgets.create_or_update(scope, name, {**_budget(750), "eTag": created.e_tag})
        assert updated.amount == 750 and updated.e_tag != created.e_tag
        consumption.budgets.delete(scope, name)
        with pytest.raises(ResourceNotFoundError):
            consumption.budgets.get(scope, name)
        with pytest.raises(ResourceNotFoundError):
            consumption.budgets.delete(scope, name)


def test_create_is_201_and_update_200(emulator: Any, rg: str, unique: Callable[[str], str]) -> None:
    path = (f"/subscriptions/{emulator.env['AZURE_SUBSCRIPTION_ID']}/resourceGroups/{rg}/providers/"
            f"Microsoft.Consumption/budgets/{unique('budget-codes-')}?api-version=2024-08-01")
    assert emulator.arm().call("PUT", path, _budget())[0] == 201
    assert emulator.arm().call("PUT", path, _budget())[0] == 200


def test_stale_etag_is_refused(emulator: Any, consumption: Any, unique: Callable[[str], str]) -> None:
    scope = f"/subscriptions/{emulator.env['AZURE_SUBSCRIPTION_ID']}"
    name = unique("budget-etag-")
    first = consumption.budgets.create_or_update(scope, name, _budget())
    consumption.budgets.create_or_update(scope, name, _budget(600))
    assert _error(lambda: consumption.budgets.create_or_update(scope, name, {**_budget(700),
                                                                              "eTag": first.e_tag}))[0] == 412
    assert consumption.budgets.get(scope, name).amount == 600


def test_budget_rules(emulator: Any, consumption: Any, rg: str, unique: Callable[[str], str]) -> None:
    scope = f"/subscriptions/{emulator.env['AZURE_SUBSCRIPTION_ID']}/resourceGroups/{rg}"
    notification = {"enabled": True, "operator": "GreaterThan", "threshold": 80, "contactEmails": ["a@example.com"]}
    refusals = [
        _budget(0), _budget(-5),
        _budget(category="Money"),
        _budget(timeGrain="Weekly"),
        _budget(timePeriod={"startDate": "2026-11-15T00:00:00Z"}),
        _budget(timePeriod={"startDate": "2026-11-01T00:00:00Z", "endDate": "2026-10-01T00:00:00Z"}),
        _budget(timePeriod={}),
        _budget(notifications={"n": {**notification, "threshold": 0}}),
        _budget(notifications={"n": {**notification, "threshold": 1001}}),
        _budget(notifications={"n": {**notification, "operator": "LessThan"}}),
        _budget(notifications={"n": {**notification, "contactEmails": []}}),
        _budget(notifications={"n": {**notification, "contactEmails": ["nobody"]}}),
        _budget(notifications={f"n{i}": notification for i in range(6)}),
    ]
    for body in refusals:
        assert _error(lambda b=body: consumption.budgets.create_or_update(scope, unique("budget-bad-"), b)) == (
            400, "BadRequest"), body
    assert _error(lambda: consumption.budgets.create_or_update(scope, "bad name!", _budget()))[0] == 400
    from azure.mgmt.monitor import MonitorManagementClient

    group = emulator.mgmt_client(MonitorManagementClient).action_groups.create_or_update(
        rg, unique("ag-scope-"), {"location": "Global", "group_short_name": "ops", "enabled": True})
    assert _error(lambda: consumption.budgets.create_or_update(group.id, "b", _budget())) == (400, "BadRequest"), \
        "budgets live at subscription or resource-group scope, not on a resource"


def test_microsoft_budget_example(emulator: Any, rg: str, unique: Callable[[str], str]) -> None:
    from azure.mgmt.monitor import MonitorManagementClient

    data = load_example("Microsoft.Consumption/2024-08-01/CreateOrUpdateBudget.json")
    sub = emulator.env["AZURE_SUBSCRIPTION_ID"]
    group = emulator.mgmt_client(MonitorManagementClient).action_groups.create_or_update(
        rg, "SampleActionGroup", {"location": "Global", "group_short_name": "sample", "enabled": True})
    request = rewrite(data["parameters"]["parameters"], {
        "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/MYDEVTESTRG/providers/microsoft.insights/"
        "actionGroups/SampleActionGroup": group.id,
        "00000000-0000-0000-0000-000000000000": sub})
    path = f"/subscriptions/{sub}/providers/Microsoft.Consumption/budgets/{unique('TestBudget')}?api-version=2024-08-01"
    status, body, _ = emulator.arm().call("PUT", path, request)
    assert str(status) in data["responses"]
    assert_shape(body, data["responses"]["201"]["body"], request, also=frozenset({"currentSpend", "eTag"}))
    assert body["properties"]["timePeriod"] == {"startDate": "2017-10-01T00:00:00Z",
                                                "endDate": "2018-10-31T00:00:00Z"}


def test_spend_is_read_only_and_answered(emulator: Any, unique: Callable[[str], str]) -> None:
    """currentSpend and forecastSpend are read-only in the Budgets definition: a PUT carrying them (as a GET answer
    written back does) is taken and they are ignored; every answer reports them, 0 in USD (the example's unit) in an
    emulator where nothing costs anything."""
    arm = emulator.arm()
    path = (f"/subscriptions/{emulator.env['AZURE_SUBSCRIPTION_ID']}/providers/Microsoft.Consumption/budgets/"
            f"{unique('budget-spend-')}?api-version=2023-05-01")
    body = _budget()
    body["properties"].update(currentSpend={"amount": 80.89, "unit": "EUR"},
                              forecastSpend={"amount": 150.0, "unit": "EUR"})
    status, created, _ = arm.call("PUT", path, body)
    assert status == 201, created
    zero = {"amount": 0.0, "unit": "USD"}
    for answer in (created, arm.call("GET", path)[1], arm.call("PUT", path, {**created, "eTag": created["eTag"]})[1]):
        assert answer["properties"]["currentSpend"] == zero and answer["properties"]["forecastSpend"] == zero, answer
