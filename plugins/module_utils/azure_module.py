# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The module base every Azure module uses: auth options merged in, one ARM client, desired-state reconcile.

A module builds a desired ARM body from its options and hands it to the one skeleton,
:meth:`AzureModule.ensure`: with ``state: absent`` it deletes (and waits); otherwise GET -> compare with the
type's rules from the registry (``resource_types.py``: API version, exact maps such as tags with
``purge_tags``, keyed lists, sets, write-only and initial-only paths, PUT or PATCH) -> write only on
difference -> wait, honouring check mode and --diff. ``changed``/``diff`` accumulate when a module manages
several resources (a zone and its links, a group and its lock).

Writing a module (see plugins/modules/network_watcher.py for the smallest complete one):

    az = AzureModule(argument_spec=args_common.argument_spec(args_common.RESOURCE, args_common.TAGS,
                                                             args_common.STATE, extra={...}))
    thing_id = az.provider_id(rg, "Microsoft.X/things", name)
    result = az.ensure(thing_id, "Microsoft.X/things",           # absent: delete; present: reconcile
                       {"location": params["location"], **az.tags_body(), "properties": {...}})
    az.exit(id=result["id"], thing=result["resource"])

``desired`` may be a function of the resource as Azure has it (``None`` when it does not exist) when a value
falls back to Azure's; a ``location`` of ``None`` keeps Azure's and is required to create. Secrets Azure never
returns are write-only paths in the registry: pass them with ``secrets={path: resolver}`` so they are read only
when a write happens, are never compared, and are masked in every result and diff.

Anything read or written outside the skeleton goes through ``az.call(az.client.<get|list|write|delete|post>, ...)``
so an Azure error ends the task with the resource ID and Azure's code; a write a module does itself must check
``az.check_mode`` first and report through ``az.record_diff`` and ``az.changed``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Optional, Union

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
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.resource_types import (
    ResourceType,
    compare_rules,
    resource_type,
)

COMMON_ARGUMENT_SPEC: dict[str, dict[str, Any]] = {
    "timeout": {"type": "int", "default": 1800},
}

# What a result or a diff shows in place of a write-only value (a password, a connection string).
WRITE_ONLY_MASK = rec.WRITE_ONLY_MASK
Desired = Union[dict[str, Any], Callable[[Optional[dict[str, Any]]], dict[str, Any]]]


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

    # --- the one skeleton ---------------------------------------------------------------------------
    def ensure(self, resource_id: str, arm_type: str, desired: Desired, *, label: str | None = None,
               required_to_create: Iterable[str] = (), partial_lists: Iterable[str] = (),
               secrets: Mapping[str, Callable[[], str]] | None = None) -> dict[str, Any]:
        """``state: absent`` deletes ``resource_id``; otherwise :meth:`ensure_present`.

        Returns ``{changed, id, resource, differences}``; ``resource`` is ``{}`` when absent.
        """
        if self.params.get("state") == "absent":
            removed = self.ensure_absent(resource_id, arm_type, label=label)
            return {"changed": removed, "id": resource_id, "resource": {}, "differences": ["(delete)"] if removed else []}
        return self.ensure_present(resource_id, arm_type, desired, label=label, required_to_create=required_to_create,
                                   partial_lists=partial_lists, secrets=secrets)

    def ensure_present(self, resource_id: str, arm_type: str, desired: Desired, *, label: str | None = None,
                       actual: Any = ..., required_to_create: Iterable[str] = (), partial_lists: Iterable[str] = (),
                       secrets: Mapping[str, Callable[[], str]] | None = None) -> dict[str, Any]:
        """Make ``resource_id`` (of registry type ``arm_type``) satisfy ``desired``.

        ``actual`` is what the module already read (``...``: read it here). ``desired`` (or what it returns for
        ``actual``) is partial: only what it declares is compared. A ``location`` of ``None`` keeps Azure's;
        ``location`` and the options in ``required_to_create`` must be set to create. A declared value that
        differs at one of the type's ``create_only`` paths fails the task (Azure would have to replace the
        resource); ``create_only`` and ``initial_only`` paths are sent on create only.
        """
        entry = resource_type(arm_type)
        if actual is ...:
            actual = self.call(self.client.get, resource_id, entry.api_version)
        body = copy.deepcopy(desired(actual) if callable(desired) else desired)
        missing = []
        if "location" in body and not body["location"]:
            del body["location"]
            missing.append("location")
        missing += [option for option in required_to_create if self.params.get(option) in (None, "", [], {})]
        if actual is None and missing:
            verb = "is" if len(missing) == 1 else "are"
            self.module.fail_json(msg=f"{' and '.join(missing)} {verb} required to create {resource_id}")
        rules = self.compare_rules(entry, partial_lists)
        if actual is not None:
            fixed = fixed_at_creation(body, actual, entry, rules)
            if fixed:
                self.module.fail_json(msg=f"{resource_id}: " + "; ".join(fixed) + ". Delete and recreate the "
                                          "resource to change these.", changed=self.changed)
            body = rec.without_paths(body, ("location", *entry.create_only, *entry.initial_only))
        return self.reconcile(resource_id, entry.api_version, body, update_method=entry.update, label=label,
                              actual=actual, fetch=False, rules=rules, write_only=entry.write_only, secrets=secrets,
                              read_only=entry.read_only)

    def compare_rules(self, entry: ResourceType, partial_lists: Iterable[str] = ()) -> rec.CompareRules:
        return compare_rules(entry, purge_tags=self.params.get("purge_tags", True), partial_lists=partial_lists)

    def ensure_children(self, collection: str, arm_type: str, desired: Mapping[str, dict[str, Any]], *,
                        purge: bool = False, keep: Iterable[str] = (), parent_exists: bool = True,
                        label: str = "") -> dict[str, dict[str, Any]]:
        """Bring each declared child of one collection (``{hub}/consumergroups``) to its desired body, from one list
        call; with ``purge``, delete the undeclared ones except ``keep`` (children Azure creates itself).

        Returns every child that remains (or would remain in check mode), by name.
        """
        existing: dict[str, dict[str, Any]] = {}
        if parent_exists:
            existing = {str(item.get("name", "")).lower(): item
                        for item in self.call(self.client.list, collection, resource_type(arm_type).api_version)}
        out: dict[str, dict[str, Any]] = {}
        for name, body in desired.items():
            out[name] = self.ensure_present(f"{collection}/{name}", arm_type, body, label=f"{label} {name}".strip(),
                                            actual=existing.get(name.lower()))["resource"]
        declared = {name.lower() for name in desired}
        kept = {name.lower() for name in keep}
        for key, item in existing.items():
            if key in declared:
                continue
            if purge and key not in kept:
                self.ensure_absent(item["id"], arm_type, label=f"{label} {item.get('name')}".strip(), actual=item,
                                   fetch=False)
            else:
                out[str(item.get("name"))] = item
        return out

    def tags_body(self) -> dict[str, Any]:
        """``{"tags": ...}`` from the task's ``tags`` option, or ``{}`` when the task does not manage tags."""
        return tags_body(self.params.get("tags"))

    # --- reconcile ----------------------------------------------------------------------------------
    def record_diff(self, label: str, diff: dict[str, Any]) -> None:
        """Add one resource's before/after to the task's --diff output (for writes a module does itself)."""
        if diff.get("before") or diff.get("after"):
            self._before[label] = diff.get("before")
            self._after[label] = diff.get("after")

    def reconcile(self, resource_id: str, api_version: str, desired: dict[str, Any], *,
                  partial_lists: frozenset[str] | set[str] = frozenset(), update_method: str = "PUT",
                  label: str | None = None, actual: dict[str, Any] | None = None,
                  fetch: bool = True, rules: rec.CompareRules | None = None, write_only: Iterable[str] = (),
                  secrets: Mapping[str, Callable[[], str]] | None = None,
                  read_only: Iterable[str] = ()) -> dict[str, Any]:
        """Make ``resource_id`` satisfy ``desired``; returns ``{changed, id, resource, differences}``.

        PUT (create, or replace with the merged body) or PATCH (``update_method``) runs only when the
        subset comparison finds a difference. In check mode the returned resource is the prediction.
        ``write_only`` paths are masked in the result and the diff; ``secrets`` (path -> resolver) are resolved
        only for a real write, masked by Ansible from then on.
        """
        label = label or resource_id
        write_only = tuple(write_only) + tuple(secrets or ())
        if fetch:
            actual = self.call(self.client.get, resource_id, api_version)
        if actual is None:
            self.changed = True
            self.record_diff(label, {"before": {}, "after": rec.masked(desired, write_only)})
            if self.check_mode:
                return {"changed": True, "id": resource_id, "resource": rec.masked(desired, write_only),
                        "differences": ["(create)"]}
            resource = self.call(self.client.write, "PUT", resource_id, api_version, self._with_secrets(desired, secrets),
                                 self.params["timeout"])
            return {"changed": True, "id": resource.get("id", resource_id), "resource": rec.masked(resource, write_only),
                    "differences": ["(create)"]}
        paths = rec.differences(desired, actual, partial_lists=partial_lists, rules=rules)
        if str((actual.get("properties") or {}).get("provisioningState", "")).lower() == "failed":
            # A resource whose last operation failed matches on paper but is not usable: write it again.
            paths.append("properties.provisioningState")
        if not paths:
            return {"changed": False, "id": actual.get("id", resource_id), "resource": rec.masked(actual, write_only),
                    "differences": []}
        self.changed = True
        if update_method == "PATCH":
            predicted = rec.merge(actual, desired, partial_lists=partial_lists, rules=rules)
            body = copy.deepcopy(desired)
            if "tags" in body:
                # PATCH replaces the tag map: send the merged one so purge_tags=false keeps undeclared tags.
                body["tags"] = predicted.get("tags")
        else:
            body = rec.merge(rec.strip_read_only(actual, frozenset(read_only)), desired, partial_lists=partial_lists, rules=rules)
            predicted = body
        self.record_diff(label, rec.diff_document(rec.masked(predicted, write_only), rec.masked(actual, write_only), paths))
        if self.check_mode:
            return {"changed": True, "id": actual.get("id", resource_id), "resource": rec.masked(predicted, write_only),
                    "differences": paths}
        resource = self.call(self.client.write, update_method, resource_id, api_version,
                             self._with_secrets(body, secrets), self.params["timeout"])
        return {"changed": True, "id": resource.get("id", resource_id), "resource": rec.masked(resource, write_only),
                "differences": paths}

    def _with_secrets(self, body: dict[str, Any], secrets: Mapping[str, Callable[[], str]] | None) -> dict[str, Any]:
        if not secrets:
            return body
        body = copy.deepcopy(body)
        for path, resolve in secrets.items():
            value = resolve()
            # Ansible then masks the value wherever it might surface (an error text, a warning).
            self.module.no_log_values.add(str(value))
            _set(body, path, value)
        return body

    def ensure_absent(self, resource_id: str, api_version: str, label: str | None = None,
                      actual: dict[str, Any] | None = None, fetch: bool = True) -> bool:
        """Delete if present (waiting for the operation); True when something was (or would be) deleted.

        ``api_version`` may also be a registry type (``Microsoft.Network/networkWatchers``).
        """
        if "/" in api_version:
            api_version = resource_type(api_version).api_version
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


def fixed_at_creation(desired: dict[str, Any], actual: dict[str, Any], entry: ResourceType,
                      rules: rec.CompareRules | None = None) -> list[str]:
    """What ``desired`` asks to change at the type's ``create_only`` paths (and ``location``: no ARM resource
    moves), each as ``path is fixed at creation (Azure has X, the task asks for Y)``."""
    out = []
    for path in rec.differences(desired, actual, rules=rules):
        if rec.under(rec.rule_path(path), ("location", *entry.create_only)):
            out.append(f"{path} is fixed at creation (Azure has {rec._get_path(actual, path)!r}, "
                       f"the task asks for {rec._get_path(desired, path)!r})")
    return out


def _set(document: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    node = document
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value
