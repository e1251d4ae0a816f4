# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The deployments' shared state in Azure Blob Storage: one writer per deployment (a blob lease), the run ledger,
the last applied plan, and the change summary built from the engine's per-resource results.

Layout, in the container ``deployments`` of the subscription's state storage account (``playbooks/bootstrap.yml``
creates it; Entra ID only, shared keys disabled)::

    <deployment>/deployment.lock          empty blob; its infinite lease is the lock, its metadata the holder
    <deployment>/runs/<UTC start>-<run id>.json   one ledger record per run
    <deployment>/applied-plan.json        the plan of the last successful apply

The Blob REST API is called through azure-core with a bearer token for ``https://storage.azure.com/.default``
from the same credential the modules use (``azure_auth``). Nothing here logs a token or a secret value.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

from .azure_auth import AUTH_ARGUMENT_SPEC
from .naming_rules import name_suffix
from .resource_types import UnknownResourceType, type_of_id

STATE_RESOURCE_GROUP = "rg-cf-state"
STATE_CONTAINER = "deployments"
STATE_ACCOUNT_PREFIX = "stcfstate"
STORAGE_ACCOUNT_API_VERSION = "2023-05-01"
BLOB_API_VERSION = "2024-11-04"
STORAGE_SCOPE = "https://storage.azure.com/.default"
LOCK_BLOB = "deployment.lock"
APPLIED_PLAN_BLOB = "applied-plan.json"
# Blob metadata keys of the lock's holder (metadata names must be C# identifiers).
HOLDER_KEYS = ("lockid", "who", "host", "since", "playbook")

# Options of complianceflow.azure_infra.deployment_lock (the action plugin validates with it; the module documents it).
LOCK_ARGUMENT_SPEC: dict[str, dict[str, Any]] = {
    **{name: dict(spec) for name, spec in AUTH_ARGUMENT_SPEC.items()},
    "deployment": {"type": "str"},
    "operation": {"type": "str", "default": "lock", "choices": ["lock", "unlock", "history", "deployments"]},
    "lock_id": {"type": "str"},
    "last": {"type": "int", "default": 10},
    "mode": {"type": "str", "default": "required", "choices": ["required", "off"]},
    "state_account": {"type": "str"},
    "state_resource_group": {"type": "str", "default": STATE_RESOURCE_GROUP},
    "container": {"type": "str", "default": STATE_CONTAINER},
    "timeout": {"type": "int", "default": 1800},
}

# Terraform's words, per engine action.
ADD, CHANGE, DESTROY, UNCHANGED = "add", "change", "destroy", "unchanged"
ACTION_KIND = {"create": ADD, "update": CHANGE, "delete": DESTROY, "unchanged": UNCHANGED}
ACTION_RANK = {"failed": 5, "create": 4, "delete": 3, "update": 2, "unchanged": 1, "skipped": 0}


def state_account_name(subscription_id: str) -> str:
    """The subscription's state storage account: ``stcfstate<suffix>``, globally unique and stable per subscription
    (the suffix is the naming rules' hash of the subscription id)."""
    return STATE_ACCOUNT_PREFIX + name_suffix(subscription_id, "state")


def state_account_id(subscription_id: str, account: str | None = None,
                     resource_group: str = STATE_RESOURCE_GROUP) -> str:
    return (f"/subscriptions/{subscription_id}/resourceGroups/{resource_group}/providers/Microsoft.Storage/"
            f"storageAccounts/{account or state_account_name(subscription_id)}")


# --- the change summary: pure functions over the engine's results ------------------------------------------------
def merge_results(into: dict[str, dict[str, Any]], results: Iterable[Mapping[str, Any]]) -> None:
    """Fold one task's per-resource results into a run's (by resource id; a create seen once stays a create)."""
    for item in results:
        if not isinstance(item, Mapping) or not item.get("id"):
            continue
        key = str(item["id"]).lower()
        previous = into.get(key)
        if previous is None or ACTION_RANK.get(str(item.get("action")), 0) > ACTION_RANK.get(
                str(previous.get("action")), 0):
            into[key] = {k: item.get(k) for k in ("id", "type", "name", "action", "differences") if k in item}


def deletions(result: Mapping[str, Any], task_args: Mapping[str, Any]) -> list[dict[str, Any]]:
    """What a per-resource module's task (``state: absent``, in a loop or not) deleted, or would delete in check
    mode, as per-resource results: ``changed`` items with the resource's ``id``."""
    items = result.get("results") if isinstance(result.get("results"), list) else [result]
    found = []
    for item in items:
        if not isinstance(item, Mapping) or not item.get("changed") or not isinstance(item.get("id"), str):
            continue
        invoked = (item.get("invocation") or {}).get("module_args") or {}
        if (invoked.get("state") or task_args.get("state")) != "absent":
            continue
        resource_id = str(item["id"])
        try:
            rtype = type_of_id(resource_id)
        except UnknownResourceType:
            continue
        found.append({"id": resource_id, "type": rtype, "name": resource_id.rstrip("/").rsplit("/", 1)[-1],
                      "action": "delete", "differences": []})
    return found


def summarise(resources: Mapping[str, Mapping[str, Any]], check_mode: bool) -> dict[str, Any]:
    """Counts in Terraform's words, and the changed resources by type and name."""
    counts = {ADD: 0, CHANGE: 0, DESTROY: 0, UNCHANGED: 0, "failed": 0}
    changes: list[dict[str, Any]] = []
    for item in sorted(resources.values(), key=lambda r: (str(r.get("type")), str(r.get("name")))):
        action = str(item.get("action"))
        kind = ACTION_KIND.get(action, "failed" if action == "failed" else None)
        if kind is None:
            continue
        counts[kind] += 1
        if kind != UNCHANGED:
            changes.append({"action": kind, "type": item.get("type"), "name": item.get("name"), "id": item.get("id"),
                            "differences": list(item.get("differences") or [])})
    return {"check_mode": check_mode, "counts": counts, "changes": changes, "line": summary_line(counts, check_mode)}


def summary_line(counts: Mapping[str, int], check_mode: bool) -> str:
    """``1 to add, 2 to change, 0 to destroy, 40 unchanged``; in check mode prefixed ``would:`` (nothing changed)."""
    line = ("would: " if check_mode else "") + (
        f"{counts.get(ADD, 0)} to add, {counts.get(CHANGE, 0)} to change, "
        f"{counts.get(DESTROY, 0)} to destroy, {counts.get(UNCHANGED, 0)} unchanged")
    if counts.get("failed"):
        line += f", {counts['failed']} failed"
    return line


def drift_report(deployment: str, resources: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Every resource a check-mode run would change, with the paths that differ (paths only, never values)."""
    drifted = [{"id": r.get("id"), "type": r.get("type"), "name": r.get("name"),
                "action": ACTION_KIND.get(str(r.get("action")), r.get("action")),
                "paths": sorted(set(r.get("differences") or []))}
               for r in sorted(resources.values(), key=lambda r: str(r.get("id")).lower())
               if r.get("action") in ("create", "update", "delete", "failed")]
    return {"deployment": deployment, "drifted": bool(drifted), "resources": drifted}


def ledger_line(record: Mapping[str, Any]) -> str:
    """One ledger record as a line: when, playbook, who and where, outcome, counts (check mode marked)."""
    counts = record.get("counts") or {}
    mode = " (check mode)" if record.get("check_mode") else ""
    return (f"{record.get('started', '?')}  {record.get('playbook', '?')}{mode}  {record.get('who', '?')}@"
            f"{record.get('host', '?')}  {record.get('outcome', '?')} in {record.get('duration_seconds', '?')} s  "
            f"{summary_line(counts, bool(record.get('check_mode')))}  run {record.get('run_id', '?')}")


def inventory_hash(deployment_fact: Any) -> str:
    """A stable hash of the deployment's derived inputs (names, CIDRs, tags, tier, plan)."""
    return hashlib.sha256(json.dumps(deployment_fact, sort_keys=True, default=str).encode()).hexdigest()


def lock_holder(who: str, host: str, playbook: str, lock_id: str, now: dt.datetime | None = None) -> dict[str, str]:
    since = (now or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"lockid": lock_id, "who": who, "host": host, "since": since, "playbook": playbook}


def describe_holder(metadata: Mapping[str, str]) -> str:
    if not metadata.get("lockid"):
        return "an unknown holder (the lock was taken a moment ago, or by a tool that records no holder)"
    return (f"{metadata.get('who') or '?'} on {metadata.get('host') or '?'} since {metadata.get('since') or '?'} "
            f"running {metadata.get('playbook') or '?'} (lock id {metadata['lockid']})")


def ascii_metadata(value: str) -> str:
    # Blob metadata values are HTTP header values: printable ASCII only.
    return "".join(c if 32 <= ord(c) < 127 else "?" for c in str(value))[:256]


# --- the Blob REST API ------------------------------------------------------------------------------------------
class BlobError(Exception):
    def __init__(self, status: int | None, code: str, message: str, url: str, method: str) -> None:
        super().__init__(f"{method} {url}: {status or ''} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class LockHeld(Exception):
    def __init__(self, deployment: str, metadata: Mapping[str, str]) -> None:
        self.deployment = deployment
        self.metadata = dict(metadata)
        super().__init__(f"deployment {deployment} is locked by {describe_holder(metadata)}")


def _error_code(headers: Mapping[str, str], text: str) -> tuple[str, str]:
    code = headers.get("x-ms-error-code", "")
    message = ""
    if text.strip().startswith("<"):
        try:
            root = ET.fromstring(text)
            code = code or (root.findtext("Code") or "")
            message = (root.findtext("Message") or "").split("\n", 1)[0]
        except ET.ParseError:
            message = text[:200]
    return code, message


class BlobClient:
    """A few Blob REST operations on one account endpoint (``https://<account>.blob.core.windows.net/``)."""

    def __init__(self, endpoint: str, credential: Any, verify: bool = True) -> None:
        self.endpoint = endpoint.rstrip("/") + "/"
        self.credential = credential
        self.verify = verify
        self._pipeline: Any = None

    def _client(self) -> Any:
        if self._pipeline is None:
            from azure.core import PipelineClient
            from azure.core.pipeline import policies

            self._pipeline = PipelineClient(self.endpoint, policies=[
                policies.HeadersPolicy({"x-ms-version": BLOB_API_VERSION}),
                policies.UserAgentPolicy(base_user_agent="complianceflow.azure_infra"),
                policies.RetryPolicy(retry_total=4, retry_backoff_factor=0.5),
                policies.BearerTokenCredentialPolicy(self.credential, STORAGE_SCOPE),
            ], connection_verify=self.verify)
        return self._pipeline

    def call(self, method: str, path: str, query: str = "", headers: Mapping[str, str] | None = None,
             data: bytes | None = None, ok: tuple[int, ...] = (200, 201, 202)) -> tuple[int, dict[str, str], bytes]:
        from azure.core.exceptions import ClientAuthenticationError, ServiceRequestError
        from azure.core.rest import HttpRequest

        url = self.endpoint + quote(path.lstrip("/"), safe="/") + (f"?{query}" if query else "")
        request = HttpRequest(method, url, headers=dict(headers or {}), content=data)
        try:
            response = self._client().send_request(request)
        except ClientAuthenticationError as exc:
            raise BlobError(401, "AuthenticationFailed", str(exc).splitlines()[0], url, method) from exc
        except ServiceRequestError as exc:
            raise BlobError(None, "ConnectionError", str(exc), url, method) from exc
        body = response.read() if method != "HEAD" else b""
        response_headers = {k.lower(): v for k, v in response.headers.items()}
        if response.status_code not in ok:
            code, message = _error_code(response_headers, body.decode("utf-8", "replace"))
            raise BlobError(response.status_code, code or f"HTTP{response.status_code}", message, url, method)
        return response.status_code, response_headers, body

    def create_container(self, container: str) -> None:
        try:
            self.call("PUT", container, "restype=container")
        except BlobError as exc:
            if exc.code != "ContainerAlreadyExists":
                raise

    def put_blob(self, path: str, data: bytes, content_type: str = "application/json",
                 headers: Mapping[str, str] | None = None) -> None:
        self.call("PUT", path, headers={"x-ms-blob-type": "BlockBlob", "Content-Type": content_type,
                                        **(headers or {})}, data=data)

    def get_blob(self, path: str) -> bytes | None:
        try:
            return self.call("GET", path)[2]
        except BlobError as exc:
            if exc.status == 404:
                return None
            raise

    def properties(self, path: str) -> dict[str, str] | None:
        try:
            return self.call("HEAD", path)[1]
        except BlobError as exc:
            if exc.status == 404:
                return None
            raise

    def lease(self, path: str, action: str, lease_id: str | None = None, proposed: str | None = None) -> str:
        headers = {"x-ms-lease-action": action}
        if action == "acquire":
            headers["x-ms-lease-duration"] = "-1"
        if action == "break":
            headers["x-ms-lease-break-period"] = "0"
        if lease_id:
            headers["x-ms-lease-id"] = lease_id
        if proposed:
            headers["x-ms-proposed-lease-id"] = proposed
        return self.call("PUT", path, "comp=lease", headers)[1].get("x-ms-lease-id", "")

    def set_metadata(self, path: str, metadata: Mapping[str, str], lease_id: str) -> None:
        headers = {f"x-ms-meta-{k}": ascii_metadata(v) for k, v in metadata.items()}
        self.call("PUT", path, "comp=metadata", {**headers, "x-ms-lease-id": lease_id})

    def list_blobs(self, container: str, prefix: str = "", delimiter: str = "") -> tuple[list[str], list[str]]:
        """Blob names and (with a delimiter) virtual folder prefixes under ``prefix``, every page."""
        names: list[str] = []
        prefixes: list[str] = []
        marker = ""
        while True:
            query = "restype=container&comp=list" + (f"&prefix={quote(prefix, safe='')}" if prefix else "")
            query += (f"&delimiter={quote(delimiter, safe='')}" if delimiter else "")
            query += (f"&marker={quote(marker, safe='')}" if marker else "")
            try:
                root = ET.fromstring(self.call("GET", container, query)[2])
            except BlobError as exc:
                if exc.code == "ContainerNotFound":  # no run has taken a lock in this account yet
                    return names, prefixes
                raise
            blobs = root.find("Blobs")
            if blobs is not None:
                names.extend(b.findtext("Name") or "" for b in blobs.findall("Blob"))
                prefixes.extend(p.findtext("Name") or "" for p in blobs.findall("BlobPrefix"))
            marker = root.findtext("NextMarker") or ""
            if not marker:
                return names, prefixes


def metadata_of(headers: Mapping[str, str]) -> dict[str, str]:
    return {k[len("x-ms-meta-"):]: v for k, v in headers.items() if k.lower().startswith("x-ms-meta-")}


# --- the lock ---------------------------------------------------------------------------------------------------
def lock_path(container: str, deployment: str) -> str:
    return f"{container}/{deployment}/{LOCK_BLOB}"


def acquire_lock(client: BlobClient, container: str, deployment: str, who: str, host: str,
                 playbook: str) -> dict[str, str]:
    """Take the deployment's lease (infinite) and record the holder; raises :class:`LockHeld` when taken.

    The lease is tried first (two requests on the usual path: lease, metadata); the lock blob and the container
    are created on first use."""
    path = lock_path(container, deployment)
    lock_id = str(uuid.uuid4())
    try:
        client.lease(path, "acquire", proposed=lock_id)
    except BlobError as exc:
        if exc.code == "LeaseAlreadyPresent":
            raise LockHeld(deployment, metadata_of(client.properties(path) or {})) from exc
        if exc.status != 404:
            raise
        if exc.code == "ContainerNotFound":
            client.create_container(container)
        try:
            client.put_blob(path, b"", "application/octet-stream", {"If-None-Match": "*"})
        except BlobError as created:
            # Another run created it at the same moment: the lease decides.
            if created.status not in (409, 412):
                raise
        return acquire_lock(client, container, deployment, who, host, playbook)
    holder = lock_holder(who, host, playbook, lock_id)
    client.set_metadata(path, holder, lock_id)
    return holder


def release_lock(client: BlobClient, container: str, deployment: str, lock_id: str) -> None:
    """Clear the holder, then release: the next holder's lease and metadata are two requests, and a run refused
    between them must not name the previous holder."""
    path = lock_path(container, deployment)
    client.set_metadata(path, {}, lock_id)
    client.lease(path, "release", lease_id=lock_id)


def lock_status(client: BlobClient, container: str, deployment: str) -> dict[str, Any]:
    headers = client.properties(lock_path(container, deployment)) or {}
    return {"locked": headers.get("x-ms-lease-state") == "leased", "holder": metadata_of(headers)}


# --- the ledger -------------------------------------------------------------------------------------------------
def record_path(container: str, deployment: str, started: str, run_id: str) -> str:
    stamp = started.replace("-", "").replace(":", "")
    return f"{container}/{deployment}/runs/{stamp}-{run_id}.json"


def write_record(client: BlobClient, container: str, deployment: str, record: Mapping[str, Any]) -> str:
    """Write one ledger record; the container is created when no run has taken a lock in this account yet (a
    check-mode run right after bootstrap records itself too)."""
    path = record_path(container, deployment, str(record["started"]), str(record["run_id"]))
    data = json.dumps(record, indent=2, sort_keys=True).encode()
    try:
        client.put_blob(path, data)
    except BlobError as exc:
        if exc.code != "ContainerNotFound":
            raise
        client.create_container(container)
        client.put_blob(path, data)
    return path


def write_applied_plan(client: BlobClient, container: str, deployment: str, plan: Any) -> None:
    client.put_blob(f"{container}/{deployment}/{APPLIED_PLAN_BLOB}", json.dumps(plan, sort_keys=True).encode())


def read_history(client: BlobClient, container: str, deployment: str, last: int) -> list[dict[str, Any]]:
    names = client.list_blobs(container, f"{deployment}/runs/")[0]
    records = []
    for name in sorted(names)[-last:] if last > 0 else []:
        data = client.get_blob(f"{container}/{name}")
        if data:
            records.append(json.loads(data))
    return records


def list_deployments(client: BlobClient, container: str) -> list[str]:
    prefixes = client.list_blobs(container, delimiter="/")[1]
    return sorted(p.rstrip("/") for p in prefixes)


# --- credentials on the controller ------------------------------------------------------------------------------
def controller_client(endpoint: str | None, account_id: str | None = None,
                      env: Mapping[str, str] | None = None,
                      params: Mapping[str, Any] | None = None) -> tuple[BlobClient, str]:
    """A BlobClient with the modules' credential resolution (task options, AZURE_* environment, profile, managed
    identity, CLI). Without an endpoint, the account's ``primaryEndpoints.blob`` is read from ARM. Returns
    (client, endpoint)."""
    from .arm_client import ArmClient
    from .azure_auth import build_credential, resolve_cloud, resolve_settings

    settings = resolve_settings(params or {}, env if env is not None else os.environ)
    verify = settings["cert_validation_mode"] != "ignore"
    cloud = resolve_cloud(settings["cloud_environment"], verify=verify)
    credential = build_credential(settings, cloud)
    if not endpoint:
        subscription = str(settings.get("subscription_id") or "")
        if account_id is None:
            account_id = state_account_id(subscription)
        arm = ArmClient(cloud.resource_manager, credential, [cloud.scope], subscription, verify=verify)
        account = arm.get(account_id, STORAGE_ACCOUNT_API_VERSION)
        if account is None:
            raise LookupError(account_id)
        endpoint = str(((account.get("properties") or {}).get("primaryEndpoints") or {}).get("blob") or "")
    return BlobClient(endpoint, credential, verify), endpoint


def subscription_from_settings(params: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None) -> str:
    from .azure_auth import resolve_settings

    return str(resolve_settings(params or {}, env if env is not None else os.environ).get("subscription_id") or "")


def controller_identity(params: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None) -> str:
    """Who the credentials resolve to (source, tenant, client or user), without secrets; "" when none resolve."""
    from .azure_auth import AuthError, resolve_settings

    try:
        settings = resolve_settings(params or {}, env if env is not None else os.environ)
    except AuthError:
        return ""
    return "|".join(str(settings.get(k) or "") for k in ("auth_source", "tenant", "client_id", "ad_user",
                                                         "subscription_id"))


# --- bootstrap: the subscription's state storage, as a plan for the resources module ----------------------------
STORAGE_BLOB_DATA_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
RBAC_ADMINISTRATOR = "f58310d9-a9f6-439a-9e8d-f62e7b41a168"
# Every namespace the collection writes to (Microsoft.Resources and Microsoft.Authorization are always registered).
PROVIDER_NAMESPACES = ("Microsoft.Network", "Microsoft.Storage", "Microsoft.KeyVault", "Microsoft.DBforPostgreSQL",
                       "Microsoft.Cache", "Microsoft.EventHub", "Microsoft.Insights", "Microsoft.OperationalInsights",
                       "Microsoft.Consumption")


def _assignment(scope: str, subscription_id: str, role: str, principal: str, principal_type: str,
                label: str) -> dict[str, Any]:
    from .deployment_model import role_assignment_name

    name = role_assignment_name(scope, role, label)
    definition = f"/subscriptions/{subscription_id}/providers/Microsoft.Authorization/roleDefinitions/{role}"
    return {"id": f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}",
            "type": "Microsoft.Authorization/roleAssignments", "name": name, "depends_on": [scope],
            "properties": {"roleDefinitionId": definition, "principalId": principal,
                           "principalType": principal_type}}


def bootstrap_plan(subscription_id: str, location: str, sku: str = "Standard_ZRS",
                   tags: Mapping[str, str] | None = None, account: str | None = None,
                   resource_group: str = STATE_RESOURCE_GROUP, runner_object_id: str = "",
                   runner_principal_type: str = "ServicePrincipal", retention_days: int = 30,
                   version_days: int = 90, workspace_id: str = "",
                   runner_deployments: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """The subscription's state storage as planned resources: the resource group; the account (TLS 1.2, HTTPS only,
    no public blob access, no shared keys: Entra ID only); its blob service with versioning and blob and container
    soft delete (``retention_days``); a lifecycle rule deleting versions older than ``version_days``; the blob
    service's diagnostic logs (StorageRead/Write/Delete and Transaction metrics) to ``workspace_id``, or to a
    workspace ``log-cf-state`` in the group; and the runner's Storage Blob Data Contributor role on the account (the
    caller, or ``runner_object_id``, which also gets Reader on the subscription).

    With ``runner_object_id`` and ``runner_deployments`` (deployment -> Azure location), the runner's
    least-privilege set on each deployment: its resource group ``rg-cf-<deployment>`` (created when missing, never
    updated: site.yml tags it) with Contributor and Role Based Access Control Administrator, and Contributor on the
    shared ``NetworkWatcherRG``."""
    rg_id = f"/subscriptions/{subscription_id}/resourceGroups/{resource_group}"
    account_id = state_account_id(subscription_id, account, resource_group)
    blob_id = f"{account_id}/blobServices/default"
    principal = runner_object_id or "<runtime:principal-id>"
    principal_type = runner_principal_type if runner_object_id else "<runtime:principal-type>"
    label = runner_object_id or "runner"
    plan: list[dict[str, Any]] = [
        {"id": rg_id, "type": "Microsoft.Resources/resourceGroups", "name": resource_group, "location": location,
         "tags": dict(tags or {})},
        {"id": account_id, "type": "Microsoft.Storage/storageAccounts", "name": account_id.rsplit("/", 1)[-1],
         "depends_on": [rg_id], "location": location, "tags": dict(tags or {}), "sku": {"name": sku},
         "kind": "StorageV2",
         "properties": {"minimumTlsVersion": "TLS1_2", "allowBlobPublicAccess": False, "allowSharedKeyAccess": False,
                        "supportsHttpsTrafficOnly": True, "publicNetworkAccess": "Enabled"}},
        {"id": blob_id, "type": "Microsoft.Storage/storageAccounts/blobServices", "name": "default",
         "depends_on": [account_id],
         "properties": {"isVersioningEnabled": True,
                        "deleteRetentionPolicy": {"enabled": True, "days": retention_days},
                        "containerDeleteRetentionPolicy": {"enabled": True, "days": retention_days}}},
        {"id": f"{account_id}/managementPolicies/default", "type": "Microsoft.Storage/storageAccounts/managementPolicies",
         "name": "default", "depends_on": [blob_id],
         "properties": {"policy": {"rules": [{
             "enabled": True, "name": "deleteOldVersions", "type": "Lifecycle",
             "definition": {"actions": {"version": {"delete": {"daysAfterCreationGreaterThan": version_days}}},
                            "filters": {"blobTypes": ["blockBlob"]}}}]}}},
    ]
    if not workspace_id:
        workspace_id = f"{rg_id}/providers/Microsoft.OperationalInsights/workspaces/log-cf-state"
        plan.append({"id": workspace_id, "type": "Microsoft.OperationalInsights/workspaces", "name": "log-cf-state",
                     "depends_on": [rg_id], "location": location, "tags": dict(tags or {}),
                     "properties": {"sku": {"name": "PerGB2018"}, "retentionInDays": 90}})
    plan.append({"id": f"{blob_id}/providers/Microsoft.Insights/diagnosticSettings/diag-cf-state",
                 "type": "Microsoft.Insights/diagnosticSettings", "name": "diag-cf-state",
                 "depends_on": [blob_id] + ([workspace_id] if workspace_id.lower().startswith(rg_id.lower()) else []),
                 "properties": {"workspaceId": workspace_id,
                                "logs": [{"category": c, "enabled": True}
                                         for c in ("StorageRead", "StorageWrite", "StorageDelete")],
                                "metrics": [{"category": "Transaction", "enabled": True}]}})
    plan.append(_assignment(account_id, subscription_id, STORAGE_BLOB_DATA_CONTRIBUTOR, principal, principal_type,
                            label))
    if runner_object_id:
        plan.append(_assignment(f"/subscriptions/{subscription_id}", subscription_id, READER, principal,
                                principal_type, label))
        plan[-1]["depends_on"] = []
        groups = [(f"rg-cf-{d}", region, (CONTRIBUTOR, RBAC_ADMINISTRATOR))
                  for d, region in sorted((runner_deployments or {}).items())]
        if groups:
            groups.append(("NetworkWatcherRG", groups[0][1], (CONTRIBUTOR,)))
        for group, region, roles in groups:
            group_id = f"/subscriptions/{subscription_id}/resourceGroups/{group}"
            plan.append({"id": group_id, "type": "Microsoft.Resources/resourceGroups", "name": group,
                         "location": region, "manage": "create"})
            plan.extend(_assignment(group_id, subscription_id, role, principal, principal_type, label)
                        for role in roles)
    return plan
