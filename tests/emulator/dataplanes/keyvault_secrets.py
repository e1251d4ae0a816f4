"""Key Vault secrets data plane (REST api-version 7.x and the dated versions azure-keyvault-secrets 4.x sends).

Written from the Key Vault data-plane REST reference (Azure/azure-rest-api-specs,
specification/keyvault/data-plane, secrets.json and its examples) and the Key Vault documentation on soft delete.

What the core does before calling :meth:`KeyVaultSecretsPlane.handle`: route ``<vaultUri><subpath>`` to the vault,
answer the bearer challenge, validate the token and apply RBAC or access policies. This class knows nothing of
callers or permissions; it only knows vaults by name and the secrets in them.

Behaviour modelled, as Key Vault does it:

- Names are 1-127 characters of ``0-9 a-z A-Z -`` and case-insensitive (the first casing is kept in ids).
- Every set creates a new version (32 hex characters); GET without a version returns the latest one.
- A disabled version cannot be read (403 ``Forbidden`` with inner code ``SecretDisabled``), but it is listed and
  its attributes can be updated.
- DELETE is a soft delete: the secret moves to ``deletedsecrets`` with ``recoveryId``, ``deletedDate`` and
  ``scheduledPurgeDate`` (deleted date + the vault's retention days). While it is there the name cannot be set
  again (409 ``Conflict``); it can be recovered or purged. Purge is refused on a vault with purge protection.
  Deleted secrets whose scheduled purge date has passed disappear, as Key Vault purges them.
- Lists are paged with ``maxresults`` (1-25, default 25) and a ``nextLink`` carrying an opaque ``$skiptoken``.
- A soft-deleted vault keeps its secrets but answers nothing; recovering the vault brings them back; purging it
  destroys them.

Persistence: one JSON file per vault under ``state_dir/keyvault/``, rewritten atomically on every change, so a
restarted emulator serves the same secrets.

Certificates (create with a Self issuer, get, import; their managed secrets) are served by the same vault state,
from dataplanes/keyvault_certificates.py.

Known gaps: backup/restore of secrets and the ``previousVersion`` field are not modelled (501 ``NotImplemented``
for backup/restore).
"""

from __future__ import annotations

import base64
import binascii
import copy
import datetime as dt
import json
import os
import pathlib
import re
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from . import keyvault_certificates as certs

# The api-versions azure-keyvault-secrets 4.x knows; Key Vault refuses others.
SUPPORTED_API_VERSIONS = frozenset(
    {"2016-10-01", "7.0", "7.1", "7.2", "7.3", "7.4", "7.5", "7.6", "2025-07-01", "2026-04-01"}
)
SECRET_NAME_RE = re.compile(r"^[0-9a-zA-Z-]{1,127}$")
VERSION_RE = re.compile(r"^[0-9a-fA-F]{32}$")
# Key Vault limits: secret value 25 KB, 15 tags per object, tag names 512 and values 256 characters.
MAX_VALUE_BYTES = 25 * 1024
MAX_TAGS = 15
MAX_TAG_NAME = 512
MAX_TAG_VALUE = 256
MAX_CONTENT_TYPE = 255
DEFAULT_PAGE_SIZE = 25
DEFAULT_RECOVERABLE_DAYS = 90

JSON_HEADERS = {"Content-Type": "application/json; charset=utf-8"}

Response = tuple[int, dict[str, str], bytes]


class _KvError(Exception):
    """An error Key Vault answers with its JSON error body."""

    def __init__(self, status: int, code: str, message: str, inner_code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.inner_code = inner_code

    def response(self) -> Response:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.inner_code:
            error["innererror"] = {"code": self.inner_code}
        return self.status, dict(JSON_HEADERS), json.dumps({"error": error}).encode()


def _not_found(name: str) -> _KvError:
    return _KvError(
        404,
        "SecretNotFound",
        f"A secret with (name/id) {name} was not found in this key vault. "
        "If you recently deleted this secret you may be able to recover it using the correct "
        "recovery command.",
    )


def _deleted_not_found(name: str) -> _KvError:
    return _KvError(404, "SecretNotFound", f"Deleted Secret not found: {name}")


def _bad(message: str) -> _KvError:
    return _KvError(400, "BadParameter", message)


def recovery_level(recoverable_days: int, purge_protection: bool) -> str:
    """The DeletionRecoveryLevel Key Vault reports for a vault's retention settings."""
    prefix = "Recoverable" if recoverable_days >= DEFAULT_RECOVERABLE_DAYS else "CustomizedRecoverable"
    return prefix if purge_protection else f"{prefix}+Purgeable"


class KeyVaultSecretsPlane:
    """Secrets of every emulated vault, served the way the Key Vault REST API serves them."""

    def __init__(self, state_dir: pathlib.Path, *, clock: Callable[[], float] = time.time) -> None:
        self._dir = pathlib.Path(state_dir) / "keyvault"
        self._dir.mkdir(parents=True, exist_ok=True)
        self._clock = clock
        self._lock = threading.RLock()
        self._vaults: dict[str, dict[str, Any]] = {}

    # ----------------------------------------------------------------------------------------- vault lifecycle
    def configure_vault(
        self, vault_name: str, *, recoverable_days: int = DEFAULT_RECOVERABLE_DAYS, purge_protection: bool = False
    ) -> None:
        """Record the vault's softDeleteRetentionInDays and enablePurgeProtection (optional; defaults as Azure)."""
        with self._lock:
            vault = self._vault(vault_name, create=True)
            vault["recoverable_days"] = int(recoverable_days)
            vault["purge_protection"] = bool(purge_protection)
            self._save(vault)

    def vault_deleted(self, vault_name: str) -> None:
        with self._lock:
            vault = self._vault(vault_name, create=True)
            vault["deleted"] = True
            self._save(vault)

    def vault_recovered(self, vault_name: str) -> None:
        with self._lock:
            vault = self._vault(vault_name, create=True)
            vault["deleted"] = False
            self._save(vault)

    def vault_purged(self, vault_name: str) -> None:
        with self._lock:
            key = vault_name.lower()
            self._vaults.pop(key, None)
            self._path(key).unlink(missing_ok=True)

    # ----------------------------------------------------------------------------------------------- requests
    def handle(
        self, vault_name: str, method: str, subpath: str, query: dict[str, str], body: bytes | None, base_url: str
    ) -> Response:
        """Answer one data-plane request; ``subpath`` is relative to ``base_url`` (which ends with ``/``)."""
        if not base_url.endswith("/"):
            base_url += "/"
        try:
            with self._lock:
                return self._dispatch(vault_name, method.upper(), subpath, query, body, base_url)
        except _KvError as err:
            return err.response()

    def _dispatch(
        self, vault_name: str, method: str, subpath: str, query: dict[str, str], body: bytes | None, base_url: str
    ) -> Response:
        api_version = query.get("api-version")
        if not api_version:
            raise _bad("The 'api-version' query parameter is required.")
        if api_version not in SUPPORTED_API_VERSIONS:
            raise _bad(
                f"The specified version ({api_version}) is not recognized. "
                "Consider using the latest supported version (7.6)."
            )
        vault = self._vault(vault_name, create=True)
        if vault["deleted"]:
            # A soft-deleted vault's DNS name no longer answers; the core should not route here at all.
            raise _KvError(404, "VaultNotFound", f"The vault {vault_name} is deleted.")
        self._expire_deleted(vault)
        # The SDK asks for the latest version as ``secrets/<name>/`` (empty version): same as no version.
        parts = list(subpath.strip("/").split("/"))
        ctx = _Request(vault, method, parts, query, body, base_url, api_version)
        head = parts[0].lower() if parts else ""
        if head == "secrets":
            return self._secrets_route(ctx)
        if head == "deletedsecrets":
            return self._deleted_route(ctx)
        if head == "certificates":
            return self._certificates_route(ctx)
        raise _KvError(404, "NotFound", f"The requested resource {subpath!r} is not found.")

    def _secrets_route(self, ctx: _Request) -> Response:
        parts, method = ctx.parts, ctx.method
        if len(parts) == 1:
            if method == "GET":
                return self._list_secrets(ctx)
            raise _method_not_allowed(method)
        name = parts[1]
        if len(parts) == 2:
            if name.lower() == "restore" and method == "POST":
                raise _KvError(501, "NotImplemented", "The emulator does not implement secret restore.")
            if method == "PUT":
                return self._set_secret(ctx, name)
            if method == "GET":
                return self._get_secret(ctx, name, "")
            if method == "PATCH":
                return self._update_secret(ctx, name, "")
            if method == "DELETE":
                return self._delete_secret(ctx, name)
            raise _method_not_allowed(method)
        if len(parts) == 3:
            tail = parts[2]
            if tail.lower() == "versions" and method == "GET":
                return self._list_versions(ctx, name)
            if tail.lower() == "backup" and method == "POST":
                raise _KvError(501, "NotImplemented", "The emulator does not implement secret backup.")
            if method == "GET":
                return self._get_secret(ctx, name, tail)
            if method == "PATCH":
                return self._update_secret(ctx, name, tail)
            raise _method_not_allowed(method)
        raise _KvError(404, "NotFound", "The requested resource is not found.")

    def _deleted_route(self, ctx: _Request) -> Response:
        parts, method = ctx.parts, ctx.method
        if len(parts) == 1 and method == "GET":
            return self._list_deleted(ctx)
        if len(parts) == 2:
            if method == "GET":
                return self._get_deleted(ctx, parts[1])
            if method == "DELETE":
                return self._purge(ctx, parts[1])
        if len(parts) == 3 and parts[2].lower() == "recover" and method == "POST":
            return self._recover(ctx, parts[1])
        raise _method_not_allowed(method)

    # ------------------------------------------------------------------------------------------- certificates
    def _certificates_route(self, ctx: _Request) -> Response:
        """Create (Self issuer), pending operation, get and import (dataplanes/keyvault_certificates.py)."""
        parts, method = ctx.parts, ctx.method
        if len(parts) < 2:
            raise _method_not_allowed(method)
        name = parts[1]
        if not SECRET_NAME_RE.match(name):
            raise _bad(f"The request URI contains an invalid name: {name}")
        tail = parts[2].lower() if len(parts) > 2 else ""
        try:
            if tail == "create" and method == "POST":
                return self._create_certificate(ctx, name)
            if tail == "import" and method == "POST":
                return self._import_certificate(ctx, name)
            if tail == "pending" and method == "GET":
                pending = (ctx.vault.get("certificates", {}).get(name.lower()) or {}).get("pending")
                if not pending:
                    raise _KvError(404, "PendingCertificateNotFound", f"Pending certificate not found: {name}")
                return _ok(certs.operation(ctx.base_url, name, pending["issuer"], pending["request_id"], True))
            if tail in ("", "latest") or VERSION_RE.match(tail):
                if method != "GET":
                    raise _method_not_allowed(method)
                entry = ctx.vault.get("certificates", {}).get(name.lower())
                if not entry or not entry["versions"]:
                    raise certs.not_found(name)
                version = entry["versions"][-1] if tail in ("", "latest") else next(
                    (v for v in entry["versions"] if v["version"] == tail), None)
                if version is None:
                    raise certs.not_found(f"{name}/{tail}")
                return _ok(certs.bundle(ctx.base_url, entry["name"], version, self._recovery(ctx.vault)))
        except certs.CertificateError as err:
            raise _KvError(err.status, err.code, err.message) from err
        raise _KvError(404, "NotFound", "The requested resource is not found.")

    def _recovery(self, vault: dict[str, Any]) -> dict[str, Any]:
        return {"recoverableDays": vault["recoverable_days"],
                "recoveryLevel": recovery_level(vault["recoverable_days"], vault["purge_protection"])}

    def _store_certificate(self, ctx: _Request, name: str, key: Any, cert: Any, chain: list[Any],
                           policy: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
        tags = _tags(payload)
        enabled = _attributes(payload.get("attributes")).get("enabled", True)
        secret_entry = ctx.vault["secrets"].get(name.lower())
        if secret_entry and secret_entry["deleted"]:
            raise _KvError(409, "Conflict", f"Certificate {name} is currently in a deleted but recoverable state, "
                           "and its name cannot be reused; in this state, the certificate can only be recovered "
                           "or purged.")
        if secret_entry and secret_entry["versions"] and not secret_entry["versions"][-1].get("managed"):
            raise _KvError(409, "Conflict", f"There is already a secret named {name} that no certificate manages.")
        now = int(self._clock())
        version = certs.version_record(cert, policy, tags, now, enabled)
        entry = ctx.vault.setdefault("certificates", {}).setdefault(
            name.lower(), {"name": name, "versions": [], "pending": None})
        entry["versions"].append(version)
        if secret_entry is None:
            secret_entry = {"name": name, "versions": [], "deleted": None}
            ctx.vault["secrets"][name.lower()] = secret_entry
        content_type = policy["secret_props"]["contentType"]
        secret_entry["versions"].append({
            "version": version["version"],
            "value": certs.secret_value(key, cert, chain, content_type, name),
            "contentType": content_type,
            "tags": tags,
            "managed": True,
            "kid": f"{ctx.base_url}keys/{name}/{version['version']}",
            "attributes": {"enabled": enabled, "nbf": version["nbf"], "exp": version["exp"], "created": now,
                           "updated": now},
        })
        return entry

    def _create_certificate(self, ctx: _Request, name: str) -> Response:
        payload = _json_body(ctx.body)
        policy = certs.normalise_policy(payload.get("policy"), imported=False)
        key, cert = certs.issue_self_signed(policy, dt.datetime.now(dt.UTC))
        entry = self._store_certificate(ctx, name, key, cert, [], policy, payload)
        entry["pending"] = {"issuer": "Self", "request_id": uuid.uuid4().hex}
        self._save(ctx.vault)
        body = certs.operation(ctx.base_url, entry["name"], "Self", entry["pending"]["request_id"], False)
        headers = {**JSON_HEADERS, "Location": f"{ctx.base_url}certificates/{name}/pending?api-version={ctx.api_version}",
                   "Retry-After": "1"}
        return 202, headers, json.dumps(body).encode()

    def _import_certificate(self, ctx: _Request, name: str) -> Response:
        payload = _json_body(ctx.body)
        key, cert, chain = certs.load_import(payload.get("value"), payload.get("pwd"))
        policy = certs.normalise_policy(payload.get("policy"), imported=True)
        subject = cert.subject.rfc4514_string()
        policy.setdefault("x509_props", {}).setdefault("subject", ",".join(reversed(subject.split(","))))
        entry = self._store_certificate(ctx, name, key, cert, chain, policy, payload)
        self._save(ctx.vault)
        return _ok(certs.bundle(ctx.base_url, entry["name"], entry["versions"][-1], self._recovery(ctx.vault)))

    # ------------------------------------------------------------------------------------------- operations
    def _set_secret(self, ctx: _Request, name: str) -> Response:
        if not SECRET_NAME_RE.match(name):
            raise _bad(f"The request URI contains an invalid name: {name}")
        payload = _json_body(ctx.body)
        value = payload.get("value")
        if not isinstance(value, str):
            raise _bad("Property 'value' is required and must be a string.")
        if len(value.encode()) > MAX_VALUE_BYTES:
            raise _bad(f"Secret value is too large: the maximum size is {MAX_VALUE_BYTES} bytes.")
        content_type = _content_type(payload)
        tags = _tags(payload)
        attributes = _attributes(payload.get("attributes"))
        entry = ctx.vault["secrets"].get(name.lower())
        if entry and entry["deleted"]:
            raise _KvError(
                409,
                "Conflict",
                f"Secret {entry['name']} is currently in a deleted but recoverable "
                "state, and its name cannot be reused; in this state, the secret can only be "
                "recovered or purged.",
            )
        if entry is None:
            entry = {"name": name, "versions": [], "deleted": None}
            ctx.vault["secrets"][name.lower()] = entry
        now = int(self._clock())
        version = {
            "version": uuid.uuid4().hex,
            "value": value,
            "contentType": content_type,
            "tags": tags,
            "attributes": {"enabled": True, **attributes, "created": now, "updated": now},
        }
        entry["versions"].append(version)
        self._save(ctx.vault)
        return _ok(self._bundle(ctx, entry, version, with_value=True))

    def _get_secret(self, ctx: _Request, name: str, version_id: str) -> Response:
        entry = self._live_entry(ctx.vault, name)
        version = _find_version(entry, name, version_id)
        if not version["attributes"].get("enabled", True):
            raise _KvError(403, "Forbidden", "Operation get is not allowed on a disabled secret.", "SecretDisabled")
        return _ok(self._bundle(ctx, entry, version, with_value=True))

    def _update_secret(self, ctx: _Request, name: str, version_id: str) -> Response:
        entry = self._live_entry(ctx.vault, name)
        version = _find_version(entry, name, version_id)
        payload = _json_body(ctx.body)
        if "contentType" in payload:
            version["contentType"] = _content_type(payload)
        if "tags" in payload:
            version["tags"] = _tags(payload)
        if payload.get("attributes") is not None:
            version["attributes"].update(_attributes(payload["attributes"]))
        version["attributes"]["updated"] = int(self._clock())
        self._save(ctx.vault)
        return _ok(self._bundle(ctx, entry, version, with_value=False))

    def _delete_secret(self, ctx: _Request, name: str) -> Response:
        entry = self._live_entry(ctx.vault, name)
        now = int(self._clock())
        entry["deleted"] = {
            "deletedDate": now,
            "scheduledPurgeDate": now + ctx.vault["recoverable_days"] * 86400,
        }
        self._save(ctx.vault)
        return _ok(self._deleted_bundle(ctx, entry))

    def _get_deleted(self, ctx: _Request, name: str) -> Response:
        return _ok(self._deleted_bundle(ctx, self._deleted_entry(ctx.vault, name)))

    def _purge(self, ctx: _Request, name: str) -> Response:
        entry = self._deleted_entry(ctx.vault, name)
        if ctx.vault["purge_protection"]:
            raise _KvError(
                403,
                "Forbidden",
                'Operation "purge" is not allowed because purge protection is '
                "enabled for this vault. Key Vault service will automatically purge it after the "
                "retention period has passed.",
            )
        del ctx.vault["secrets"][entry["name"].lower()]
        self._save(ctx.vault)
        return 204, {}, b""

    def _recover(self, ctx: _Request, name: str) -> Response:
        entry = self._deleted_entry(ctx.vault, name)
        entry["deleted"] = None
        self._save(ctx.vault)
        return _ok(self._bundle(ctx, entry, entry["versions"][-1], with_value=False))

    def _list_secrets(self, ctx: _Request) -> Response:
        live = [e for e in ctx.vault["secrets"].values() if not e["deleted"]]
        return self._page(ctx, "secrets", live, lambda e: self._item(ctx, e, e["versions"][-1], versioned=False))

    def _list_versions(self, ctx: _Request, name: str) -> Response:
        entry = ctx.vault["secrets"].get(name.lower())
        # Key Vault answers an empty list, not 404, for the versions of a secret it does not have.
        versions = entry["versions"] if entry and not entry["deleted"] else []
        # Key Vault lists versions in the order of their ids, not of their creation.
        keyed = [{"name": v["version"], "_entry": entry, "_version": v} for v in versions]
        path = f"secrets/{quote(entry['name'] if entry else name)}/versions"
        return self._page(ctx, path, keyed, lambda k: self._item(ctx, k["_entry"], k["_version"], versioned=True))

    def _list_deleted(self, ctx: _Request) -> Response:
        deleted = [e for e in ctx.vault["secrets"].values() if e["deleted"]]
        return self._page(ctx, "deletedsecrets", deleted, lambda e: self._deleted_item(ctx, e))

    # ------------------------------------------------------------------------------------------------ shapes
    def _page(
        self,
        ctx: _Request,
        path: str,
        entries: list[dict[str, Any]],
        render: Callable[[dict[str, Any]], dict[str, Any]],
    ) -> Response:
        size = _page_size(ctx.query.get("maxresults"))
        ordered = sorted(entries, key=lambda e: e["name"].lower())
        # The token remembers the last name served, not an offset: creates and deletes between pages neither
        # repeat nor skip the names that stay.
        after = _decode_skiptoken(ctx.query.get("$skiptoken"))
        if after is not None:
            ordered = [e for e in ordered if e["name"].lower() > after]
        page = ordered[:size]
        body: dict[str, Any] = {"value": [render(e) for e in page], "nextLink": None}
        if len(ordered) > size:
            cursor = json.dumps({"after": page[-1]["name"].lower()}).encode()
            token = base64.urlsafe_b64encode(cursor).decode().rstrip("=")
            body["nextLink"] = (
                f"{ctx.base_url}{path}?api-version={ctx.api_version}&$skiptoken={token}&maxresults={size}"
            )
        return _ok(body)

    def _attributes_out(self, vault: dict[str, Any], version: dict[str, Any]) -> dict[str, Any]:
        attrs = {k: v for k, v in version["attributes"].items() if v is not None}
        attrs["recoverableDays"] = vault["recoverable_days"]
        attrs["recoveryLevel"] = recovery_level(vault["recoverable_days"], vault["purge_protection"])
        return attrs

    def _common(self, ctx: _Request, entry: dict[str, Any], version: dict[str, Any], sid: str) -> dict[str, Any]:
        out: dict[str, Any] = {"id": sid, "attributes": self._attributes_out(ctx.vault, version)}
        if version.get("contentType") is not None:
            out["contentType"] = version["contentType"]
        if version.get("tags"):
            out["tags"] = dict(version["tags"])
        if version.get("managed"):
            # The secret of a certificate: Key Vault marks it managed and names the certificate's key.
            out["managed"] = True
            out["kid"] = version["kid"]
        return out

    def _bundle(
        self, ctx: _Request, entry: dict[str, Any], version: dict[str, Any], *, with_value: bool
    ) -> dict[str, Any]:
        sid = f"{ctx.base_url}secrets/{entry['name']}/{version['version']}"
        out = self._common(ctx, entry, version, sid)
        if with_value:
            out = {"value": version["value"], **out}
        return out

    def _item(
        self, ctx: _Request, entry: dict[str, Any], version: dict[str, Any], *, versioned: bool
    ) -> dict[str, Any]:
        sid = f"{ctx.base_url}secrets/{entry['name']}"
        if versioned:
            sid += f"/{version['version']}"
        return self._common(ctx, entry, version, sid)

    def _deleted_fields(self, ctx: _Request, entry: dict[str, Any]) -> dict[str, Any]:
        return {
            "recoveryId": f"{ctx.base_url}deletedsecrets/{entry['name']}",
            "deletedDate": entry["deleted"]["deletedDate"],
            "scheduledPurgeDate": entry["deleted"]["scheduledPurgeDate"],
        }

    def _deleted_bundle(self, ctx: _Request, entry: dict[str, Any]) -> dict[str, Any]:
        return {**self._deleted_fields(ctx, entry), **self._bundle(ctx, entry, entry["versions"][-1], with_value=False)}

    def _deleted_item(self, ctx: _Request, entry: dict[str, Any]) -> dict[str, Any]:
        return {**self._deleted_fields(ctx, entry), **self._item(ctx, entry, entry["versions"][-1], versioned=False)}

    # ----------------------------------------------------------------------------------------------- storage
    def _live_entry(self, vault: dict[str, Any], name: str) -> dict[str, Any]:
        entry = vault["secrets"].get(name.lower())
        if entry is None or entry["deleted"]:
            raise _not_found(name)
        return entry

    def _deleted_entry(self, vault: dict[str, Any], name: str) -> dict[str, Any]:
        entry = vault["secrets"].get(name.lower())
        if entry is None or not entry["deleted"]:
            raise _deleted_not_found(name)
        return entry

    def _expire_deleted(self, vault: dict[str, Any]) -> None:
        """Drop deleted secrets past their scheduled purge date, as Key Vault's own purge does."""
        now = self._clock()
        expired = [k for k, e in vault["secrets"].items() if e["deleted"] and e["deleted"]["scheduledPurgeDate"] <= now]
        for key in expired:
            del vault["secrets"][key]
        if expired:
            self._save(vault)

    def _path(self, key: str) -> pathlib.Path:
        return self._dir / f"{key}.json"

    def _vault(self, vault_name: str, *, create: bool) -> dict[str, Any]:
        key = vault_name.lower()
        vault = self._vaults.get(key)
        if vault is not None:
            return vault
        path = self._path(key)
        if path.exists():
            vault = json.loads(path.read_text(encoding="utf-8"))
        elif create:
            vault = {
                "name": vault_name,
                "deleted": False,
                "recoverable_days": DEFAULT_RECOVERABLE_DAYS,
                "purge_protection": False,
                "secrets": {},
            }
        else:
            raise KeyError(vault_name)
        self._vaults[key] = vault
        return vault

    def _save(self, vault: dict[str, Any]) -> None:
        path = self._path(vault["name"].lower())
        tmp = path.with_suffix(".json.tmp")
        # Secret values are stored in clear, like any emulator state: keep the file private to its owner.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(vault, handle)
        os.replace(tmp, path)

    def secret_exists(self, vault_name: str, name: str) -> bool:
        """Whether a live (not deleted) secret of that name is in the vault: an ARM scope role assignments can name."""
        with self._lock:
            try:
                vault = self._vault(vault_name, create=False)
            except KeyError:
                return False
            entry = vault["secrets"].get(name.lower())
            return entry is not None and not entry["deleted"]

    def snapshot(self, vault_name: str) -> dict[str, Any]:
        """A deep copy of one vault's stored state, for the admin API and tests."""
        with self._lock:
            return copy.deepcopy(self._vault(vault_name, create=True))


class _Request:
    __slots__ = ("api_version", "base_url", "body", "method", "parts", "query", "vault")

    def __init__(
        self,
        vault: dict[str, Any],
        method: str,
        parts: list[str],
        query: dict[str, str],
        body: bytes | None,
        base_url: str,
        api_version: str,
    ) -> None:
        self.vault = vault
        self.method = method
        self.parts = parts
        self.query = query
        self.body = body
        self.base_url = base_url
        self.api_version = api_version


def _method_not_allowed(method: str) -> _KvError:
    return _KvError(405, "MethodNotAllowed", f"The requested method {method} is not allowed on this resource.")


def _ok(body: dict[str, Any]) -> Response:
    return 200, dict(JSON_HEADERS), json.dumps(body).encode()


def _json_body(body: bytes | None) -> dict[str, Any]:
    if not body:
        raise _bad("The request body is required.")
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError) as err:
        raise _bad(f"The request body is not valid JSON: {err}") from err
    if not isinstance(payload, dict):
        raise _bad("The request body must be a JSON object.")
    return payload


def _content_type(payload: dict[str, Any]) -> str | None:
    value = payload.get("contentType")
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > MAX_CONTENT_TYPE:
        raise _bad(f"Property 'contentType' must be a string of at most {MAX_CONTENT_TYPE} characters.")
    return value


def _tags(payload: dict[str, Any]) -> dict[str, str]:
    tags = payload.get("tags") or {}
    if not isinstance(tags, dict):
        raise _bad("Property 'tags' must be an object.")
    if len(tags) > MAX_TAGS:
        raise _bad(f"Too many tags: at most {MAX_TAGS} tags are allowed.")
    for key, value in tags.items():
        if not isinstance(value, str):
            raise _bad(f"Tag {key!r} must have a string value.")
        if len(key) > MAX_TAG_NAME or len(value) > MAX_TAG_VALUE:
            raise _bad(
                f"Tag {key!r} is too long: names are limited to {MAX_TAG_NAME} "
                f"and values to {MAX_TAG_VALUE} characters."
            )
    return {str(k): v for k, v in tags.items()}


def _attributes(raw: Any) -> dict[str, Any]:
    """The client-settable attributes (enabled, nbf, exp); created/updated/recovery fields are read-only."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise _bad("Property 'attributes' must be an object.")
    out: dict[str, Any] = {}
    if "enabled" in raw and raw["enabled"] is not None:
        if not isinstance(raw["enabled"], bool):
            raise _bad("Attribute 'enabled' must be a boolean.")
        out["enabled"] = raw["enabled"]
    for field in ("nbf", "exp"):
        if field in raw and raw[field] is not None:
            if isinstance(raw[field], bool) or not isinstance(raw[field], int):
                raise _bad(f"Attribute '{field}' must be a unix time in seconds.")
            out[field] = raw[field]
    if "nbf" in out and "exp" in out and out["nbf"] > out["exp"]:
        raise _bad("Attribute 'nbf' must not be later than 'exp'.")
    return out


def _find_version(entry: dict[str, Any], name: str, version_id: str) -> dict[str, Any]:
    if not version_id:
        return entry["versions"][-1]
    if VERSION_RE.match(version_id):
        for version in entry["versions"]:
            if version["version"] == version_id.lower():
                return version
    raise _not_found(f"{name}/{version_id}")


def _page_size(raw: str | None) -> int:
    if raw is None or raw == "":
        return DEFAULT_PAGE_SIZE
    try:
        size = int(raw)
    except ValueError as err:
        raise _bad(f"Invalid maxresults: {raw}") from err
    if not 1 <= size <= DEFAULT_PAGE_SIZE:
        raise _bad(f"maxresults must be between 1 and {DEFAULT_PAGE_SIZE}, got {size}.")
    return size


def _decode_skiptoken(raw: str | None) -> str | None:
    if not raw:
        return None
    try:
        padded = raw + "=" * (-len(raw) % 4)
        after = json.loads(base64.urlsafe_b64decode(padded))["after"]
    except (ValueError, KeyError, TypeError, binascii.Error) as err:
        raise _bad("The $skiptoken is invalid.") from err
    if not isinstance(after, str):
        raise _bad("The $skiptoken is invalid.")
    return after
