#!/usr/bin/python
# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Ansible modules keep imports below DOCUMENTATION/EXAMPLES/RETURN by convention.
# ruff: noqa: E402

from __future__ import annotations

DOCUMENTATION = r"""
module: budget
short_description: Manage an Azure Consumption (cost) budget with its notifications
version_added: 0.1.0
description:
  - Ensures a cost budget at a subscription or resource group scope, with exactly the notifications given
    (a notification not listed is removed).
  - The start date is set when the budget is created (the first day of the current month unless O(start_date)
    says otherwise) and then left alone, so that a re-run next month changes nothing.
  - Updates send the budget's current C(eTag), as Azure's optimistic concurrency asks.
options:
  scope:
    description: Resource ID of the subscription or resource group the budget covers.
    type: str
    required: true
  name:
    description: Budget name (letters, digits, hyphens and underscores, at most 63).
    type: str
    required: true
  amount:
    description: Budget amount in the billing currency. Required for O(state=present).
    type: float
  time_grain:
    description: Period the amount applies to.
    type: str
    choices: [Monthly, Quarterly, Annually, BillingMonth, BillingQuarter, BillingAnnual]
    default: Monthly
  start_date:
    description:
      - First day of a month (C(YYYY-MM-DD)). Only compared when given; defaults to the current month on create.
    type: str
  end_date:
    description: Optional end date (C(YYYY-MM-DD)); Azure defaults to ten years after the start.
    type: str
  notifications:
    description: Notifications, by name.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Notification key.
        type: str
        required: true
      threshold:
        description: Percent of the amount (0-1000).
        type: float
        required: true
      operator:
        description: Comparison with the threshold.
        type: str
        choices: [EqualTo, GreaterThan, GreaterThanOrEqualTo]
        default: GreaterThanOrEqualTo
      threshold_type:
        description: Actual or forecasted cost.
        type: str
        choices: [Actual, Forecasted]
        default: Actual
      contact_emails:
        description: E-mail addresses notified.
        type: list
        elements: str
        default: []
      contact_roles:
        description: Roles on the scope notified (V(Owner), V(Contributor) ...).
        type: list
        elements: str
        default: []
      contact_groups:
        description: Resource IDs of action groups notified.
        type: list
        elements: str
        default: []
      enabled:
        description: Whether the notification is on.
        type: bool
        default: true
  state:
    description: Whether the budget should exist.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - complianceflow.azure_infra.azure_auth
attributes:
  check_mode:
    support: full
    description: Reports what would change and writes nothing.
  diff_mode:
    support: full
    description: Shows before/after of what differs.
author:
  - ComplianceFlow platform engineering (@complianceflow)
"""

EXAMPLES = r"""
- name: 200 a month for a test deployment, mails at 50, 80 and 100 percent
  complianceflow.azure_infra.budget:
    scope: "{{ deployment.resource_group_id }}"
    name: budget-cf-westeu-test-1
    amount: 200
    notifications: "{{ [50, 80, 100] | map('community.general.dict_kv', 'threshold') }}"
"""

RETURN = r"""
id:
  description: Resource ID of the budget.
  returned: always
  type: str
budget:
  description: The budget as Azure returns it (predicted in check mode); empty when absent.
  returned: always
  type: dict
"""

import copy
import datetime as dt
import re
from typing import Any

from ansible_collections.complianceflow.azure_infra.plugins.module_utils import reconcile as rec
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.azure_module import AzureModule

API_VERSION = "2023-05-01"
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def first_of_month(today: dt.date) -> str:
    return f"{today.year:04d}-{today.month:02d}-01T00:00:00Z"


def as_timestamp(value: str) -> str:
    return f"{value}T00:00:00Z" if DATE.match(value) else value


def number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


def budget_changes(desired: dict[str, Any], actual: dict[str, Any] | None) -> list[str]:
    """Paths that differ, including notifications Azure holds that the task does not list (a map, not a list,
    so the engine's partial compare would not see them)."""
    if actual is None:
        return ["(create)"]
    paths = rec.differences(desired, actual)
    wanted = {k.lower() for k in desired["properties"]["notifications"]}
    paths += [f"properties.notifications.{k}" for k in (actual.get("properties") or {}).get("notifications") or {}
              if k.lower() not in wanted]
    return paths


def main() -> None:
    az = AzureModule(
        argument_spec={
            "scope": {"type": "str", "required": True},
            "name": {"type": "str", "required": True},
            "amount": {"type": "float"},
            "time_grain": {"type": "str", "default": "Monthly",
                           "choices": ["Monthly", "Quarterly", "Annually", "BillingMonth", "BillingQuarter",
                                       "BillingAnnual"]},
            "start_date": {"type": "str"},
            "end_date": {"type": "str"},
            "notifications": {"type": "list", "elements": "dict", "default": [], "options": {
                "name": {"type": "str", "required": True},
                "threshold": {"type": "float", "required": True},
                "operator": {"type": "str", "default": "GreaterThanOrEqualTo",
                             "choices": ["EqualTo", "GreaterThan", "GreaterThanOrEqualTo"]},
                "threshold_type": {"type": "str", "default": "Actual", "choices": ["Actual", "Forecasted"]},
                "contact_emails": {"type": "list", "elements": "str", "default": []},
                "contact_roles": {"type": "list", "elements": "str", "default": []},
                "contact_groups": {"type": "list", "elements": "str", "default": []},
                "enabled": {"type": "bool", "default": True},
            }},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
        },
        required_if=[("state", "present", ("amount",))],
    )
    params = az.params
    budget_id = f"{params['scope'].rstrip('/')}/providers/Microsoft.Consumption/budgets/{params['name']}"
    if params["state"] == "absent":
        az.ensure_absent(budget_id, API_VERSION, label="budget")
        az.exit(id=budget_id, budget={})
    for option in ("start_date", "end_date"):
        if params[option] and not DATE.match(params[option]):
            az.module.fail_json(msg=f"{option} must be a date like 2026-11-01, got {params[option]!r} ({budget_id})")
    if params["start_date"] and not params["start_date"].endswith("-01"):
        az.module.fail_json(msg=f"start_date must be the first day of a month ({budget_id})")
    for item in params["notifications"]:
        if not (item["contact_emails"] or item["contact_roles"] or item["contact_groups"]):
            az.module.fail_json(msg=f"notification {item['name']} needs a contact e-mail, role or group ({budget_id})")
    actual = az.call(az.client.get, budget_id, API_VERSION)
    time_period: dict[str, Any] = {}
    if params["start_date"] or actual is None:
        time_period["startDate"] = as_timestamp(params["start_date"] or first_of_month(dt.datetime.now(dt.UTC).date()))
    if params["end_date"]:
        time_period["endDate"] = as_timestamp(params["end_date"])
    properties: dict[str, Any] = {
        "category": "Cost", "amount": number(params["amount"]), "timeGrain": params["time_grain"],
        "notifications": {item["name"]: {
            "enabled": item["enabled"], "operator": item["operator"], "threshold": number(item["threshold"]),
            "thresholdType": item["threshold_type"], "contactEmails": item["contact_emails"],
            "contactRoles": item["contact_roles"], "contactGroups": item["contact_groups"],
        } for item in params["notifications"]},
    }
    if time_period:
        properties["timePeriod"] = time_period
    desired = {"properties": properties}
    paths = budget_changes(desired, actual)
    if not paths:
        az.exit(id=actual.get("id", budget_id), budget=actual)
    if actual is None:
        result = az.reconcile(budget_id, API_VERSION, desired, label="budget", actual=None, fetch=False)
        az.exit(id=result["id"], budget=result["resource"])
    # An update replaces the notification map wholesale and carries the eTag read above. The engine's reconcile
    # merges maps key by key (it would keep a dropped notification), so this write is done here.
    body = rec.strip_read_only(copy.deepcopy(actual))
    body.setdefault("properties", {}).update(copy.deepcopy(properties))
    for read_only in ("currentSpend", "forecastSpend"):
        body["properties"].pop(read_only, None)
    az.changed = True
    az._record_diff("budget", rec.diff_document(body, actual, paths))
    if az.check_mode:
        az.exit(id=actual.get("id", budget_id), budget=body)
    resource = az.call(az.client.write, "PUT", budget_id, API_VERSION, body, az.params["timeout"])
    az.exit(id=resource.get("id", budget_id), budget=resource)


if __name__ == "__main__":
    main()
