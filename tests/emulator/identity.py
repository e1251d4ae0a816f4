"""Fixed tenants, subscriptions and principals of the emulator, and its JWT-shaped tokens.

Tokens are signed with HS256 and a key kept in the state directory: clients never verify tokens (they are
opaque to them), so the only thing that matters is that the emulator can tell its own tokens from forged or
expired ones, and that they carry the claims Entra ID puts in app-only tokens (aud, iss, tid, oid, appid, exp).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

TENANT_ID = "c0ffee00-0000-4000-8000-0000000000a1"
TENANT_ID_2 = "c0ffee00-0000-4000-8000-0000000000a2"
SUBSCRIPTION_ID = "c0ffee00-0000-4000-8000-000000000001"
SUBSCRIPTION_ID_2 = "c0ffee00-0000-4000-8000-000000000002"

# Audiences ARM accepts: the public cloud's two spellings; our metadata advertises the first one.
ARM_AUDIENCES = (
    "https://management.core.windows.net/",
    "https://management.core.windows.net",
    "https://management.azure.com/",
    "https://management.azure.com",
)
TOKEN_LIFETIME_S = 3600

_OID_NAMESPACE = uuid.UUID("c0ffee00-0000-4000-8000-00000000ffff")


@dataclass(frozen=True)
class Principal:
    """An Entra ID application (service principal) or managed identity known to the emulator."""

    display_name: str
    client_id: str
    secret: str | None  # None: managed identity, no client secret
    tenant_id: str
    principal_type: str = "ServicePrincipal"

    @property
    def object_id(self) -> str:
        # Stable across restarts and machines: RBAC assignments made with it stay valid.
        return str(uuid.uuid5(_OID_NAMESPACE, self.client_id))


DEPLOYER = Principal(
    "complianceflow-deployer", "c0ffee00-0000-4000-8000-0000000000c1", "cf-emulator-secret-1", TENANT_ID
)
OTHER_TENANT_APP = Principal(
    "other-tenant-deployer", "c0ffee00-0000-4000-8000-0000000000c2", "cf-emulator-secret-2", TENANT_ID_2
)
# A second app in the default tenant, handy for RBAC tests (a caller without data roles).
READER_APP = Principal(
    "complianceflow-reader", "c0ffee00-0000-4000-8000-0000000000c3", "cf-emulator-secret-3", TENANT_ID
)
MANAGED_IDENTITY = Principal("complianceflow-runner-mi", "c0ffee00-0000-4000-8000-0000000000c4", None, TENANT_ID)

PRINCIPALS: tuple[Principal, ...] = (DEPLOYER, OTHER_TENANT_APP, READER_APP, MANAGED_IDENTITY)
# Which tenant owns each subscription; a token from another tenant is refused by ARM.
SUBSCRIPTIONS: dict[str, dict[str, str]] = {
    SUBSCRIPTION_ID: {"tenantId": TENANT_ID, "displayName": "complianceflow-emulator-1"},
    SUBSCRIPTION_ID_2: {"tenantId": TENANT_ID_2, "displayName": "complianceflow-emulator-2"},
}
TENANTS = (TENANT_ID, TENANT_ID_2)


def principal_by_client_id(client_id: str) -> Principal | None:
    for principal in PRINCIPALS:
        if principal.client_id.lower() == client_id.lower():
            return principal
    return None


def principal_by_object_id(object_id: str) -> Principal | None:
    for principal in PRINCIPALS:
        if principal.object_id.lower() == object_id.lower():
            return principal
    return None


@dataclass(frozen=True)
class Caller:
    """The identity behind a validated bearer token, as providers and RBAC see it."""

    object_id: str
    app_id: str
    tenant_id: str
    audience: str
    claims: dict[str, object]


class TokenError(Exception):
    """A bearer token the emulator did not issue, or one that expired."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenIssuer:
    def __init__(self, state_dir: Path) -> None:
        key_file = state_dir / "signing.key"
        if not key_file.exists():
            key_file.write_text(secrets.token_hex(32))
            key_file.chmod(0o600)
        self._key = bytes.fromhex(key_file.read_text().strip())

    def issue(self, principal: Principal, audience: str, now: float | None = None) -> tuple[str, int]:
        issued = int(now if now is not None else time.time())
        expires = issued + TOKEN_LIFETIME_S
        claims = {
            "aud": audience,
            "iss": f"https://sts.windows.net/{principal.tenant_id}/",
            "iat": issued,
            "nbf": issued,
            "exp": expires,
            "appid": principal.client_id,
            "appidacr": "1" if principal.secret else "2",
            "idtyp": "app",
            "oid": principal.object_id,
            "sub": principal.object_id,
            "tid": principal.tenant_id,
            "ver": "1.0",
            "uti": secrets.token_urlsafe(16),
        }
        header = {"typ": "JWT", "alg": "HS256", "kid": "cf-emulator"}
        signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
        signature = hmac.new(self._key, signing_input.encode(), hashlib.sha256).digest()
        return f"{signing_input}.{_b64(signature)}", expires

    def validate(self, token: str, audiences: tuple[str, ...] | None) -> Caller:
        parts = token.split(".")
        if len(parts) != 3:
            raise TokenError("InvalidAuthenticationToken", "The access token is invalid.")
        signing_input = f"{parts[0]}.{parts[1]}"
        expected = hmac.new(self._key, signing_input.encode(), hashlib.sha256).digest()
        try:
            signature = _unb64(parts[2])
            claims = json.loads(_unb64(parts[1]))
        except (ValueError, json.JSONDecodeError) as exc:
            raise TokenError("InvalidAuthenticationToken", "The access token is invalid.") from exc
        if not hmac.compare_digest(signature, expected) or not isinstance(claims, dict):
            raise TokenError("InvalidAuthenticationToken", "The access token has an invalid signature.")
        now = time.time()
        if float(claims.get("exp", 0)) < now:
            expiry = time.strftime("%m/%d/%Y %H:%M:%S", time.gmtime(float(claims.get("exp", 0))))
            current = time.strftime("%m/%d/%Y %H:%M:%S", time.gmtime(now))
            raise TokenError(
                "ExpiredAuthenticationToken",
                f"The access token expiry UTC time '{expiry}' is earlier than current UTC time '{current}'.",
            )
        audience = str(claims.get("aud", ""))
        if audiences is not None and audience not in audiences:
            raise TokenError(
                "InvalidAuthenticationTokenAudience",
                f"The access token has been obtained for wrong audience or resource '{audience}'. It should exactly "
                f"match with one of the allowed audiences {', '.join(repr(a) for a in audiences)}.",
            )
        return Caller(
            object_id=str(claims.get("oid", "")),
            app_id=str(claims.get("appid", "")),
            tenant_id=str(claims.get("tid", "")),
            audience=audience,
            claims=claims,
        )
