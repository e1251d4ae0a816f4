# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The batch engine: reconcile a list of planned ARM resources in one process.

One credential and token, one connection pool; every resource read in parallel (a bounded pool); the
differences decided per type by the registry (resource_types.py); writes in dependency waves (a resource
after everything it depends on), the long-running operations of a wave polled together; check mode and
--diff per resource; a result per resource. A failed resource does not hide the others: the wave finishes,
then the run stops naming every failure with Azure's code.

Planned resources are the deployment model's entries (``id``, ``type``, ``depends_on`` and the ARM body:
``location``, ``tags``, ``properties``, ``sku``, ``kind``, ``zones``...). Values only known at run time are
placeholders in the plan, ``<runtime:NAME>`` or ``<runtime:NAME:ARGUMENT>``, resolved here (see
:class:`RuntimeValues`); a secret value resolved here is sent, never returned or shown.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from ansible_collections.complianceflow.azure_infra.plugins.module_utils import reconcile as rec
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.arm_client import ArmClient, AzureApiError
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.key_vault_data import (
    KeyVaultError,
    SecretsClient,
    generate_secret,
)
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.resource_types import (
    ResourceType,
    UnknownResourceType,
    compare_rules,
    resource_type,
    type_of_id,
)

RUNTIME_RE = re.compile(r"^<runtime:([a-z][a-z0-9-]*)(?::(.+))?>$")
# Public values may also stand inside a longer string (a connection-string template naming the server's FQDN).
EMBEDDED_RE = re.compile(r"<runtime:public-property:([^<>]+)>")
RUNTIME_ANY_RE = re.compile(r"<runtime:([a-z][a-z0-9-]*)(?::[^<>]*)?>")
# What marks a planned ID that holds a run-time value.
DEFERRED_MARK = "<runtime:"
# Plan fields that describe the entry rather than the ARM body.
META_KEYS = frozenset({"id", "type", "name", "depends_on", "api_version", "role", "manage", "state", "publish"})
# Runtime values that cost a request or read a secret: resolved only when a write needs them.
LAZY_VALUES = frozenset({"storage-connection-string", "key-vault-secret"})
SECRET_TYPE = "Microsoft.KeyVault/vaults/secrets"
CERTIFICATE_TYPE = "Microsoft.KeyVault/vaults/certificates"
IDENTITY_TYPE = "Microsoft.ManagedIdentity/userAssignedIdentities"
ROLE_ASSIGNMENT_TYPE = "Microsoft.Authorization/roleAssignments"
ENGINE_ERRORS = (AzureApiError, KeyVaultError)


class PlanError(ValueError):
    """A planned resource list the engine cannot run (told before any API call)."""


def body_of(entry: Mapping[str, Any]) -> dict[str, Any]:
    """The ARM body of a planned entry: everything but the entry's own fields, without unset values."""
    return {k: copy.deepcopy(v) for k, v in entry.items() if k not in META_KEYS and v is not None}


def _paths_with_placeholders(value: Any, path: str = "") -> list[tuple[str, str, str | None]]:
    found: list[tuple[str, str, str | None]] = []
    if isinstance(value, dict):
        for k, v in value.items():
            found.extend(_paths_with_placeholders(v, f"{path}.{k}" if path else k))
    elif isinstance(value, list):
        for v in value:
            found.extend(_paths_with_placeholders(v, f"{path}[]"))
    elif isinstance(value, str):
        match = RUNTIME_RE.match(value)
        if match:
            found.append((path, match.group(1), match.group(2)))
    return found


def parent_id(resource_id: str) -> str | None:
    """The ID of a child resource's parent (``.../vaults/v/secrets/s`` -> ``.../vaults/v``), else None."""
    parts = resource_id.rstrip("/").split("/")
    lowered = [p.lower() for p in parts]
    if "providers" not in lowered:
        return None
    index = len(lowered) - 1 - lowered[::-1].index("providers")
    if len(parts) - index - 2 <= 2:
        # <namespace>/<type>/<name>: a top-level resource (or an extension resource of its scope).
        return None
    return "/".join(parts[:-2])


def collection_of(resource_id: str) -> str:
    """The collection a resource is listed in: its ID without the name."""
    return resource_id.rstrip("/").rsplit("/", 1)[0]


def top_level_group(resource_id: str) -> str | None:
    """The resource group of a top-level resource (``.../resourceGroups/g/providers/ns/type/name``), else None."""
    parts = resource_id.strip("/").split("/")
    if len(parts) == 8 and parts[2].lower() == "resourcegroups" and parts[4].lower() == "providers":
        return "/" + "/".join(parts[:4])
    return None


@dataclass
class Item:
    """One planned resource and what the run decided and did about it."""

    id: str
    type: str
    rtype: ResourceType
    body: dict[str, Any]
    depends_on: list[str]
    present: bool = True
    create_only_entry: bool = False
    actual: dict[str, Any] | None = None
    action: str = ""
    differences: list[str] = field(default_factory=list)
    message: str = ""
    error: dict[str, Any] | None = None
    recover_from: str | None = None
    level: int = 0
    # The planned entry's role, and the options that apply to it (the run's, or its role's in ``role_options``).
    role: str = ""
    options: Options | None = None
    # Key Vault secrets (data plane): the vault's URI, whether a soft-deleted secret waits, the value to write.
    vault_uri: str | None = None
    deleted: bool = False
    disabled: bool = False
    new_value: str | None = None
    # A secret whose value holds no secret (the outputs document): its value is returned, never masked.
    publish: bool = False
    published: Any = None

    @property
    def key(self) -> str:
        return self.id.lower()

    def result(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "type": self.type, "name": self.id.rstrip("/").rsplit("/", 1)[-1],
                               "action": self.action, "differences": list(self.differences)}
        if self.message:
            out["message"] = self.message
        if self.error:
            out["error"] = self.error
        if self.published is not None:
            out["value"] = self.published
        return out


class RuntimeValues:
    """Values the plan leaves to run time, by placeholder name.

    ``tenant-id`` and ``principal-id`` come from the caller's token (or ``given``), ``month-start`` is the first
    day of the current month, ``storage-connection-string:<account id>`` is built from the account's keys,
    ``key-vault-secret:<secret id>`` is read from the vault, ``workspace-customer-id:<workspace id>`` is the
    workspace's GUID; any other name must be ``given`` by the caller (a role). Secret values are reported to
    ``on_secret`` so that Ansible masks them wherever they could surface.
    """

    def __init__(self, client: ArmClient, given: Mapping[str, Any] | None = None,
                 on_secret: Callable[[str], None] = lambda _value: None, verify: bool = True) -> None:
        self.client = client
        self.given = dict(given or {})
        self.on_secret = on_secret
        self.verify = verify
        self._cache: dict[tuple[str, str | None], Any] = {}
        self._lock = threading.Lock()
        self._identity: dict[str, str] | None = None
        # What the run has already read of a resource (the engine's reads of planned resources), or None: a
        # property of a planned resource then costs no request of its own.
        self.known: Callable[[str], dict[str, Any] | None] = lambda _resource_id: None

    def _read(self, resource_id: str) -> dict[str, Any] | None:
        found = self.known(resource_id)
        if found is not None:
            return found
        return self.client.get(resource_id, resource_type(type_of_id(resource_id)).api_version)

    def _caller(self) -> dict[str, str]:
        if self._identity is None:
            from ansible_collections.complianceflow.azure_infra.plugins.module_utils.key_vault_data import (
                caller_identity,
            )

            self._identity = caller_identity(self.client.credential, self.client.scopes[0])
        return self._identity

    def get(self, name: str, argument: str | None, check_mode: bool = False) -> Any:
        key = (name, argument)
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        value = self._resolve(name, argument, check_mode)
        if not (isinstance(value, str) and RUNTIME_RE.match(value)):
            # An unresolved value (what it comes from is created later in this run) is asked again at write time.
            with self._lock:
                self._cache[key] = value
        return value

    def _resolve(self, name: str, argument: str | None, check_mode: bool) -> Any:
        if self.given.get(name) not in (None, ""):
            return arm_case(self.given[name])
        if name == "tenant-id":
            return self._caller()["tenant_id"]
        if name == "principal-id":
            principal = self._caller()["object_id"]
            if not principal:
                raise PlanError("the caller's token has no object id (oid): give the runner's principal id")
            return principal
        if name == "principal-type":
            # Entra ID marks app-only tokens idtyp=app; a user's token (az login) has none or idtyp=user.
            return "User" if self._caller().get("token_type") == "user" else "ServicePrincipal"
        if name == "month-start":
            today = dt.datetime.now(dt.UTC).date()
            return f"{today.replace(day=1).isoformat()}T00:00:00Z"
        if name == "month-start-plus-years" and str(argument or "").isdigit():
            # An end date Azure requires (a scheduled action's), a whole number of years after this month's start.
            first = dt.datetime.now(dt.UTC).date().replace(day=1)
            return f"{first.replace(year=first.year + int(str(argument))).isoformat()}T00:00:00Z"
        if name == "workspace-customer-id" and argument:
            workspace = self._read(argument)
            value = ((workspace or {}).get("properties") or {}).get("customerId")
            return value or f"<runtime:{name}:{argument}>"
        if name == "list-keys" and argument:
            source, field_name = argument.rsplit(":", 1)
            try:
                keys = self.client.post(f"{source}/listKeys", resource_type(type_of_id(source)).api_version) or {}
            except AzureApiError as exc:
                if exc.status == 404:
                    return f"<runtime:{name}:{argument}>"
                raise
            return self._secret(keys.get(field_name), name, argument)
        if name in ("property", "public-property") and argument:
            source, path = argument.rsplit(":", 1)
            found = self._read(source)
            value = rec._get_path(found, path) if found else None
            if name == "public-property":
                # Not a secret (an identity's principal id, a host name): shown in results and diffs.
                return value if value not in (None, "") else f"<runtime:{name}:{argument}>"
            return self._secret(value, name, argument)
        if name == "storage-connection-string" and argument:
            return self._storage_connection_string(argument)
        if name == "key-vault-secret" and argument:
            return self._key_vault_secret(argument)
        raise PlanError(f"no value for the plan's run-time placeholder <runtime:{name}>: the role must give it")

    def _secret(self, value: Any, name: str, argument: str) -> str:
        if not value:
            # What the value comes from does not exist yet (created later in this run, or only predicted).
            return f"<runtime:{name}:{argument}>"
        self.on_secret(str(value))
        return str(value)

    def _storage_connection_string(self, account_id: str) -> str:
        api = resource_type("Microsoft.Storage/storageAccounts").api_version
        account = self.client.get(account_id, api)
        if account is None:
            raise AzureApiError(None, "DependencyMissing", f"storage account {account_id} does not exist",
                                account_id, "GET")
        keys = self.client.post(f"{account_id}/listKeys", api) or {}
        values = [k.get("value") for k in keys.get("keys") or [] if k.get("value")]
        if not values:
            raise AzureApiError(None, "NoKeys", f"storage account {account_id} returned no keys (is shared key "
                                "access disabled?)", account_id, "POST")
        self.on_secret(values[0])
        blob = ((account.get("properties") or {}).get("primaryEndpoints") or {}).get("blob")
        name = account_id.rstrip("/").rsplit("/", 1)[-1]
        value = f"DefaultEndpointsProtocol=https;BlobEndpoint={blob};AccountName={name};AccountKey={values[0]}"
        self.on_secret(value)
        return value

    def _key_vault_secret(self, secret_id: str) -> str:
        from ansible_collections.complianceflow.azure_infra.plugins.module_utils.key_vault_data import SecretsClient

        vault_id = parent_id(secret_id) or ""
        vault = self.client.get(vault_id, resource_type("Microsoft.KeyVault/vaults").api_version)
        vault_uri = ((vault or {}).get("properties") or {}).get("vaultUri")
        if not vault_uri:
            raise AzureApiError(None, "DependencyMissing", f"Key Vault {vault_id} does not exist", secret_id, "GET")
        name = secret_id.rstrip("/").rsplit("/", 1)[-1]
        secret = SecretsClient(vault_uri, self.client.credential, verify=self.verify).get(name)
        if not secret or not secret.get("value"):
            raise AzureApiError(None, "SecretMissing", f"secret {name} is missing in {vault_uri} (the keyvault role "
                                "creates it)", secret_id, "GET")
        self.on_secret(str(secret["value"]))
        return str(secret["value"])


# The options a role may set for its own resources in one run of several roles (``role_options``).
ROLE_OPTIONS = ("purge_tags", "partial_lists", "purge_children", "missing_dependencies", "restart",
                "recover_soft_deleted", "purge_identities", "keep_identities")


@dataclass
class Options:
    check_mode: bool = False
    diff: bool = False
    timeout: float = 1800.0
    parallel: int = 8
    purge_tags: bool = True
    # type (lower case) -> extra keyed-list paths whose undeclared items are kept
    partial_lists: Mapping[str, Iterable[str]] = field(default_factory=dict)
    # child collection names (registry ``children``) whose unplanned items are deleted
    purge_children: Iterable[str] = ()
    # "fail": let Azure refuse a write whose dependency is missing; "skip": leave such a resource out and say so
    missing_dependencies: str = "fail"
    restart: bool = True
    recover_soft_deleted: bool = True
    # Managed identities of the planned resource groups that the plan no longer lists (a service that left the
    # registry) are deleted, with every role assignment under those groups that names a purged or planned identity
    # and is not planned itself.
    purge_identities: bool = False
    # Identities the deployment plans for other purposes (the gateway's), outside this run's slice: never purged,
    # and neither are their grants.
    keep_identities: Iterable[str] = ()


class Engine:
    """Run one batch of planned resources against ARM."""

    def __init__(self, client: ArmClient, entries: list[Mapping[str, Any]], options: Options,
                 runtime: RuntimeValues, role_options: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self.client = client
        self.options = options
        self.runtime = runtime
        self.role_options = dict(role_options or {})
        # Entries whose ID holds a run-time value (a zone named after an environment's default domain): kept
        # aside and reconciled after the rest of the plan, once what they name exists (:meth:`_run_deferred`).
        self.deferred = [dict(e) for e in entries if DEFERRED_MARK in str(e.get("id") or "")]
        self.items = self._items([e for e in entries if DEFERRED_MARK not in str(e.get("id") or "")])
        self._check_deferred()
        self._apply_role_options(self.role_options)
        self.by_key = {i.key: i for i in self.items}
        self._lock = threading.Lock()
        self.restarted: list[str] = []
        # Per-run caches: collections read once, one vault URI lookup, one secrets client per vault (and the lock
        # its first request holds), the unplanned children a purge deletes.
        self._collections: dict[str, list[dict[str, Any]] | None] = {}
        self._vault_uris: dict[str, str] = {}
        self._vault_gates: dict[str, threading.Lock] = {}
        self._secret_clients: dict[str, SecretsClient] = {}
        self._first_requests: dict[str, threading.Lock] = {}
        self._purged: list[Item] = []
        self.sleep: Callable[[float], None] = time.sleep
        self.before: dict[str, Any] = {}
        self.after: dict[str, Any] = {}
        self._levels()

    # --- validation (no API call) ------------------------------------------------------------------------
    def _check_deferred(self) -> None:
        problems = []
        for entry in self.deferred:
            rid = str(entry.get("id"))
            for found in RUNTIME_ANY_RE.finditer(rid):
                if found.group(1) != "public-property":
                    problems.append(f"{rid}: only <runtime:public-property:...> may stand in an ID")
        # A planned resource that waits for a deferred one would wait for a second pass: refused.
        for item in self.items:
            if any(DEFERRED_MARK in d for d in item.depends_on):
                problems.append(f"{item.id}: depends on a resource whose ID is only known at run time")
        if problems:
            raise PlanError("; ".join(problems))

    def _apply_role_options(self, role_options: Mapping[str, Mapping[str, Any]]) -> None:
        """Each item gets the run's options, with its role's overrides when ``role_options`` names its role."""
        allowed = set(ROLE_OPTIONS)
        by_role: dict[str, Options] = {}
        problems = []
        for role, overrides in role_options.items():
            unknown = sorted(set(overrides) - allowed)
            if unknown:
                problems.append(f"role_options.{role}: unknown option(s) {', '.join(unknown)} "
                                f"(one of {', '.join(ROLE_OPTIONS)})")
                continue
            values = dict(overrides)
            if "partial_lists" in values:
                values["partial_lists"] = {str(k).lower(): list(v or []) for k, v in values["partial_lists"].items()}
            if values.get("missing_dependencies", "fail") not in ("fail", "skip"):
                problems.append(f"role_options.{role}.missing_dependencies must be fail or skip")
                continue
            by_role[role] = replace(self.options, **values)
        if problems:
            raise PlanError("; ".join(problems))
        for item in self.items:
            item.options = by_role.get(item.role, self.options)

    def _items(self, entries: list[Mapping[str, Any]]) -> list[Item]:
        items: list[Item] = []
        problems: list[str] = []
        seen: set[str] = set()
        for index, entry in enumerate(entries):
            rid = str(entry.get("id") or "")
            label = rid or f"resources[{index}]"
            if not rid.startswith("/subscriptions/"):
                problems.append(f"{label}: id must be a full resource ID (/subscriptions/...)")
                continue
            if rid.lower() in seen:
                problems.append(f"{rid}: planned twice")
                continue
            seen.add(rid.lower())
            try:
                rtype = resource_type(str(entry.get("type") or type_of_id(rid)))
            except UnknownResourceType as exc:
                problems.append(f"{rid}: {exc}")
                continue
            if entry.get("api_version") and str(entry["api_version"]) != rtype.api_version:
                problems.append(f"{rid}: api_version {entry['api_version']} differs from the registry's "
                                f"{rtype.api_version} for {rtype.type}")
            state = str(entry.get("state") or "present")
            if state not in ("present", "absent"):
                problems.append(f"{rid}: state must be present or absent, not {state!r}")
            body = body_of(entry)
            for path, name, _argument in _paths_with_placeholders(body):
                if name in LAZY_VALUES and not rec.under(path, rtype.write_only):
                    problems.append(f"{rid}: <runtime:{name}> may only stand in a write-only path, not {path}")
            depends = [str(d) for d in entry.get("depends_on") or []]
            for path, name, argument in _paths_with_placeholders(body):
                if name == "expires-in-days" and (rtype.type != SECRET_TYPE or path != "properties.attributes.exp"
                                                  or not str(argument or "").isdigit() or int(str(argument)) < 1):
                    problems.append(f"{rid}: <runtime:expires-in-days:DAYS> stands in a Key Vault secret's "
                                    f"properties.attributes.exp with a whole number of days, not {path}")
            if entry.get("publish") and rtype.type != SECRET_TYPE:
                problems.append(f"{rid}: publish applies to Key Vault secrets only")
            items.append(Item(rid, rtype.type, rtype, body, [d.lower() for d in depends], present=state == "present",
                              create_only_entry=entry.get("manage") == "create", role=str(entry.get("role") or ""),
                              options=self.options, publish=bool(entry.get("publish"))))
        if problems:
            raise PlanError("; ".join(problems))
        return items

    def _levels(self) -> None:
        """Dependency waves: level 0 has no planned dependency; a child also waits for a planned parent."""
        keys = set(self.by_key)
        deps: dict[str, set[str]] = {}
        for item in self.items:
            wanted = {d for d in item.depends_on if d in keys and d != item.key}
            parent = parent_id(item.id)
            if parent and parent.lower() in keys:
                wanted.add(parent.lower())
            deps[item.key] = wanted
        level: dict[str, int] = {}
        remaining = dict(deps)
        current = 0
        while remaining:
            ready = [k for k, d in remaining.items() if all(x in level for x in d)]
            if not ready:
                raise PlanError("the planned dependencies form a cycle: " + ", ".join(sorted(remaining)))
            for k in ready:
                level[k] = current
                del remaining[k]
            current += 1
        for item in self.items:
            item.level = level[item.key]
        self._deps = deps

    # --- helpers -------------------------------------------------------------------------------------------
    def _opts(self, item: Item) -> Options:
        return item.options or self.options

    def _rules(self, item: Item) -> Any:
        opts = self._opts(item)
        return compare_rules(item.rtype, purge_tags=opts.purge_tags,
                             partial_lists=opts.partial_lists.get(item.rtype.type.lower(), ()))

    def _pool(self) -> ThreadPoolExecutor:
        return ThreadPoolExecutor(max_workers=max(1, int(self.options.parallel)))

    def _fail(self, item: Item, exc: Exception) -> None:
        item.action = "failed"
        if isinstance(exc, ENGINE_ERRORS):
            item.error = exc.as_dict()
            item.message = f"{exc.code}: {exc.message}"
        else:
            item.error = {"code": type(exc).__name__, "message": str(exc)}
            item.message = str(exc)

    def _resolve(self, value: Any, eager_only: bool, skip: tuple[str, ...] = (), path: str = "") -> Any:
        """The body with its placeholders replaced (the lazy ones too unless ``eager_only``)."""
        if isinstance(value, dict):
            return {k: self._resolve(v, eager_only, skip, f"{path}.{k}" if path else k) for k, v in value.items()}
        if isinstance(value, list):
            return [self._resolve(v, eager_only, skip, f"{path}[]") for v in value]
        if isinstance(value, str):
            match = RUNTIME_RE.match(value)
            if match and not (eager_only and (match.group(1) in LAZY_VALUES or rec.under(path, skip))):
                return self.runtime.get(match.group(1), match.group(2), self.options.check_mode)
            if not match and "<runtime:public-property:" in value:
                return EMBEDDED_RE.sub(
                    lambda m: str(self.runtime.get("public-property", m.group(1), self.options.check_mode)), value)
        return value

    # --- read ----------------------------------------------------------------------------------------------
    def read(self) -> None:
        """Read every planned resource: siblings of a listable type with one LIST of their collection, the rest
        with a GET each; the first request alone, so that one token serves the parallel rest."""
        if not self.items:
            return
        groups: dict[str, list[Item]] = {}
        for item in self.items:
            if item.rtype.list_read and item.present:
                groups.setdefault(collection_of(item.id).lower(), []).append(item)
        listed = {path: members for path, members in groups.items() if len(members) > 1}
        in_lists = {i.key for members in listed.values() for i in members}
        singles = [i for i in self.items if i.key not in in_lists]
        jobs: list[Callable[[], None]] = [lambda i=i: self._read_one(i) for i in singles]
        jobs += [lambda p=p, m=m: self._read_collection(p, m) for p, m in listed.items()]
        jobs[0]()
        with self._pool() as pool:
            list(pool.map(lambda job: job(), jobs[1:]))

    def _list(self, path: str, api: str) -> list[dict[str, Any]] | None:
        """A collection's items, read once per run (None when its parent does not exist)."""
        with self._lock:
            cache = self._collections
            if path.lower() in cache:
                return cache[path.lower()]
        try:
            items: list[dict[str, Any]] | None = self.client.list(path, api)
        except AzureApiError as exc:
            if exc.status != 404:
                raise
            items = None
        with self._lock:
            cache[path.lower()] = items
        return items

    def _read_collection(self, path: str, members: list[Item]) -> None:
        try:
            listed = self._list(path, members[0].rtype.api_version)
        except ENGINE_ERRORS as exc:
            for item in members:
                self._fail(item, exc)
            return
        found = {str(r.get("id", "")).lower(): r for r in listed or []}
        for item in members:
            item.actual = found.get(item.key)

    def _read_one(self, item: Item) -> None:
        try:
            if item.type == SECRET_TYPE:
                self._read_secret(item)
                return
            if item.type == CERTIFICATE_TYPE:
                self._read_certificate(item)
                return
            item.actual = self.client.get(item.id, item.rtype.api_version)
            if item.actual is None and item.present and item.rtype.type == "Microsoft.KeyVault/vaults" \
                    and self._opts(item).recover_soft_deleted:
                item.recover_from = self._deleted_vault(item)
        except (*ENGINE_ERRORS, PlanError) as exc:
            self._fail(item, exc)

    # --- Key Vault secrets: the vault's data plane, one client per vault ------------------------------------
    def _vault_uri(self, vault_id: str) -> str | None:
        with self._lock:
            cache = self._vault_uris
            gate = self._vault_gates.setdefault(vault_id.lower(), threading.Lock())
        with gate:
            # One GET per vault, however many of its secrets are read at once.
            if vault_id.lower() in cache:
                return cache[vault_id.lower()]
            vault = self.client.get(vault_id, resource_type("Microsoft.KeyVault/vaults").api_version)
            uri = ((vault or {}).get("properties") or {}).get("vaultUri") or None
            if uri:
                # A vault this run creates is looked up again when its secrets are written.
                cache[vault_id.lower()] = uri
            return uri

    def _secrets_client(self, item: Item) -> tuple[SecretsClient, threading.Lock | None]:
        """One client (one token, one connection pool) per vault; the lock returned with a new client makes its
        first request go alone, so that one Key Vault challenge and token serve the parallel rest."""
        uri = str(item.vault_uri)
        with self._lock:
            clients = self._secret_clients
            if uri in clients:
                return clients[uri], None
            client = SecretsClient(uri, self.client.credential, verify=self.client.verify, rbac_wait=self._rbac_wait())
            first = threading.Lock()
            first.acquire()
            clients[uri] = client
            self._first_requests[uri] = first
            return client, first

    def _read_secret(self, item: Item) -> None:
        item.vault_uri = self._vault_uri(parent_id(item.id) or "")
        if not item.vault_uri:
            return
        client, first = self._secrets_client(item)
        name = item.id.rstrip("/").rsplit("/", 1)[-1]
        if first is None:
            gate = self._first_requests[str(item.vault_uri)]
            with gate:
                pass
        try:
            item.actual = client.get(name)
        except KeyVaultError as exc:
            if exc.code == "SecretDisabled":
                # Someone disabled it: nothing can read it (the services neither); the plan has it enabled.
                item.disabled = True
                item.actual = None
                return
            if not self._read_after_vault_write(item, exc):
                raise
            return
        finally:
            if first is not None:
                first.release()
        if item.actual is None:
            item.deleted = client.get_deleted(name) is not None
        elif item.actual.get("value") and not item.publish:
            self.runtime.on_secret(str(item.actual["value"]))

    def _read_after_vault_write(self, item: Item, exc: KeyVaultError) -> bool:
        """Whether a secret or certificate the vault's firewall refused to show is read again after the vault's write.

        The vault is planned in this run, and its planned network rules may be what lets the runner in
        (keyvault_runner_ip_ranges): the entry is then read again, and decided, after the vault's write; if the vault
        stays as it is, that read fails the same way."""
        vault = self.by_key.get((parent_id(item.id) or "").lower())
        if not (exc.code == "ForbiddenByFirewall" and vault is not None and vault.present):
            return False
        item.vault_uri = None
        return True

    # --- Key Vault certificates: issued (a policy with a Self or CA issuer) or imported once, never re-issued ------
    def _read_certificate(self, item: Item) -> None:
        item.vault_uri = self._vault_uri(parent_id(item.id) or "")
        if not item.vault_uri:
            return
        client, first = self._secrets_client(item)
        if first is None:
            with self._first_requests[str(item.vault_uri)]:
                pass
        try:
            item.actual = client.get_certificate(item.id.rstrip("/").rsplit("/", 1)[-1])
        except KeyVaultError as exc:
            if not self._read_after_vault_write(item, exc):
                raise
        finally:
            if first is not None:
                first.release()

    def _decide_certificate(self, item: Item) -> None:
        """A certificate that exists is left as it is: its policy renews it, and a second run must not issue a new
        version (the gateway would switch certificates on every run). A missing one is created or imported."""
        if item.actual is not None:
            item.action = "unchanged"
            return
        vault = (parent_id(item.id) or "").lower()
        if not item.vault_uri and not self.options.check_mode and (
                vault not in self.by_key or self.by_key[vault].action not in ("create", "update", "unchanged")):
            item.action = "skipped"
            item.message = f"waits for Key Vault {vault.rsplit('/', 1)[-1]} (the keyvault role creates it)"
            return
        props = item.body.get("properties") or {}
        item.action = "create"
        item.differences = ["(import)" if "value" in props else "(create)"]
        self._record(item, {}, {"properties": rec.masked(props, ("value", "pwd"))})

    def _write_certificate(self, item: Item) -> None:
        if not item.vault_uri:
            item.vault_uri = self._vault_uri(parent_id(item.id) or "")
        client, first = self._secrets_client(item)
        if first is not None:
            first.release()
        name = item.id.rstrip("/").rsplit("/", 1)[-1]
        if item.actual is None:
            item.actual = client.get_certificate(name)
            if item.actual is not None:
                # There all along: the vault was written in this run and the certificate read only now (a new
                # vault recovered with it, or a firewall that let the runner in only after the vault's write).
                item.action, item.differences = "unchanged", []
                return
        props = item.body.get("properties") or {}
        policy = props.get("policy") or {}
        tags = item.body.get("tags")
        if "value" in props:
            value = self._resolve(props.get("value"), eager_only=False)
            password = self._resolve(props.get("pwd"), eager_only=False)
            if RUNTIME_RE.match(str(value)) or RUNTIME_RE.match(str(password or "")):
                raise PlanError(f"no certificate to import into {item.id}: the keyvault role gives it "
                                "(keyvault_gateway_certificate_pfx and keyvault_gateway_certificate_password)")
            client.import_certificate(name, str(value), None if password is None else str(password), policy, tags)
            return
        client.create_certificate(name, policy, tags, timeout=float(self.options.timeout or 600))

    def _decide_secret(self, item: Item) -> None:
        name = item.id.rstrip("/").rsplit("/", 1)[-1]
        props = item.body.get("properties") or {}
        spec = RUNTIME_RE.match(str(props.get("value") or ""))
        if not item.vault_uri and not self.options.check_mode:
            vault = (parent_id(item.id) or "").lower()
            if vault not in self.by_key or self.by_key[vault].action not in ("create", "update", "unchanged"):
                item.action = "skipped"
                item.message = f"waits for Key Vault {vault.rsplit('/', 1)[-1]} (the keyvault role creates it)"
                return
        if item.disabled:
            item.action = "update"
            item.differences = ["attributes.enabled"]
            self._record(item, {"attributes": {"enabled": False}}, {"attributes": {"enabled": True}})
            return
        generated = spec is not None and spec.group(1) == "generate"
        rotate = self.runtime.given.get("rotate") or []
        rotate = [rotate] if isinstance(rotate, str) else list(rotate)
        current = item.actual
        wanted_value: Any = None
        if generated:
            if current is None or name in rotate:
                kind = spec.group(2) or "password"
                length = int(self.runtime.given.get("password-length" if kind == "password" else "signing-key-bytes")
                             or (40 if kind == "password" else 64))
                item.new_value = generate_secret(kind, length)
                self.runtime.on_secret(item.new_value)
        else:
            wanted_value = secret_text(self._resolve(props.get("value"), eager_only=True))
            if item.publish and not RUNTIME_RE.match(str(wanted_value)):
                item.published = json.loads(wanted_value)
        paths: list[str] = []
        tags = item.body.get("tags")
        content_type = props.get("contentType")
        if current is None:
            item.action = "create"
            paths = ["(recover)" if item.deleted else "(create)"]
        else:
            if generated and item.new_value is not None:
                paths.append("properties.value")
            if not generated and wanted_value != current.get("value"):
                paths.append("properties.value")
                if not (isinstance(wanted_value, str) and RUNTIME_RE.match(wanted_value)):
                    item.new_value = wanted_value
            if content_type is not None and content_type != current.get("contentType"):
                paths.append("properties.contentType")
            if tags is not None:
                rules = rec.CompareRules.of(exact_maps=["tags"] if self._opts(item).purge_tags else [])
                paths += rec.differences({"tags": tags}, {"tags": current.get("tags") or {}}, rules=rules)
            if "properties.value" not in paths and secret_expiry_change(secret_expiry_days(props), current, False):
                paths.append("properties.attributes.exp")
            item.action = "update" if paths else "unchanged"
        if current is None and not generated and not (isinstance(wanted_value, str) and RUNTIME_RE.match(wanted_value)):
            item.new_value = wanted_value
        item.differences = paths
        if paths:
            shown_before = {} if current is None else {"tags": current.get("tags") or {}, "properties": {
                "contentType": current.get("contentType"), "value": "(unchanged)"}}
            shown_after = {"tags": tags, "properties": {"contentType": content_type, "value": (
                "(new value)" if "properties.value" in paths or current is None else "(unchanged)")}}
            days = secret_expiry_days(props)
            if secret_expiry_change(days, current, "properties.value" in paths):
                if current is not None:
                    shown_before["properties"]["attributes"] = {"exp": (current.get("attributes") or {}).get("exp")}
                shown_after["properties"]["attributes"] = {"exp": f"(the write's time + {days} days)"}
            self._record(item, shown_before, shown_after)

    def _write_secret(self, item: Item) -> None:
        read_without_vault = not item.vault_uri
        if read_without_vault:
            item.vault_uri = self._vault_uri(parent_id(item.id) or "")
        client, first = self._secrets_client(item)
        if first is not None:
            first.release()
        name = item.id.rstrip("/").rsplit("/", 1)[-1]
        props = item.body.get("properties") or {}
        tags = item.body.get("tags")
        was_disabled = item.disabled
        if was_disabled:
            # Enable it, then decide on what it holds, as for any secret (a generated value is kept).
            client.enable(name)
            item.disabled = False
            read_without_vault = True
        if read_without_vault:
            # The vault was created or recovered in this run: a recovered vault brings its secrets back, and a
            # generated secret that is there again must keep its value. Decide again on what the vault now holds.
            item.actual = client.get(name)
            item.deleted = item.actual is None and client.get_deleted(name) is not None
            if item.actual is not None:
                if item.actual.get("value"):
                    self.runtime.on_secret(str(item.actual["value"]))
                item.new_value = None
                self._decide_secret(item)
                if was_disabled:
                    item.differences = ["attributes.enabled", *item.differences]
                    unchanged, item.action = item.action == "unchanged", "update"
                    if unchanged:
                        return
                if item.action == "unchanged":
                    return
        if item.actual is None and item.deleted:
            client.recover(name)
            item.actual = client.get(name)
            if item.new_value is None and item.actual is not None:
                # A recovered generated secret keeps its value; a derived one is compared again below.
                spec = RUNTIME_RE.match(str(props.get("value") or ""))
                if spec and spec.group(1) == "generate":
                    return
        if item.new_value is None and (item.actual is None or "properties.value" in item.differences):
            value = secret_text(self._resolve(props.get("value"), eager_only=False))
            if isinstance(value, str) and RUNTIME_RE.match(value):
                raise PlanError(f"no value at write time for {item.id} ({value})")
            item.new_value = value
            if item.publish:
                item.published = json.loads(value)
        days = secret_expiry_days(props)
        if item.new_value is not None:
            client.set(name, str(item.new_value), props.get("contentType"), tags,
                       expires=expiry_time(days) if days is not None else None)
        else:
            client.update_properties(str(item.actual["id"]), props.get("contentType"), tags,
                                     expires=expiry_time(days) if days is not None and secret_expiry_change(
                                         days, item.actual, False) else None)

    def _deleted_vault(self, item: Item) -> str | None:
        location = str(item.body.get("location") or "").replace(" ", "").lower()
        name = item.id.rstrip("/").rsplit("/", 1)[-1]
        deleted_id = (f"/subscriptions/{self.client.subscription_id}/providers/Microsoft.KeyVault/locations/"
                      f"{location}/deletedVaults/{name}")
        deleted = self.client.get(deleted_id, item.rtype.api_version)
        if deleted is None:
            return None
        owner = str((deleted.get("properties") or {}).get("vaultId") or item.id)
        if owner.lower() != item.key:
            raise PlanError(f"the soft-deleted vault {name} belonged to {owner}; recover it there, or purge it")
        return deleted_id

    def _missing_dependencies(self) -> None:
        """With ``missing_dependencies: skip``: leave out what depends on a resource that does not exist.

        Top-level resources of a resource group are looked up with one list of the group's resources; others
        (children, extension resources, other groups) with a GET each."""
        skipping = [i for i in self.items if self._opts(i).missing_dependencies == "skip"]
        outside = sorted({d for i in skipping for d in i.depends_on if d not in self.by_key})
        exists: dict[str, bool] = {}
        by_group: dict[str, list[str]] = {}
        for rid in outside:
            group = top_level_group(rid)
            if group:
                by_group.setdefault(group, []).append(rid)
        listed_groups = {g: ids for g, ids in by_group.items() if len(ids) > 2}

        def probe(rid: str) -> None:
            try:
                exists[rid] = self.client.get(rid, resource_type(type_of_id(rid)).api_version) is not None
            except (AzureApiError, UnknownResourceType):
                exists[rid] = False

        def probe_group(group: str) -> None:
            try:
                names = {str(r.get("id", "")).lower() for r in self._list(
                    f"{group}/resources", resource_type("Microsoft.Resources/resourceGroups").api_version) or []}
            except AzureApiError:
                names = set()
            for rid in listed_groups[group]:
                exists[rid] = rid in names

        singles = [r for r in outside if not any(r in ids for ids in listed_groups.values())]
        with self._pool() as pool:
            list(pool.map(probe, singles))
            list(pool.map(probe_group, listed_groups))
        for item in sorted(skipping, key=lambda i: i.level):
            if item.action:
                continue
            missing = [d for d in item.depends_on if (d in exists and not exists[d])
                       or (d in self.by_key and self.by_key[d].action == "skipped")]
            if missing:
                item.action = "skipped"
                item.message = "waits for " + ", ".join(m.rsplit("/", 1)[-1] for m in missing) + \
                    " (not created yet: run the role that creates it, then this one again)"

    # --- decide --------------------------------------------------------------------------------------------
    def decide(self) -> None:
        """Decide every resource; the resources of one dependency level at once (deciding may read run-time values,
        such as a key or a property, and a Key Vault secret looks at its vault's decision, one level up)."""
        if any(self._opts(i).missing_dependencies == "skip" for i in self.items):
            self._missing_dependencies()

        def decide_one(item: Item) -> None:
            try:
                self._decide_one(item)
            except (*ENGINE_ERRORS, PlanError) as exc:
                self._fail(item, exc)

        with self._pool() as pool:
            for level in sorted({i.level for i in self.items}):
                list(pool.map(decide_one, [i for i in self.items if i.level == level and not i.action]))

    def _decide_one(self, item: Item) -> None:
        rtype = item.rtype
        if item.type == SECRET_TYPE and item.present:
            self._decide_secret(item)
            return
        if item.type == CERTIFICATE_TYPE and item.present:
            self._decide_certificate(item)
            return
        if not item.present:
            item.action = "delete" if item.actual is not None else "unchanged"
            if item.actual is not None:
                item.differences = ["(delete)"]
                self._record(item, {k: item.actual[k] for k in ("id", "name", "type", "location", "tags")
                                    if k in item.actual}, {})
            return
        desired = self._resolve(item.body, eager_only=True, skip=rtype.write_only)
        shown = rec.masked(desired, rtype.write_only)
        if item.actual is None:
            item.action = "create"
            item.differences = ["(recover)" if item.recover_from else "(create)"]
            self._record(item, {}, shown)
            return
        if item.create_only_entry:
            item.action = "unchanged"
            return
        rules = self._rules(item)
        paths = rec.differences(desired, item.actual, rules=rules)
        if str((item.actual.get("properties") or {}).get("provisioningState", "")).lower() == "failed":
            # A resource whose last operation failed matches on paper but is not usable: write it once more.
            paths.append("properties.provisioningState")
        fixed = [p for p in paths if rec.under(rec.rule_path(p), rtype.create_only)]
        if fixed:
            raise PlanError("cannot change after creation (Azure would have to replace the resource): " +
                            ", ".join(f"{p} is {rec._get_path(item.actual, p)!r}, planned "
                                      f"{rec._get_path(desired, p)!r}" for p in fixed))
        item.differences = paths
        if not paths:
            item.action = "unchanged"
            return
        item.action = "update"
        predicted = rec.merge(item.actual, rec.without_paths(shown, rtype.create_only), rules=rules)
        diff = rec.diff_document(predicted, item.actual, [p for p in paths if p != "properties.provisioningState"])
        self._record(item, diff["before"], diff["after"])

    def _record(self, item: Item, before: Any, after: Any) -> None:
        if self.options.diff:
            with self._lock:
                self.before[item.id] = before
                self.after[item.id] = after

    # --- write ---------------------------------------------------------------------------------------------
    def _write_body(self, item: Item) -> tuple[str, dict[str, Any]]:
        rtype = item.rtype
        desired = self._resolve(item.body, eager_only=False)
        unresolved = _paths_with_placeholders(desired)
        if unresolved:
            raise PlanError("no value at write time for " + ", ".join(
                f"{path} (<runtime:{name}{':' + arg if arg else ''}>)" for path, name, arg in unresolved))
        if item.actual is None:
            return "PUT", desired
        kept = rec.without_paths(desired, (*rtype.create_only, *rtype.initial_only))
        rules = self._rules(item)
        if rtype.update == "PATCH":
            return "PATCH", kept
        return "PUT", rec.merge(rec.strip_read_only(item.actual, frozenset(rtype.read_only)), kept, rules=rules)

    def _write_one(self, item: Item) -> None:
        try:
            if item.action == "delete":
                self.client.delete(item.id, item.rtype.api_version, self.options.timeout)
                return
            if item.type == SECRET_TYPE:
                self._write_secret(item)
                return
            if item.type == CERTIFICATE_TYPE:
                self._write_certificate(item)
                return
            if item.recover_from:
                self._recover_vault(item)
            method, body = self._write_body(item)
            try:
                written = self._send(item, method, body)
            except AzureApiError:
                if not self._created_meanwhile(item):
                    raise
                return
            if item.rtype.restart and self._opts(item).restart \
                    and _truthy(rec._get_path(written, item.rtype.restart[0])):
                parent = parent_id(item.id)
                with self._lock:
                    if parent and parent not in self.restarted:
                        self.restarted.append(parent)
        except (*ENGINE_ERRORS, PlanError) as exc:
            self._fail(item, exc)

    def _send(self, item: Item, method: str, body: dict[str, Any]) -> Any:
        """Write ``item``; a refusal its type gives while a role assignment it needs is still propagating
        (``awaits_grants``) is retried for up to ``rbac-wait`` seconds, but only if this run has just created such
        a role assignment that the item depends on: anywhere else the same refusal is a real one and fails at once."""
        started = time.monotonic()
        attempt = 0
        while True:
            try:
                return self.client.write(method, item.id, item.rtype.api_version, body, self.options.timeout)
            except AzureApiError as exc:
                codes = {c.lower() for c in item.rtype.awaits_grants}
                grants = [self.by_key[d].id for d in sorted(self._deps[item.key])
                          if self.by_key[d].type == ROLE_ASSIGNMENT_TYPE and self.by_key[d].action == "create"] \
                    if exc.code.lower() in codes else []
                if not grants:
                    raise
                waited = time.monotonic() - started
                limit = self._rbac_wait()
                if waited >= limit:
                    raise AzureApiError(exc.status, exc.code, f"{exc.message} (still refused {waited:.0f} s after "
                                        f"this run created the role assignment(s) {', '.join(grants)}; Azure "
                                        "propagates role assignments in minutes: run again later)",
                                        exc.resource_id, exc.method) from exc
                attempt += 1
                self.sleep(min(5.0 * attempt, 30.0, max(limit - waited, 0.1)))

    def _rbac_wait(self) -> float:
        """Seconds to wait for a role assignment this run made to reach the service that checks it (runtime
        ``rbac-wait``, the keyvault role's ``keyvault_rbac_wait``; 0 waits not at all)."""
        given = self.runtime.given.get("rbac-wait") if self.runtime else None
        return 300.0 if given is None else float(given)

    def _created_meanwhile(self, item: Item) -> bool:
        """Whether a create-only entry (shared by deployments, like NetworkWatcherRG) that this run found missing
        was created by another run between our read and our write: Azure then refuses our create (a resource
        group in another region: InvalidResourceGroupLocation), and the entry's wish, that it exists, holds."""
        if not (item.create_only_entry and item.actual is None):
            return False
        try:
            found = self.client.get(item.id, item.rtype.api_version)
        except AzureApiError:
            return False
        if found is None:
            return False
        item.actual, item.action, item.differences = found, "unchanged", []
        item.message = "created meanwhile by another run"
        return True

    def _recover_vault(self, item: Item) -> None:
        props = self._resolve(item.body.get("properties") or {}, eager_only=True)
        body = {"location": item.body.get("location"),
                "properties": {"tenantId": props.get("tenantId"), "sku": props.get("sku"), "createMode": "recover"}}
        if item.body.get("tags") is not None:
            # Policies (a required tag) judge the recovering PUT like any other write.
            body["tags"] = item.body["tags"]
        item.actual = self.client.write("PUT", item.id, item.rtype.api_version, body, self.options.timeout)

    def _wave(self, items: list[Item]) -> None:
        serial: dict[str, list[Item]] = {}
        parallel: list[Item] = []
        for item in items:
            if item.rtype.serial_writes:
                serial.setdefault((parent_id(item.id) or item.id).lower(), []).append(item)
            else:
                parallel.append(item)

        def run_serial(group: list[Item]) -> None:
            for member in group:
                self._write_one(member)

        with self._pool() as pool:
            futures = [pool.submit(self._write_one, i) for i in parallel]
            futures += [pool.submit(run_serial, g) for g in serial.values()]
            for future in futures:
                future.result()

    def write(self) -> None:
        """Writes in dependency waves; deletions last, children before parents, except that a resource a planned
        one depends on (an endpoint that must leave a subnet before the subnet is delegated) is deleted in its own
        level's wave, before what waits for it. Stops after a failed wave."""
        if self.options.check_mode:
            return
        present = [i for i in self.items if i.present]
        awaited = {d for i in present for d in self._deps[i.key]}
        early = [i for i in self.items if not i.present and i.key in awaited]
        top = max((i.level for i in present + early), default=-1)
        for level in range(top + 1):
            wave = [i for i in present if i.level == level and i.action in ("create", "update")]
            wave += [i for i in early if i.level == level and i.action == "delete"]
            if wave:
                self._wave(wave)
            if any(i.action == "failed" for i in self.items):
                self._not_attempted(level)
                return
        if self.restarted:
            self._restart()
        self._purge_children()
        absent = [i for i in self.items if not i.present and i.action == "delete" and i not in early]
        for level in sorted({i.level for i in absent}, reverse=True):
            self._wave([i for i in absent if i.level == level])

    def _not_attempted(self, level: int) -> None:
        for item in self.items:
            if item.level > level and item.action in ("create", "update", "delete"):
                blocked = [d for d in self._deps[item.key] if self.by_key[d].action in ("failed", "not attempted")]
                item.message = ("waits for failed " + ", ".join(b.rsplit("/", 1)[-1] for b in blocked)) if blocked \
                    else "not attempted: an earlier wave failed"
                item.action = "not attempted"

    def _restart(self) -> None:
        def restart(parent: str) -> None:
            api = resource_type(type_of_id(parent)).api_version
            try:
                self.client.post(f"{parent}/restart", api, {}, self.options.timeout)
            except AzureApiError as exc:
                for item in self.items:
                    if parent_id(item.id) == parent and item.action in ("create", "update"):
                        self._fail(item, exc)

        with self._pool() as pool:
            list(pool.map(restart, self.restarted))

    # --- purge of unplanned children ---------------------------------------------------------------------
    def plan_purge(self) -> list[Item]:
        """Children of planned parents that the plan does not list (read only; deleted by :meth:`write`)."""
        jobs: list[tuple[Item, str, dict[str, Any]]] = []
        for item in self.items:
            if not item.present:
                continue
            wanted = set(self._opts(item).purge_children)
            for collection, spec in item.rtype.children.items():
                if collection in wanted and item.action != "create":
                    jobs.append((item, collection, spec))
        extra: list[Item] = []

        def list_children(job: tuple[Item, str, dict[str, Any]]) -> None:
            parent, collection, spec = job
            child_type = resource_type(spec["type"])
            try:
                listed = self._list(f"{parent.id}/{collection}", child_type.api_version) or []
            except ENGINE_ERRORS as exc:
                self._fail(parent, exc)
                return
            for child in listed:
                cid = str(child.get("id") or f"{parent.id}/{collection}/{child.get('name')}")
                name = cid.rstrip("/").rsplit("/", 1)[-1]
                if cid.lower() in self.by_key or name in spec.get("keep", ()):
                    continue
                doomed = Item(cid, child_type.type, child_type, {}, [], present=False, actual=child,
                              action="delete", differences=["(delete: not planned)"], level=parent.level + 1)
                self._record(doomed, {"name": name}, {})
                with self._lock:
                    extra.append(doomed)

        with self._pool() as pool:
            list(pool.map(list_children, jobs))
        self._purged = extra
        return extra

    def plan_purge_identities(self) -> list[Item]:
        """With ``purge_identities``: unplanned identities carrying this plan's ``deployment`` tag in the groups of
        the planned ones, and unplanned role assignments of any of the groups' identities (read only)."""
        planned = [i for i in self.items if i.type == IDENTITY_TYPE and i.present and self._opts(i).purge_identities]
        if not planned:
            return []
        identity_api = planned[0].rtype.api_version
        grant_type = resource_type(ROLE_ASSIGNMENT_TYPE)
        extra: list[Item] = []
        principals: dict[str, str] = {}
        kept = {str(k).lower() for i in planned for k in self._opts(i).keep_identities}
        for group in sorted({collection_of(i.id) for i in planned}):
            try:
                listed = self._list(group, identity_api) or []
            except ENGINE_ERRORS as exc:
                for item in planned:
                    self._fail(item, exc)
                return []
            tag = next((i.body.get("tags", {}).get("deployment") for i in planned if i.body.get("tags")), None)
            for found in listed:
                fid = str(found.get("id") or "")
                principal = str((found.get("properties") or {}).get("principalId") or "")
                if fid.lower() in kept and fid.lower() not in self.by_key:
                    continue
                if fid.lower() in self.by_key:
                    if principal:
                        principals[principal] = group
                    continue
                if tag is not None and (found.get("tags") or {}).get("deployment") != tag:
                    continue  # not this deployment's identity: never touched
                if principal:
                    principals[principal] = group
                doomed = Item(fid, IDENTITY_TYPE, planned[0].rtype, {}, [], present=False, actual=found,
                              action="delete", differences=["(delete: not planned)"], level=0)
                self._record(doomed, {"name": found.get("name")}, {})
                extra.append(doomed)

        def grants_of(principal: str, group: str) -> None:
            scope = group.split("/providers/", 1)[0]
            query = urllib.parse.quote(f"principalId eq '{principal}'")
            try:
                listed = self.client.list(f"{scope}/providers/{ROLE_ASSIGNMENT_TYPE}?$filter={query}",
                                          grant_type.api_version)
            except ENGINE_ERRORS as exc:
                for item in planned:
                    self._fail(item, exc)
                return
            for grant in listed or []:
                gid = str(grant.get("id") or "")
                if gid.lower() in self.by_key or not gid.lower().startswith(scope.lower() + "/"):
                    continue
                doomed = Item(gid, ROLE_ASSIGNMENT_TYPE, grant_type, {}, [], present=False, actual=grant,
                              action="delete", differences=["(delete: not planned)"], level=1)
                self._record(doomed, {"roleDefinitionId": (grant.get("properties") or {}).get("roleDefinitionId"),
                                      "principalId": principal}, {})
                with self._lock:
                    extra.append(doomed)

        # Only identities the plan keeps, and whose planned grants were read, have a known principal here.
        with self._pool() as pool:
            list(pool.map(lambda pair: grants_of(*pair), principals.items()))
        self._purged = self._purged + extra
        return extra

    def _purge_children(self) -> None:
        doomed = self._purged
        # Grants before the identities they name; children before their parents.
        for level in sorted({i.level for i in doomed}, reverse=True):
            self._wave([i for i in doomed if i.level == level])

    # --- the whole run ---------------------------------------------------------------------------------------
    def _known(self, resource_id: str) -> dict[str, Any] | None:
        """A planned resource as this run read it (None when not planned, not read yet, or missing)."""
        item = self.by_key.get(resource_id.lower())
        return item.actual if item is not None and item.type != SECRET_TYPE else None

    def _run_deferred(self) -> list[dict[str, Any]]:
        """The entries whose IDs name run-time values, once the rest of the plan is written: their placeholders
        filled in (what they name exists now), reconciled like any plan. In check mode, or when what they name
        failed or does not exist, they are reported skipped."""
        if not self.deferred:
            return []
        failed = any(i.action in ("failed", "not attempted") for i in self.items)
        resolved: list[dict[str, Any]] = []
        waiting: list[dict[str, Any]] = []
        for entry in self.deferred:
            filled = None if failed else self._fill_ids(entry)
            if filled is None:
                rid = str(entry.get("id"))
                message = ("its ID names a value of a resource that does not exist yet (created by this run when "
                           "not in check mode)")
                waiting.append({"id": rid, "type": str(entry.get("type") or ""),
                                "name": str(entry.get("name") or rid.rsplit("/", 1)[-1]), "action": "skipped",
                                "differences": [], "message": message})
            else:
                resolved.append(filled)
        if not resolved:
            return waiting
        later = Engine(self.client, resolved, self.options, self.runtime, self.role_options)
        outcome = later.run()
        self.restarted += [r for r in outcome["restarted"] if r not in self.restarted]
        self.before.update(later.before)
        self.after.update(later.after)
        return waiting + list(outcome["results"])

    def _fill_ids(self, entry: Mapping[str, Any]) -> dict[str, Any] | None:
        unresolved = False

        def fill(value: Any) -> Any:
            nonlocal unresolved
            if isinstance(value, str) and DEFERRED_MARK in value:
                def one(match: re.Match[str]) -> str:
                    nonlocal unresolved
                    got = self.runtime.get("public-property", match.group(1), self.options.check_mode)
                    if not isinstance(got, str) or RUNTIME_RE.match(got):
                        unresolved = True
                        return match.group(0)
                    return got
                return EMBEDDED_RE.sub(one, value)
            if isinstance(value, dict):
                return {k: fill(v) for k, v in value.items()}
            if isinstance(value, list):
                return [fill(v) for v in value]
            return value

        filled = fill(dict(entry))
        return None if unresolved else filled

    def run(self) -> dict[str, Any]:
        if self.runtime is not None:
            self.runtime.known = self._known
        self.read()
        self.decide()
        purged = self.plan_purge()
        purged += self.plan_purge_identities()
        self.write()
        later = self._run_deferred()
        everything = self.items + purged
        counts = dict.fromkeys(("create", "update", "delete", "unchanged", "skipped", "failed", "not attempted"), 0)
        for item in everything:
            counts[item.action] = counts.get(item.action, 0) + 1
        for result in later:
            counts[result["action"]] = counts.get(result["action"], 0) + 1
        changed = (any(i.action in ("create", "update", "delete") for i in everything)
                   or any(r["action"] in ("create", "update", "delete") for r in later) or bool(self.restarted))
        failed = [f"{i.id}: {i.message}" for i in everything if i.action == "failed"]
        failed += [f"{r['id']}: {r.get('message', '')}" for r in later if r["action"] == "failed"]
        return {"changed": changed, "results": [i.result() for i in everything] + later, "counts": counts,
                "restarted": list(self.restarted), "failed": failed}


def secret_expiry_days(properties: Mapping[str, Any]) -> int | None:
    """The validity a planned secret asks for (``attributes.exp: <runtime:expires-in-days:N>``), or None."""
    match = RUNTIME_RE.match(str((properties.get("attributes") or {}).get("exp") or ""))
    if match and match.group(1) == "expires-in-days" and str(match.group(2) or "").isdigit():
        return int(str(match.group(2)))
    return None


def secret_expiry_change(days: int | None, current: Mapping[str, Any] | None, value_written: bool) -> bool:
    """Whether a write sets a secret's expiry: every new value of an expiring secret gets one (a created, recovered
    into a new value, rotated or re-derived secret); an existing version without any expiry gets one once; an expiry
    already there is Azure's record of the rotation period (a hand extension included) and is left alone."""
    if days is None:
        return False
    if value_written or current is None:
        return True
    return not (current.get("attributes") or {}).get("exp")


def expiry_time(days: int, now: float | None = None) -> int:
    """``attributes.exp`` for a secret written now: Unix seconds, ``days`` from now."""
    start = dt.datetime.now(dt.UTC).timestamp() if now is None else now
    return int(start) + days * 86400


def secret_text(value: Any) -> Any:
    """A secret's value as the vault stores it: a document (dict or list) becomes stable JSON once every placeholder
    in it is resolved; while one is not, that placeholder stands for the whole value."""
    if not isinstance(value, (dict, list)):
        return value
    unresolved = _paths_with_placeholders(value)
    if unresolved:
        _path, name, argument = unresolved[0]
        return f"<runtime:{name}{':' + argument if argument else ''}>"
    text = json.dumps(value, indent=2, sort_keys=True)
    embedded = EMBEDDED_RE.search(text)
    return embedded.group(0) if embedded else text


def arm_case(value: Any) -> Any:
    """Given values may use Ansible's snake_case keys (``service_uri``); ARM bodies use camelCase (``serviceUri``)."""
    if isinstance(value, dict):
        return {re.sub(r"_([a-z])", lambda m: m.group(1).upper(), str(k)): arm_case(v) for k, v in value.items()}
    if isinstance(value, list):
        return [arm_case(v) for v in value]
    return value


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() == "true"
