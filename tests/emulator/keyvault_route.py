"""Key Vault data plane front door: vault lookup, challenge-based auth, RBAC or access policies, then the plane.

The secrets themselves are served by tests/emulator/dataplanes/keyvault_secrets.py (KeyVaultSecretsPlane).
"""

from __future__ import annotations

import ipaddress
import re
from typing import TYPE_CHECKING, Any

from .arm import Response
from .framework import Ctx, Resource
from .identity import Caller, TokenError
from .providers.authorization import has_data_action

if TYPE_CHECKING:
    from .server import EmulatorServer, VaultServer

VAULTS_TYPE = "microsoft.keyvault/vaults"
SECRETS_DATA = "Microsoft.KeyVault/vaults/secrets"
CERTIFICATES_DATA = "Microsoft.KeyVault/vaults/certificates"


def _error(status: int, code: str, message: str, inner: str | None = None,
           headers: dict[str, str] | None = None) -> Response:
    error: dict[str, Any] = {"code": code, "message": message}
    if inner:
        error["innererror"] = {"code": inner}
    return Response(status, {"error": error}, headers or {})


def required_permission(method: str, subpath: str) -> tuple[str, str]:
    """(RBAC data action, access-policy secret permission) an operation needs, as Key Vault checks them."""
    parts = [p for p in subpath.strip("/").split("/") if p]
    head = parts[0].lower() if parts else ""
    if head == "deletedsecrets":
        if method == "POST" and len(parts) == 3 and parts[2].lower() == "recover":
            return f"{SECRETS_DATA}/recover/action", "recover"
        if method == "DELETE":
            return f"{SECRETS_DATA}/purge/action", "purge"
        return f"{SECRETS_DATA}/readMetadata/action", "list"
    if head == "certificates":
        # Key Vault's certificate data actions (the Key Vault Certificates Officer role holds them all).
        tail = parts[2].lower() if len(parts) > 2 else ""
        if method == "POST" and tail == "create":
            return f"{CERTIFICATES_DATA}/create/action", "create"
        if method == "POST" and tail == "import":
            return f"{CERTIFICATES_DATA}/import/action", "import"
        if method in ("PATCH", "PUT"):
            return f"{CERTIFICATES_DATA}/update/action", "update"
        if method == "DELETE":
            return f"{CERTIFICATES_DATA}/delete", "delete"
        return f"{CERTIFICATES_DATA}/read", "get"
    if head == "secrets":
        if method == "PUT":
            return f"{SECRETS_DATA}/setSecret/action", "set"
        if method == "PATCH":
            return f"{SECRETS_DATA}/update/action", "set"
        if method == "DELETE":
            return f"{SECRETS_DATA}/delete", "delete"
        if method == "POST" and len(parts) >= 2 and parts[-1].lower() == "backup":
            return f"{SECRETS_DATA}/backup/action", "backup"
        if method == "POST" and len(parts) >= 2 and parts[-1].lower() == "restore":
            return f"{SECRETS_DATA}/restore/action", "restore"
        if len(parts) == 1 or (len(parts) == 3 and parts[2].lower() == "versions"):
            return f"{SECRETS_DATA}/readMetadata/action", "list"
        return f"{SECRETS_DATA}/getSecret/action", "get"
    return f"Microsoft.KeyVault/vaults/{head or 'unknown'}/read", "get"


def handle_keyvault(server: EmulatorServer | VaultServer, method: str, path: str, query: dict[str, str],
                    headers: dict[str, str], raw: bytes) -> Response:
    """Serve a data-plane request that reached `server` (the vault's own origin, or `/kv/<vault>/` on the main
    port); secret IDs always use the vault's own origin, as Key Vault clients expect."""
    engine = server.engine
    match = re.match(r"^/kv/([^/]+)/?(.*)$", path)
    if not match:
        return _error(404, "NotFound", "Missing vault name in the URL.")
    vault_name, subpath = match.group(1), match.group(2)
    resource = server.keyvault_resource
    with engine.lock:
        engine.settle()
        vaults = [r for r in engine.store.records.values()
                  if r["type"].lower() == VAULTS_TYPE and r["id"].rsplit("/", 1)[-1].lower() == vault_name.lower()]
        if not vaults:
            # Azure answers this with a DNS failure; the closest HTTP analogue is a 404 naming the vault.
            return _error(404, "VaultNotFound", f"The vault '{vault_name}' does not exist (or is soft-deleted).")
        vault = Resource(vaults[0])
        props = vault.body.get("properties", {})
        tenant = str(props.get("tenantId") or "")
        challenge = f'Bearer authorization="{server.main.base_url}/{tenant}", resource="{resource}"'
        auth = headers.get("authorization", "")
        if not auth.lower().startswith("bearer "):
            return _error(401, "Unauthorized", "AKV10000: Request is missing a Bearer or PoP token.",
                          headers={"WWW-Authenticate": challenge})
        audiences = (resource, resource + "/", "https://vault.azure.net", "https://vault.azure.net/")
        try:
            caller = server.issuer.validate(auth[7:].strip(), audiences)
        except TokenError as err:
            code = "AKV10022: Invalid audience." if err.code.endswith("Audience") else f"AKV10013: {err.message}"
            return _error(401, "Unauthorized", code, headers={"WWW-Authenticate": challenge})
        if caller.tenant_id.lower() != tenant.lower():
            return _error(401, "Unauthorized",
                          f"AKV10032: Invalid issuer. Expected one of https://sts.windows.net/{tenant}/, found "
                          f"https://sts.windows.net/{caller.tenant_id}/.", headers={"WWW-Authenticate": challenge})
        denied = _firewall(engine.keyvault_client_ip, vault, caller)
        if denied is None:
            denied = _authorize(Ctx(engine, caller), vault, caller, method.upper(), subpath)
        if denied is not None:
            return denied
        plane = engine.planes.keyvault_secrets
        vault_uri = server.main.vault_origin(vault.name) + "/"
    if plane is None:
        return _error(501, "NotImplemented", "The Key Vault secrets data plane is not available in this emulator.")
    status, out_headers, body = plane.handle(vault.name, method.upper(), subpath, query, raw or None, vault_uri)
    return Response(status, body, dict(out_headers))


def secret_scope(vault_id: str, subpath: str) -> str:
    """The ARM scope an operation on one secret is authorized at: ``<vault>/secrets/<name>`` (a role assigned there
    grants that secret only, as Key Vault RBAC allows); operations on the vault's collections are checked on the
    vault."""
    parts = [p for p in subpath.strip("/").split("/") if p]
    if len(parts) >= 2 and parts[0].lower() == "secrets" and parts[1].lower() not in ("restore",):
        return f"{vault_id}/secrets/{parts[1]}"
    if len(parts) >= 2 and parts[0].lower() == "certificates":
        return f"{vault_id}/certificates/{parts[1]}"
    return vault_id


def _firewall(client_ip: str | None, vault: Resource, caller: Caller) -> Response | None:
    """Key Vault's firewall, for clients the emulator places at `client_ip` (its `keyvault_client_ip` option).

    Every client of the emulator is on loopback, so where a request comes from is a setting, not a socket address.
    Unset (the default), clients count as reaching the vault through a trusted path (inside its network, as a runner
    does through the vault's private endpoint), and the firewall lets them through. Set, requests come from that
    public address: refused when public network access is disabled, or when `networkAcls.defaultAction` is Deny
    and no `ipRules` range holds the address (no emulator principal is a trusted Microsoft service, so `bypass`
    never applies)."""
    if not client_ip:
        return None
    props = vault.body.get("properties", {})
    who = (f"Caller: appid={caller.app_id};oid={caller.object_id};iss=https://sts.windows.net/{caller.tenant_id}/"
           f"\r\nVault: {vault.name};location={vault.location}")
    if str(props.get("publicNetworkAccess", "Enabled")).lower() == "disabled":
        return _error(403, "Forbidden", "Public network access is disabled and request is not from a trusted "
                      f"service nor via an approved private link.\r\n{who}", inner="ForbiddenByConnection")
    acls = props.get("networkAcls") or {}
    if str(acls.get("defaultAction", "Allow")).lower() != "deny":
        return None
    address = ipaddress.ip_address(client_ip)
    for rule in acls.get("ipRules") or []:
        try:
            if address in ipaddress.ip_network(str(rule.get("value", "")), strict=False):
                return None
        except ValueError:
            continue
    return _error(403, "Forbidden", "Client address is not authorized and caller is not a trusted service."
                  f"\r\nClient address: {client_ip}\r\n{who}", inner="ForbiddenByFirewall")


def _authorize(ctx: Ctx, vault: Resource, caller: Caller, method: str, subpath: str) -> Response | None:
    data_action, permission = required_permission(method, subpath)
    props = vault.body.get("properties", {})
    if props.get("enableRbacAuthorization"):
        if has_data_action(ctx, caller.object_id, secret_scope(vault.id, subpath), data_action):
            return None
        return _error(
            403,
            "Forbidden",
            "Caller is not authorized to perform action on resource.\r\nIf role assignments, deny assignments or "
            "role definitions were changed recently, please observe propagation time.\r\n"
            f"Caller: appid={caller.app_id};oid={caller.object_id};iss=https://sts.windows.net/{caller.tenant_id}/"
            f"\r\nAction: '{data_action}'\r\nResource: '{vault.id.lower()}'\r\nAssignment: (not found)\r\n"
            "DenyAssignmentId: null\r\nDecisionReason: null \r\nVault: "
            f"{vault.name};location={vault.location}\r\n",
            inner="ForbiddenByRbac",
        )
    for policy in props.get("accessPolicies") or []:
        if str(policy.get("objectId", "")).lower() != caller.object_id.lower():
            continue
        family = "certificates" if subpath.strip("/").lower().startswith("certificates") else "secrets"
        granted = {p.lower() for p in (policy.get("permissions", {}).get(family) or [])}
        if permission in granted or "all" in granted:
            return None
    return _error(
        403,
        "Forbidden",
        f"The user, group or application 'appid={caller.app_id};oid={caller.object_id};"
        f"iss=https://sts.windows.net/{caller.tenant_id}/' does not have secrets {permission} permission on key "
        f"vault '{vault.name};location={vault.location}'. For help resolving this issue, please see "
        "https://go.microsoft.com/fwlink/?linkid=2125287",
        inner="AccessDenied",
    )
