"""Microsoft.Consumption budgets at subscription and resource-group scope.

Written from the Consumption REST spec (Azure/azure-rest-api-specs, consumption 2024-08-01, Budgets_* operations
and the CreateOrUpdateBudget example) and the Cost Management budgets documentation. Modelled, as Azure does it:

- A budget lives at ``{scope}/providers/Microsoft.Consumption/budgets/{name}``; this emulator serves the
  subscription and resource-group scopes (billing accounts and management groups are not emulated).
- PUT answers 201 on create, 200 on update; DELETE answers 200 (404 when absent). The body carries an ``eTag``
  (optimistic concurrency: a PUT on an existing budget with a stale ``eTag`` is refused with 412).
- Rules: positive ``amount``; ``category`` Cost (or the legacy Usage); ``timeGrain`` Monthly, Quarterly,
  Annually or the Billing* grains; ``timePeriod.startDate`` on the first day of a month and before ``endDate``
  (which defaults to ten years later); at most 5 notifications, each with a threshold in (0, 1000], an operator,
  and at least one contact (emails, roles or action groups, which must exist when they are emulated).
- Read-only fields: ``currentSpend`` and ``forecastSpend`` (``{amount, unit}``), answered on every GET and PUT in
  USD (the unit Microsoft's Budget examples show; the emulator's subscriptions have no billing currency), zero in
  an emulator without costs. Sent in a PUT they are ignored, as Azure ignores read-only properties: a GET answer
  written back is taken.

Known gaps: costs are never accrued, so notifications never fire; filters are stored but not evaluated.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from ..framework import ArmError, Ctx, Lro, NameRule, OpStyle, Resource, ResourceType, Scope, WriteRequest

BUDGETS = "Microsoft.Consumption/budgets"
TIME_GRAINS = ("Monthly", "Quarterly", "Annually", "BillingMonth", "BillingQuarter", "BillingAnnual")
OPERATORS = ("EqualTo", "GreaterThan", "GreaterThanOrEqualTo")
MAX_NOTIFICATIONS = 5


def _bad(message: str) -> ArmError:
    return ArmError(400, "BadRequest", message)


def _parse_date(value: Any, field: str) -> dt.datetime:
    try:
        parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise _bad(f"The {field} '{value}' is not a valid date.") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _format(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Budgets(ResourceType):
    type = BUDGETS
    scope = Scope.EXTENSION
    name_rule = NameRule(1, 63, r"[A-Za-z0-9_-]+", "Budget names use letters, digits, hyphens and underscores (1-63 "
                         "characters).", code="BadRequest")
    location = "none"
    tags = False
    system_data = False
    # Budgets_CreateOrUpdate 200/201; Budgets_Delete 200 only (404 when absent).
    put = OpStyle(Lro.NONE, done=200, created_done=201)
    patch = None
    delete = OpStyle(Lro.NONE, done=200, missing=404)
    not_found_code = "NotFound"

    def validate(self, ctx: Ctx, req: WriteRequest) -> None:
        if not re.fullmatch(r"(?i)/subscriptions/[^/]+(/resourceGroups/[^/]+)?", req.scope):
            raise _bad(f"Budgets are supported at subscription and resource group scope in this emulator, not at "
                       f"'{req.scope}'.")
        if req.existing is not None:
            sent = req.body.get("eTag")
            current = req.existing.body.get("eTag")
            if sent and current and sent != current:
                raise ArmError(412, "PreconditionFailed", f"The eTag {sent} does not match the current eTag of budget "
                               f"'{req.name}' ({current}). Read the budget again and retry.")
        props = req.properties
        amount = props.get("amount")
        if isinstance(amount, bool) or not isinstance(amount, (int, float)) or amount <= 0:
            raise _bad(f"The budget amount '{amount}' is not valid: it must be a number greater than 0.")
        if props.get("category") not in ("Cost", "Usage"):
            raise _bad(f"The budget category '{props.get('category')}' is not valid. Allowed values: Cost.")
        if props.get("timeGrain") not in TIME_GRAINS:
            raise _bad(f"The time grain '{props.get('timeGrain')}' is not valid. Allowed values: "
                       f"{', '.join(TIME_GRAINS)}.")
        period = props.get("timePeriod") or {}
        if not period.get("startDate"):
            raise _bad("The timePeriod.startDate of the budget is required.")
        start = _parse_date(period["startDate"], "startDate")
        if start.day != 1:
            raise _bad(f"The start date {period['startDate']} must be the first day of a month.")
        if period.get("endDate") and _parse_date(period["endDate"], "endDate") <= start:
            raise _bad("The end date of the budget must be after its start date.")
        notifications = props.get("notifications") or {}
        if len(notifications) > MAX_NOTIFICATIONS:
            raise _bad(f"A budget can have at most {MAX_NOTIFICATIONS} notifications.")
        for key, notification in notifications.items():
            self._check_notification(ctx, key, notification)

    @staticmethod
    def _check_notification(ctx: Ctx, key: str, notification: dict[str, Any]) -> None:
        if not isinstance(notification.get("enabled"), bool):
            raise _bad(f"Notification '{key}' needs 'enabled'.")
        if notification.get("operator") not in OPERATORS:
            raise _bad(f"The operator '{notification.get('operator')}' of notification '{key}' is not valid. Allowed "
                       f"values: {', '.join(OPERATORS)}.")
        threshold = notification.get("threshold")
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 < threshold <= 1000:
            raise _bad(f"The threshold '{threshold}' of notification '{key}' must be greater than 0 and at most 1000.")
        if notification.get("thresholdType", "Actual") not in ("Actual", "Forecasted"):
            raise _bad(f"The thresholdType of notification '{key}' must be Actual or Forecasted.")
        emails = notification.get("contactEmails") or []
        roles = notification.get("contactRoles") or []
        groups = notification.get("contactGroups") or []
        if not (emails or roles or groups):
            raise _bad(f"Notification '{key}' needs at least one contact email, contact role or contact group.")
        for email in emails:
            if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", str(email)):
                raise _bad(f"The contact email '{email}' of notification '{key}' is not valid.")
        for group in groups:
            if ctx.type_of("Microsoft.Insights/actionGroups") is not None and ctx.get(str(group)) is None \
                    and str(group).lower().startswith(f"/subscriptions/{(ctx.subscription_id or '').lower()}/"):
                raise _bad(f"The action group '{group}' of notification '{key}' does not exist.")

    def build(self, ctx: Ctx, req: WriteRequest) -> dict[str, Any]:
        body = super().build(ctx, req)
        props = body["properties"]
        period = props["timePeriod"]
        start = _parse_date(period["startDate"], "startDate")
        period["startDate"] = _format(start)
        end = _parse_date(period["endDate"], "endDate") if period.get("endDate") else start.replace(
            year=start.year + 10)
        period["endDate"] = _format(end)
        for notification in (props.get("notifications") or {}).values():
            notification.setdefault("thresholdType", "Actual")
            notification.setdefault("contactRoles", [])
            notification.setdefault("contactGroups", [])
            notification.setdefault("locale", "en-us")
        props["currentSpend"] = {"amount": 0.0, "unit": "USD"}
        props["forecastSpend"] = {"amount": 0.0, "unit": "USD"}
        props.pop("provisioningState", None)
        # The budget's optimistic-concurrency token, in the field name (eTag) the Consumption API uses.
        body["eTag"] = f'"{ctx.rng.getrandbits(60):x}"'
        return body

    def render(self, ctx: Ctx, resource: Resource) -> dict[str, Any]:
        out = super().render(ctx, resource)
        (out.get("properties") or {}).pop("provisioningState", None)
        return out


RESOURCE_TYPES: list[ResourceType] = [Budgets()]
