"""Cost Management: Microsoft.CostManagement/scheduledActions, the shared scheduled actions of a scope (e-mailed cost
views, kind ``Email``, and anomaly alerts, kind ``InsightAlert``).

Written from Azure/azure-rest-api-specs (cost-management, stable 2023-11-01: ScheduledActions_CreateOrUpdateByScope,
GetByScope, ListByScope, DeleteByScope, and the example scheduledAction-insightAlert-createOrUpdate-shared) and the
Cost Management documentation of anomaly alerts.

Modelled, as Azure does it:
- ``displayName``, ``notification`` (``to``: 1-20 e-mail addresses, ``subject`` at most 70 characters, ``message`` at
  most 250), ``schedule`` (``frequency`` Daily, Weekly or Monthly, ``startDate`` before ``endDate``), ``status``
  (Enabled or Disabled; Expired is Azure's once ``endDate`` passed) and ``viewId`` are required.
- An anomaly alert (``InsightAlert``) exists only at a subscription's scope, runs daily, and watches the
  subscription's built-in anomaly view ``/subscriptions/<id>/providers/Microsoft.CostManagement/views/
  ms:DailyAnomalyByResourceGroup``.
- The response carries ``scope`` (the scope without its leading slash, as the example shows), an ``eTag`` that
  changes on every write, and an empty ``fileDestination``. PUT answers 201 on create, 200 on update; DELETE 200.

Known gaps: private scheduled actions (``/providers/Microsoft.CostManagement/scheduledActions`` without a scope),
``run`` (send now), checkNameAvailability, e-mail delivery, and anomaly detection itself.
"""

from __future__ import annotations

import re
from typing import Any

from ..framework import ArmError, Ctx, Lro, NameRule, OpStyle, ResourceType, Scope, WriteRequest

SCHEDULED_ACTIONS = "Microsoft.CostManagement/scheduledActions"
ANOMALY_VIEW = "ms:DailyAnomalyByResourceGroup"
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
DATE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?Z")


def _bad(message: str) -> ArmError:
    return ArmError(400, "BadRequest", message)


class ScheduledActions(ResourceType):
    type = SCHEDULED_ACTIONS
    scope = Scope.SUBSCRIPTION
    location = "none"
    tags = False
    name_rule = NameRule(1, 260, r"[A-Za-z0-9_-]+", "The name can contain only letters, digits, hyphens and underscores.")
    put = OpStyle(Lro.NONE, done=200, created_done=201)
    patch = None
    delete = OpStyle(Lro.NONE, done=200, missing=204)
    read_only_properties = ("scope",)

    def validate(self, ctx: Ctx, req: WriteRequest) -> None:
        kind = req.body.get("kind") or "Email"
        if kind not in ("Email", "InsightAlert"):
            raise _bad(f"The kind '{kind}' is not valid. Allowed values: Email, InsightAlert.")
        props = req.properties
        for field in ("displayName", "notification", "schedule", "status", "viewId"):
            if props.get(field) in (None, "", {}):
                raise _bad(f"'properties.{field}' is required.")
        notification = props["notification"]
        recipients = notification.get("to") or []
        if not 1 <= len(recipients) <= 20:
            raise _bad("'notification.to' needs 1 to 20 e-mail addresses.")
        for address in recipients:
            if not EMAIL.fullmatch(str(address)):
                raise _bad(f"'{address}' is not a valid e-mail address.")
        subject = str(notification.get("subject") or "")
        if not subject or len(subject) > 70:
            raise _bad("'notification.subject' is required and is limited to 70 characters.")
        if len(str(notification.get("message") or "")) > 250:
            raise _bad("'notification.message' is limited to 250 characters.")
        schedule = props["schedule"]
        if schedule.get("frequency") not in ("Daily", "Weekly", "Monthly"):
            raise _bad(f"The frequency '{schedule.get('frequency')}' is not valid. Allowed values: Daily, Weekly, "
                       "Monthly.")
        start, end = str(schedule.get("startDate") or ""), str(schedule.get("endDate") or "")
        if not DATE.fullmatch(start) or not DATE.fullmatch(end):
            raise _bad("'schedule.startDate' and 'schedule.endDate' are required UTC date-times.")
        if end <= start:
            raise _bad("'schedule.endDate' must be later than 'schedule.startDate'.")
        if props["status"] not in ("Enabled", "Disabled"):
            raise _bad(f"The status '{props['status']}' is not valid. Allowed values: Enabled, Disabled.")
        if kind == "InsightAlert":
            subscription = "/".join(req.id.split("/")[:3])
            if not re.fullmatch(r"/subscriptions/[^/]+", subscription) or \
                    req.id.lower() != f"{subscription}/providers/{SCHEDULED_ACTIONS}/{req.name}".lower():
                raise _bad("Anomaly alerts (InsightAlert) are only supported at a subscription's scope.")
            if schedule["frequency"] != "Daily":
                raise _bad("An anomaly alert (InsightAlert) runs daily: 'schedule.frequency' must be Daily.")
            expected = f"{subscription}/providers/Microsoft.CostManagement/views/{ANOMALY_VIEW}"
            if str(props["viewId"]).lower() != expected.lower():
                raise _bad(f"An anomaly alert (InsightAlert) watches the view '{expected}'.")

    def build(self, ctx: Ctx, req: WriteRequest) -> dict[str, Any]:
        body = super().build(ctx, req)
        body["kind"] = req.body.get("kind") or "Email"
        body["eTag"] = f'"{ctx.new_guid().replace("-", "")[:15]}"'
        props = body["properties"]
        props["scope"] = "/".join(req.id.strip("/").split("/")[:2])
        props.setdefault("fileDestination", {"fileFormats": []})
        return body


RESOURCE_TYPES: list[ResourceType] = [ScheduledActions()]
