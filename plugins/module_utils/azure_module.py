# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The module base every Azure module uses: auth options merged in, one ARM client, desired-state reconcile.

A module builds a desired ARM body from its options and calls :meth:`AzureModule.reconcile` (or
:meth:`AzureModule.ensure_absent`); the engine does GET -> compare -> PUT/PATCH only on difference ->
wait, honours check mode and --diff, and accumulates ``changed``/``diff`` when a module manages several
resources (a zone and its links, a group and its lock).

Writing a module (see plugins/modules/network_watcher.py for the smallest complete one):

    az = AzureModule(argument_spec={...})                  # auth options and ``timeout`` are merged in
    resource_id = az.provider_id(rg, "Microsoft.X/things", name)
    if state == "absent":
        az.ensure_absent(resource_id, API)
        az.exit(id=resource_id, thing={})
    result = az.reconcile(resource_id, API, desired_body,   # only what the task declares
                          partial_lists={"properties.items"})  # lists whose undeclared items are kept
    az.exit(id=result["id"], thing=result["resource"])

Anything read or written outside reconcile goes through ``az.call(az.client.<get|list|write|delete|post>, ...)``
so an Azure error ends the task with the resource ID and Azure's code; a write a module does itself must check
``az.check_mode`` first and report through ``az.record_diff`` and ``az.changed``.
"""

from __future__ import annotations

import copy
from typing import Any

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.complianceflow.azure_infra.plugins.module_utils import reconcile as rec
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.arm_client import (
    ArmClient,
    AzureApiError,
    RetrySettings,
)
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.azure_auth import (
    AUTH_ARGUMENT_SPEC,
    AuthError,
    build_credential,
    resolve_cloud,
    resolve_settings,
    subscription_from_cli,
)

COMMON_ARGUMENT_SPEC: dict[str, dict[str, Any]] = {
    "timeout": {"type": "int", "default": 1800},
}


class AzureModule:
    """Wraps AnsibleModule; modules talk to Azure only through this object."""

    def __init__(self, argument_spec: dict[str, Any], **kwargs: Any) -> None:
        spec = copy.deepcopy(AUTH_ARGUMENT_SPEC)
        spec.update(copy.deepcopy(COMMON_ARGUMENT_SPEC))
        spec.update(argument_spec)
        kwargs.setdefault("supports_check_mode", True)
        self.module = AnsibleModule(argument_spec=spec, **kwargs)
        self.params = self.module.params
        self.check_mode = self.module.check_mode
        self.changed = False
        self._before: dict[str, Any] = {}
        self._after: dict[str, Any] = {}
        self._client: ArmClient | None = None

    # --- client -------------------------------------------------------------------------------------
    @property
    def client(self) -> ArmClient:
        if self._client is None:
            try:
                settings = resolve_settings(self.params)
                verify = settings["cert_validation_mode"] != "ignore"
                cloud = resolve_cloud(settings["cloud_environment"], verify=verify)
                credential = build_credential(settings, cloud)
            except AuthError as exc:
                self.module.fail_json(msg=str(exc))
            subscription = settings.get("subscription_id") or (
                subscription_from_cli() if settings["auth_source"] == "cli" else None)
            if not subscription:
                self.module.fail_json(msg="subscription_id is required (option or AZURE_SUBSCRIPTION_ID)")
            self._client = ArmClient(cloud.resource_manager, credential, [cloud.scope], subscription, verify=verify,
                                     retry=RetrySettings(max_total_seconds=min(600.0, float(self.params["timeout"]))))
        return self._client

    @property
    def subscription_id(self) -> str:
        return self.client.subscription_id

    def rg_id(self, resource_group: str) -> str:
        return f"/subscriptions/{self.subscription_id}/resourceGroups/{resource_group}"

    def provider_id(self, resource_group: str, provider_type: str, name: str) -> str:
        return f"{self.rg_id(resource_group)}/providers/{provider_type}/{name}"

    def resolve_id(self, value: str, resource_group: str, provider_type: str) -> str:
        """Accept either a full resource ID or a bare name in the task's resource group."""
        if value.startswith("/"):
            return value
        return self.provider_id(resource_group, provider_type, value)

    # --- reconcile ----------------------------------------------------------------------------------
    def record_diff(self, label: str, diff: dict[str, Any]) -> None:
        """Add one resource's before/after to the task's --diff output (for writes a module does itself)."""
        if diff.get("before") or diff.get("after"):
            self._before[label] = diff.get("before")
            self._after[label] = diff.get("after")

    # Modules written before record_diff was public call the old name.
    _record_diff = record_diff

    def reconcile(self, resource_id: str, api_version: str, desired: dict[str, Any], *,
                  partial_lists: frozenset[str] | set[str] = frozenset(), update_method: str = "PUT",
                  label: str | None = None, actual: dict[str, Any] | None = None,
                  fetch: bool = True, rules: rec.CompareRules | None = None) -> dict[str, Any]:
        """Make ``resource_id`` satisfy ``desired``; returns ``{changed, id, resource, differences}``.

        PUT (create, or replace with the merged body) or PATCH (``update_method``) runs only when the
        subset comparison finds a difference. In check mode the returned resource is the prediction.
        """
        label = label or resource_id
        if fetch:
            actual = self.call(self.client.get, resource_id, api_version)
        if actual is None:
            self.changed = True
            self.record_diff(label, {"before": {}, "after": desired})
            if self.check_mode:
                return {"changed": True, "id": resource_id, "resource": copy.deepcopy(desired),
                        "differences": ["(create)"]}
            resource = self.call(self.client.write, "PUT", resource_id, api_version, desired, self.params["timeout"])
            return {"changed": True, "id": resource.get("id", resource_id), "resource": resource,
                    "differences": ["(create)"]}
        paths = rec.differences(desired, actual, partial_lists=partial_lists, rules=rules)
        if str((actual.get("properties") or {}).get("provisioningState", "")).lower() == "failed":
            # A resource whose last operation failed matches on paper but is not usable: write it again.
            paths.append("properties.provisioningState")
        if not paths:
            return {"changed": False, "id": actual.get("id", resource_id), "resource": actual, "differences": []}
        self.changed = True
        if update_method == "PATCH":
            body = desired
            predicted = rec.merge(actual, desired, partial_lists=partial_lists, rules=rules)
        else:
            body = rec.merge(rec.strip_read_only(actual), desired, partial_lists=partial_lists, rules=rules)
            predicted = body
        self.record_diff(label, rec.diff_document(predicted, actual, paths))
        if self.check_mode:
            return {"changed": True, "id": actual.get("id", resource_id), "resource": predicted, "differences": paths}
        resource = self.call(self.client.write, update_method, resource_id, api_version, body, self.params["timeout"])
        return {"changed": True, "id": resource.get("id", resource_id), "resource": resource, "differences": paths}

    def ensure_absent(self, resource_id: str, api_version: str, label: str | None = None,
                      actual: dict[str, Any] | None = None, fetch: bool = True) -> bool:
        """Delete if present (waiting for the operation); True when something was (or would be) deleted."""
        if fetch:
            actual = self.call(self.client.get, resource_id, api_version)
        if actual is None:
            return False
        self.changed = True
        self.record_diff(label or resource_id, {"before": _summary(actual), "after": {}})
        if not self.check_mode:
            self.call(self.client.delete, resource_id, api_version, self.params["timeout"])
        return True

    def call(self, function: Any, *args: Any, **kwargs: Any) -> Any:
        """Run an ARM call; an Azure failure ends the task with Azure's code, message and the resource ID."""
        try:
            return function(*args, **kwargs)
        except AzureApiError as exc:
            self.fail(exc)
        except AuthError as exc:
            self.module.fail_json(msg=str(exc))

    def fail(self, exc: AzureApiError) -> None:
        self.module.fail_json(msg=str(exc), error=exc.as_dict(), changed=self.changed)

    # --- results ------------------------------------------------------------------------------------
    def exit(self, **result: Any) -> None:
        result.setdefault("changed", self.changed)
        if self.module._diff:
            result["diff"] = {"before": self._before, "after": self._after}
        self.module.exit_json(**result)


def _summary(resource: dict[str, Any]) -> dict[str, Any]:
    keep = ("id", "name", "type", "location", "tags")
    return {k: resource[k] for k in keep if k in resource}


def tags_body(tags: dict[str, Any] | None) -> dict[str, Any]:
    """Tags as Azure stores them (strings); None means the task does not manage tags."""
    if tags is None:
        return {}
    return {"tags": {str(k): str(v) for k, v in tags.items()}}
