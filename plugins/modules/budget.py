#!/usr/bin/python
# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

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
      - First day of a month (C(YYYY-MM-DD)), sent when the budget is created (default the current month); an
        existing budget keeps its start date.
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
extends_documentation_fragment:
  - complianceflow.azure_infra.azure_auth
  - complianceflow.azure_infra.state
  - complianceflow.azure_infra.attributes
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

import datetime as dt
import re
from typing import Any

from ansible_collections.complianceflow.azure_infra.plugins.module_utils import args_common
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.azure_module import AzureModule

TYPE = "Microsoft.Consumption/budgets"
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def first_of_month(today: dt.date) -> str:
    return f"{today.year:04d}-{today.month:02d}-01T00:00:00Z"


def as_timestamp(value: str) -> str:
    return f"{value}T00:00:00Z" if DATE.match(value) else value


def number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


def main() -> None:
    az = AzureModule(args_common.argument_spec(
        args_common.STATE,
        scope={"type": "str", "required": True},
        name={"type": "str", "required": True},
        amount={"type": "float"},
        time_grain={"type": "str", "default": "Monthly",
                    "choices": ["Monthly", "Quarterly", "Annually", "BillingMonth", "BillingQuarter", "BillingAnnual"]},
        start_date={"type": "str"},
        end_date={"type": "str"},
        notifications={"type": "list", "elements": "dict", "default": [], "options": {
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
    ), required_if=[("state", "present", ("amount",))])
    params = az.params
    budget_id = f"{params['scope'].rstrip('/')}/providers/{TYPE}/{params['name']}"
    if params["state"] == "present":
        for option in ("start_date", "end_date"):
            if params[option] and not DATE.match(params[option]):
                az.module.fail_json(msg=f"{option} must be a date like 2026-11-01, got {params[option]!r} ({budget_id})")
        if params["start_date"] and not params["start_date"].endswith("-01"):
            az.module.fail_json(msg=f"start_date must be the first day of a month ({budget_id})")
        for item in params["notifications"]:
            if not (item["contact_emails"] or item["contact_roles"] or item["contact_groups"]):
                az.module.fail_json(msg=f"notification {item['name']} needs a contact e-mail, role or group ({budget_id})")

    def desired() -> dict[str, Any]:
        # The notification map is compared exactly (registry): a notification not listed is removed. The start
        # date is initial-only: sent on create, then left alone so a re-run next month changes nothing.
        time_period = {"startDate": as_timestamp(params["start_date"] or first_of_month(dt.datetime.now(dt.UTC).date()))}
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
        return {"properties": {**properties, "timePeriod": time_period}}

    # Updates send the budget's eTag with the rest of what Azure returned (a PUT of the merged body).
    result = az.ensure(budget_id, TYPE, desired() if params["state"] == "present" else {}, label="budget")
    az.exit(id=result["id"], budget=result["resource"])


if __name__ == "__main__":
    main()
