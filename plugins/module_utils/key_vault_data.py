# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Key Vault secrets data plane (REST 7.4) and the caller's identity, for the keyvault and database modules.

The secrets API lives at the vault's own URI, not at ARM, and authenticates with a challenge: the first
unauthenticated request is answered 401 with the resource to ask a token for. A freshly granted RBAC role
takes minutes to reach the data plane in Azure, so 403 ForbiddenByRbac is retried for a bounded time.

Secret values pass through this module only as function arguments and return values; nothing here logs or
formats them into messages.
"""

from __future__ import annotations

import base64
import json
import re
import secrets as pysecrets
import string
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

SECRETS_API_VERSION = "7.4"
RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})

PASSWORD_CLASSES = (string.ascii_uppercase, string.ascii_lowercase, string.digits, "-_.~!#%^*+=")


class KeyVaultError(Exception):
    """A data-plane call that failed for good; carries Key Vault's code and the secret's URL (never a value)."""

    def __init__(self, status: int | None, code: str, message: str, url: str, method: str) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.url = url
        super().__init__(f"{method} {url}: {status or ''} {code}: {message}".replace("  ", " "))

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "code": self.code, "message": self.message, "url": self.url}


def token_claims(access_token: str) -> dict[str, Any]:
    """Claims of a JWT we obtained ourselves (no signature check: it is only read for tid/oid)."""
    try:
        payload = access_token.split(".")[1]
        payload += "=" * (-len(payload) % 4)
        claims = json.loads(base64.urlsafe_b64decode(payload.encode("ascii")))
    except (IndexError, ValueError) as exc:
        raise ValueError("the access token is not a JWT; cannot read the caller's tenant and object id") from exc
    return claims if isinstance(claims, dict) else {}


def caller_identity(credential: Any, scope: str) -> dict[str, str]:
    """Tenant and object id of whoever runs the play, from an ARM token's claims."""
    claims = token_claims(credential.get_token(scope).token)
    return {"tenant_id": str(claims.get("tid", "")), "object_id": str(claims.get("oid", "")),
            "app_id": str(claims.get("appid") or claims.get("azp") or ""),
            "token_type": str(claims.get("idtyp") or ("user" if claims.get("upn") or claims.get("scp") else "app"))}


def generate_secret(kind: str, length: int) -> str:
    """A new secret from the OS's cryptographic source.

    ``password``: ``length`` characters with at least one of each class (upper, lower, digit, symbol), which
    satisfies PostgreSQL's and Azure's complexity rules; the symbols avoid quoting trouble in connection
    strings. ``base64``: ``length`` random bytes, base64-encoded (signing keys).
    """
    if length < 32:
        raise ValueError("generated secrets are at least 32 characters (or bytes) long")
    if kind == "base64":
        return base64.b64encode(pysecrets.token_bytes(length)).decode("ascii")
    alphabet = "".join(PASSWORD_CLASSES)
    while True:
        candidate = "".join(pysecrets.choice(alphabet) for _position in range(length))
        if all(any(c in cls for c in candidate) for cls in PASSWORD_CLASSES) and candidate[0].isalnum():
            return candidate


def _parse_challenge(header: str) -> str | None:
    """The token scope a Key Vault 401 challenge asks for (``resource`` or ``scope`` parameter)."""
    params = dict(re.findall(r'(\w+)="([^"]*)"', header or ""))
    if params.get("scope"):
        return params["scope"]
    if params.get("resource"):
        return params["resource"].rstrip("/") + "/.default"
    return None


class SecretsClient:
    """Minimal Key Vault secrets client over ``requests`` (a dependency of azure-core)."""

    def __init__(self, vault_uri: str, credential: Any, verify: bool = True, rbac_wait: float = 300.0,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.vault_uri = vault_uri if vault_uri.endswith("/") else vault_uri + "/"
        self.credential = credential
        self.verify = verify
        self.rbac_wait = rbac_wait
        self.sleep = sleep
        self._scope: str | None = None
        self._token: str | None = None
        self._session: Any = None

    def _url(self, path: str) -> str:
        if path.startswith(("https://", "http://")):
            return path  # a nextLink: it carries its own api-version and skip token
        return f"{self.vault_uri}{path}?api-version={SECRETS_API_VERSION}"

    def _send(self, method: str, path: str, body: Any = None, ok: tuple[int, ...] = (200,)) -> tuple[int, Any]:
        import requests

        if self._session is None:
            self._session = requests.Session()
        url = self._url(path)
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            headers = {"Accept": "application/json"}
            if self._token:
                headers["Authorization"] = f"Bearer {self._token}"
            if body is not None:
                headers["Content-Type"] = "application/json"
            try:
                response = self._session.request(method, url, headers=headers, verify=self.verify, timeout=60,
                                                 data=None if body is None else json.dumps(body))
            except requests.RequestException as exc:
                if attempt >= 5:
                    raise KeyVaultError(None, "ConnectionError", str(exc), url.split("?")[0], method) from exc
                self.sleep(min(2 ** attempt, 15))
                continue
            status = response.status_code
            try:
                parsed = response.json() if response.content else None
            except ValueError:
                parsed = None
            if status == 401 and attempt <= 2:
                scope = _parse_challenge(response.headers.get("WWW-Authenticate", ""))
                if scope:
                    if self._token and hasattr(self.credential, "forget"):
                        # The token we sent (from the shared cache) was refused: do not get it back again.
                        self.credential.forget()
                    # The vault URI comes from ARM (the vault's own record), so its challenge is trusted.
                    self._scope = scope
                    self._token = self.credential.get_token(scope).token
                    continue
            if status in ok:
                return status, parsed
            error = (parsed or {}).get("error") if isinstance(parsed, dict) else None
            error = error if isinstance(error, dict) else {}
            inner = (error.get("innererror") or {}).get("code") if isinstance(error.get("innererror"), dict) else None
            code = str(inner or error.get("code") or f"HTTP{status}")
            message = str(error.get("message") or response.text[:300])
            elapsed = time.monotonic() - started
            if status == 403 and code == "ForbiddenByRbac" and elapsed < self.rbac_wait:
                # A role assignment made moments ago (by the keyvault role) may not have propagated yet.
                self.sleep(min(5.0 * attempt, 20.0))
                continue
            if status in RETRYABLE_STATUS and attempt < 6:
                retry_after = response.headers.get("Retry-After")
                try:
                    delay = float(retry_after) if retry_after else float(2 ** attempt)
                except ValueError:
                    delay = float(2 ** attempt)
                self.sleep(min(delay, 30.0))
                continue
            raise KeyVaultError(status, code, message, url.split("?")[0], method)

    # --- operations -------------------------------------------------------------------------------------
    @staticmethod
    def _name(name: str) -> str:
        return quote(name, safe="")

    def get(self, name: str) -> dict[str, Any] | None:
        """The latest version (value included), or None when the secret does not exist."""
        status, body = self._send("GET", f"secrets/{self._name(name)}", ok=(200, 404))
        if status == 404:
            return None
        return body if isinstance(body, dict) else {}

    def get_deleted(self, name: str) -> dict[str, Any] | None:
        status, body = self._send("GET", f"deletedsecrets/{self._name(name)}", ok=(200, 404))
        return None if status == 404 else (body or {})

    def recover(self, name: str, timeout: float = 120.0) -> None:
        """Recover a soft-deleted secret and wait until it can be read again (recovery is asynchronous)."""
        self._send("POST", f"deletedsecrets/{self._name(name)}/recover")
        deadline = time.monotonic() + timeout
        while self.get(name) is None:
            if time.monotonic() > deadline:
                raise KeyVaultError(None, "RecoveryTimeout", "the recovered secret did not become readable",
                                    self.vault_uri + f"secrets/{name}", "POST")
            self.sleep(2.0)

    def set(self, name: str, value: str, content_type: str | None, tags: dict[str, str] | None,
            expires: int | None = None) -> dict[str, Any]:
        """A new version; ``expires`` is its ``attributes.exp`` (Unix seconds), none when None."""
        body: dict[str, Any] = {"value": value, "attributes": {"enabled": True}}
        if expires is not None:
            body["attributes"]["exp"] = int(expires)
        if content_type is not None:
            body["contentType"] = content_type
        if tags is not None:
            body["tags"] = tags
        _status, result = self._send("PUT", f"secrets/{self._name(name)}", body)
        return result if isinstance(result, dict) else {}

    def update_properties(self, secret_id: str, content_type: str | None, tags: dict[str, str] | None,
                          expires: int | None = None) -> None:
        """Change content type, tags or expiry (``attributes.exp``, Unix seconds) of the current version without
        writing a new value."""
        version = secret_id.rstrip("/").rsplit("/", 1)[-1]
        name = secret_id.rstrip("/").rsplit("/", 2)[-2]
        body: dict[str, Any] = {}
        if content_type is not None:
            body["contentType"] = content_type
        if tags is not None:
            body["tags"] = tags
        if expires is not None:
            body["attributes"] = {"exp": int(expires)}
        self._send("PATCH", f"secrets/{self._name(name)}/{self._name(version)}", body)

    def enable(self, name: str) -> None:
        """Enable the latest version of a secret (a disabled one cannot be read, not even by its writer)."""
        self._send("PATCH", f"secrets/{self._name(name)}/", {"attributes": {"enabled": True}})

    def list_properties(self) -> dict[str, dict[str, Any]]:
        """Every secret's attributes (enabled, exp, ...) and content type, by name; never a value."""
        found: dict[str, dict[str, Any]] = {}
        path: str | None = "secrets"
        while path:
            _status, body = self._send("GET", path)
            for item in (body or {}).get("value") or []:
                found[str(item.get("id", "")).rstrip("/").rsplit("/", 1)[-1]] = item
            next_link = (body or {}).get("nextLink")
            path = next_link if isinstance(next_link, str) and next_link.startswith(self.vault_uri) else None
        return found

    def list_names(self) -> list[str]:
        names: list[str] = []
        path: str | None = "secrets"
        while path:
            _status, body = self._send("GET", path)
            for item in (body or {}).get("value") or []:
                names.append(str(item.get("id", "")).rstrip("/").rsplit("/", 1)[-1])
            next_link = (body or {}).get("nextLink")
            path = next_link if isinstance(next_link, str) and next_link.startswith(self.vault_uri) else None
        return names

    # --- certificates (the vault's certificates API; a certificate's key and chain are also its secret) --------
    def get_certificate(self, name: str) -> dict[str, Any] | None:
        """The certificate's latest version (no private key), or None when there is none."""
        status, body = self._send("GET", f"certificates/{self._name(name)}", ok=(200, 404))
        return None if status == 404 else (body if isinstance(body, dict) else {})

    def create_certificate(self, name: str, policy: dict[str, Any], tags: dict[str, str] | None,
                           timeout: float = 600.0) -> dict[str, Any]:
        """Issue a certificate by its policy and wait for the issuer (Self: seconds; a CA: minutes)."""
        body: dict[str, Any] = {"policy": policy, "attributes": {"enabled": True}}
        if tags is not None:
            body["tags"] = tags
        self._send("POST", f"certificates/{self._name(name)}/create", body, ok=(200, 202))
        deadline = time.monotonic() + timeout
        while True:
            _status, operation = self._send("GET", f"certificates/{self._name(name)}/pending")
            state = str((operation or {}).get("status") or "").lower()
            if state == "completed":
                return self.get_certificate(name) or {}
            if state not in ("inprogress", ""):
                error = (operation or {}).get("error") or {}
                raise KeyVaultError(None, str(error.get("code") or "CertificateOperationFailed"),
                                    str(error.get("message") or (operation or {}).get("status_details") or state),
                                    f"{self.vault_uri}certificates/{name}", "POST")
            if time.monotonic() > deadline:
                raise KeyVaultError(None, "CertificateOperationTimeout", "the issuer did not complete in time",
                                    f"{self.vault_uri}certificates/{name}", "POST")
            self.sleep(2.0)

    def import_certificate(self, name: str, value: str, password: str | None, policy: dict[str, Any],
                           tags: dict[str, str] | None) -> dict[str, Any]:
        """Import a PFX (base64) or PEM certificate with its private key."""
        body: dict[str, Any] = {"value": value, "policy": policy, "attributes": {"enabled": True}}
        if password is not None:
            body["pwd"] = password
        if tags is not None:
            body["tags"] = tags
        _status, result = self._send("POST", f"certificates/{self._name(name)}/import", body)
        return result if isinstance(result, dict) else {}


def metadata(secret: dict[str, Any] | None) -> dict[str, Any]:
    """What a module may return about a secret: never its value."""
    if not secret:
        return {}
    attributes = secret.get("attributes") or {}
    return {"id": secret.get("id"), "content_type": secret.get("contentType"), "tags": secret.get("tags") or {},
            "enabled": attributes.get("enabled"), "created": attributes.get("created"),
            "updated": attributes.get("updated"), "recovery_level": attributes.get("recoveryLevel")}
