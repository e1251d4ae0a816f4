"""The HTTPS server: cloud metadata, Entra ID endpoints, managed identity, ARM, Key Vault data plane, admin API."""

from __future__ import annotations

import json
import ssl
import sys
import threading
import time
import traceback
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from . import identity
from .arm import ArmEngine, Response
from .faults import FaultPlan, FaultSpecError
from .framework import ArmError, Ctx, Resource
from .identity import TokenIssuer

IDENTITY_HEADER = "cf-emulator-identity-header"
KEYVAULT_API_PREFIX = "/kv/"


def metadata(base: str, api_version: str | None) -> Any:
    """Cloud metadata: msrestazure's single object for old api-versions, azure-cli's list for 2019-05-01+."""
    suffix_host = urlsplit(base).netloc
    single = {
        "galleryEndpoint": f"{base}/gallery/",
        "graphEndpoint": "https://graph.windows.net/",
        "portalEndpoint": f"{base}/portal/",
        "authentication": {
            "loginEndpoint": f"{base}/",
            "audiences": ["https://management.core.windows.net/", "https://management.azure.com/"],
            "tenant": "common",
            "identityProvider": "AAD",
        },
    }
    if not api_version or api_version < "2019-05-01":
        return single
    return [
        {
            "name": "AzureEmulator",
            "portal": f"{base}/portal/",
            "resourceManager": f"{base}/",
            "authentication": single["authentication"],
            "media": f"{base}/media/",
            "graphAudience": "https://graph.windows.net/",
            "graph": "https://graph.windows.net/",
            "gallery": f"{base}/gallery/",
            "batch": "https://batch.core.windows.net/",
            "activeDirectoryDataLake": "https://datalake.azure.net/",
            "sqlManagement": "https://management.core.windows.net:8443/",
            "microsoftGraphResourceId": "https://graph.microsoft.com/",
            "appInsightsResourceId": "https://api.applicationinsights.io",
            "appInsightsTelemetryChannelResourceId": "https://dc.applicationinsights.azure.com/v2/track",
            "logAnalyticsResourceId": "https://api.loganalytics.io",
            "ossrDbmsResourceId": "https://ossrdbms-aad.database.windows.net",
            "vmImageAliasDoc": f"{base}/vmImageAliasDoc",
            "suffixes": {
                "keyVaultDns": suffix_host,
                "storage": "core.windows.net",
                "sqlServerHostname": "database.windows.net",
                "postgresqlServerEndpoint": "postgres.database.azure.com",
                "acrLoginServer": "azurecr.io",
            },
        }
    ]


class EmulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # Engines open many connections at once; socketserver's default backlog of 5 would make some of them wait
    # for a SYN retry (a second or more) and serialise what should run in parallel.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], engine: ArmEngine, issuer: TokenIssuer, state_dir: Path,
                 ssl_context: ssl.SSLContext) -> None:
        super().__init__(address, Handler)
        self.engine = engine
        self.issuer = issuer
        self.state_dir = state_dir
        self.ssl_context = ssl_context
        self.socket = ssl_context.wrap_socket(self.socket, server_side=True, do_handshake_on_connect=False)
        host, port = self.server_address[:2]
        self.base_url = f"https://{host}:{port}"
        engine.base_url = self.base_url
        engine.vault_origin = self.vault_origin
        self.log_lock = threading.Lock()
        self.vault_name: str | None = None
        self.main = self
        self._vault_servers: dict[str, VaultServer] = {}
        self._vault_ports_file = state_dir / "vault_ports.json"
        self._vault_ports: dict[str, int] = (
            json.loads(self._vault_ports_file.read_text()) if self._vault_ports_file.exists() else {}
        )

    def reopen_vault_listeners(self) -> None:
        """After a restart, serve every vault origin handed out before (IDs clients stored stay valid)."""
        for name in list(self._vault_ports):
            self.vault_origin(name)

    def vault_origin(self, vault_name: str) -> str:
        """`https://127.0.0.1:<port>`: a listener of its own per vault, because Key Vault clients parse secret IDs
        as `<origin>/secrets/<name>/<version>` (a vault is always the root of its host), so a path prefix per
        vault cannot work. The port is remembered in the state directory and reused after a restart."""
        key = vault_name.lower()
        with self.log_lock:
            running = self._vault_servers.get(key)
            if running is not None:
                return running.base_url
            host = self.server_address[0]
            try:
                vault_server = VaultServer((host, self._vault_ports.get(key, 0)), self, vault_name)
            except OSError:
                vault_server = VaultServer((host, 0), self, vault_name)  # the old port is taken: a new origin
            threading.Thread(target=vault_server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()
            self._vault_servers[key] = vault_server
            self._vault_ports[key] = vault_server.server_address[1]
            tmp = self._vault_ports_file.with_suffix(".tmp")
            tmp.write_text(json.dumps(self._vault_ports, indent=2))
            tmp.replace(self._vault_ports_file)
            return vault_server.base_url

    def close_vault_listeners(self) -> None:
        for vault_server in self._vault_servers.values():
            vault_server.shutdown()
            vault_server.server_close()

    @property
    def keyvault_resource(self) -> str:
        return _keyvault_resource(self.base_url)


class VaultServer(ThreadingHTTPServer):
    """The listener of one vault's origin; every request on it is that vault's data plane."""

    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], main: EmulatorServer, vault_name: str) -> None:
        super().__init__(address, Handler)
        self.main = main
        self.vault_name: str | None = vault_name
        self.engine = main.engine
        self.issuer = main.issuer
        self.log_lock = main.log_lock
        self.socket = main.ssl_context.wrap_socket(self.socket, server_side=True, do_handshake_on_connect=False)
        self.base_url = f"https://{self.server_address[0]}:{self.server_address[1]}"

    @property
    def keyvault_resource(self) -> str:
        return _keyvault_resource(self.base_url)


def _keyvault_resource(base_url: str) -> str:
    """Audience of Key Vault tokens; its host must be a dot-suffix of the vault URL's host.

    Key Vault clients refuse a challenge whose resource host is not a parent domain of the vault host
    (vault `x.vault.azure.net`, resource `vault.azure.net`). Vault origins here are `https://127.0.0.1:PORT`,
    so the resource is `https://0.0.1:PORT`: the longest proper dot-suffix of `127.0.0.1:PORT`.
    """
    netloc = urlsplit(base_url).netloc
    return "https://" + (netloc.split(".", 1)[1] if "." in netloc.split(":")[0] else netloc)


class Handler(BaseHTTPRequestHandler):
    server: Any  # EmulatorServer or VaultServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        # Requests are logged to the admin API instead of stderr: stderr is kept for real problems.
        return

    def setup(self) -> None:
        super().setup()
        self.connection.settimeout(60)

    # one entry point for every verb
    def do_GET(self) -> None:
        self._serve()

    do_PUT = do_POST = do_PATCH = do_DELETE = do_HEAD = do_GET

    def _serve(self) -> None:
        started = time.perf_counter()
        parts = urlsplit(self.path)
        path = parts.path
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        headers = {k.lower(): v for k, v in self.headers.items()}
        length = int(headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        request_id = str(uuid.uuid4())
        try:
            response = self._route(self.command, path, query, headers, raw)
        except ArmError as err:
            response = Response(err.status, err.to_body(), dict(err.headers))
        except Exception:
            traceback.print_exc(file=sys.stderr)
            response = Response(500, {"error": {"code": "InternalServerError",
                                                "message": "The emulator hit an internal error; see its stderr."}})
        delay = self._read_delay(path)
        if delay > 0:
            # Each request has its own thread and no lock is held here, so parallel reads wait side by side.
            time.sleep(delay)
        self._send(response, request_id, headers)
        if not path.startswith("/_emulator/"):
            entry = {
                "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "method": self.command,
                "path": path,
                "api_version": query.get("api-version"),
                "status": response.status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                "client_request_id": headers.get("x-ms-client-request-id"),
                # As Azure's activity and resource logs record it: tells concurrent clients apart.
                "user_agent": headers.get("user-agent"),
                "request_id": request_id,
            }
            if self.command in ("PUT", "PATCH", "POST") and raw and path.lower().startswith("/subscriptions/"):
                # What a client sent to ARM, so that tests can hold a run's writes against its plan.
                try:
                    entry["body"] = json.loads(raw)
                except ValueError:
                    entry["body"] = None
            if response.status >= 400 and isinstance(response.body, dict) and isinstance(response.body.get("error"),
                                                                                          dict):
                error = response.body["error"]
                entry["error"] = {"code": error.get("code"), "message": str(error.get("message", ""))[:500]}
            with self.server.log_lock:
                self.server.engine.request_log.append(entry)

    def _send(self, response: Response, request_id: str, request_headers: dict[str, str]) -> None:
        body = response.body
        if body is None:
            payload = b""
        elif isinstance(body, bytes):
            payload = body
        else:
            payload = json.dumps(body).encode()
        self.send_response(response.status)
        out_headers = {k.lower(): (k, v) for k, v in response.headers.items()}
        if payload and "content-type" not in out_headers:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("x-ms-request-id", request_id)
        self.send_header("x-ms-correlation-request-id", request_id)
        if "x-ms-client-request-id" in request_headers:
            self.send_header("x-ms-client-request-id", request_headers["x-ms-client-request-id"])
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD" and payload:
            self.wfile.write(payload)

    # --- routing --------------------------------------------------------------------------------------------
    def _read_delay(self, path: str) -> float:
        """`--read-latency` for GETs answered by ARM or a Key Vault data plane; 0 for token, metadata, managed
        identity and admin calls, which clients make once per process rather than once per resource."""
        latency = float(self.server.engine.read_latency)
        if self.command != "GET" or latency <= 0:
            return 0.0
        if self.server.vault_name is not None:
            return latency
        low = path.lower()
        if low.startswith(("/_emulator/", "/metadata/", "/msi/")) or low.rstrip("/") == "/metadata/endpoints":
            return 0.0
        if low.startswith(KEYVAULT_API_PREFIX):
            return latency
        segs = [s for s in low.split("/") if s]
        if segs and (segs[0] in (*identity.TENANTS, "common", "organizations")):
            return 0.0
        return latency

    def _route(self, method: str, path: str, query: dict[str, str], headers: dict[str, str],
               raw: bytes) -> Response:
        low = path.lower()
        if self.server.vault_name is not None:
            return self._keyvault(method, f"/kv/{self.server.vault_name}{path}", query, headers, raw)
        if low.startswith("/_emulator/"):
            return self._admin(method, low[len("/_emulator/"):].strip("/"), raw)
        if low.rstrip("/") == "/metadata/endpoints":
            return Response(200, metadata(self.server.base_url, query.get("api-version")))
        if low.startswith("/msi/token"):
            return self._managed_identity(query, headers)
        if low.startswith(KEYVAULT_API_PREFIX):
            return self._keyvault(method, path, query, headers, raw)
        segs = [s for s in path.split("/") if s]
        if len(segs) >= 2 and segs[0].lower() in (*identity.TENANTS, "common", "organizations"):
            return self._entra(method, segs, query, raw)
        if segs[:2] == ["common", "discovery"]:
            return Response(200, {"tenant_discovery_endpoint": f"{self.server.base_url}/common/v2.0/.well-known/"
                                  "openid-configuration", "metadata": []})
        return self.server.engine.handle(method, path, query, headers, raw)

    # --- Entra ID --------------------------------------------------------------------------------------------
    def _entra(self, method: str, segs: list[str], query: dict[str, str], raw: bytes) -> Response:
        tenant = segs[0]
        tail = "/".join(s.lower() for s in segs[1:])
        base = self.server.base_url
        if tail in ("v2.0/.well-known/openid-configuration", ".well-known/openid-configuration"):
            return Response(200, {
                "token_endpoint": f"{base}/{tenant}/oauth2/v2.0/token",
                "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt",
                                                          "client_secret_basic"],
                "jwks_uri": f"{base}/{tenant}/discovery/v2.0/keys",
                "response_modes_supported": ["query", "fragment", "form_post"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "issuer": f"{base}/{tenant}/v2.0",
                "request_uri_parameter_supported": False,
                "userinfo_endpoint": f"{base}/oidc/userinfo",
                "authorization_endpoint": f"{base}/{tenant}/oauth2/v2.0/authorize",
                "device_authorization_endpoint": f"{base}/{tenant}/oauth2/v2.0/devicecode",
                "http_logout_supported": True,
                "frontchannel_logout_supported": True,
                "end_session_endpoint": f"{base}/{tenant}/oauth2/v2.0/logout",
                "claims_supported": ["sub", "iss", "aud", "exp", "iat", "oid", "tid"],
                "kerberos_endpoint": f"{base}/{tenant}/kerberos",
                "tenant_region_scope": "EU",
                "cloud_instance_name": "emulator",
                "cloud_graph_host_name": "graph.windows.net",
                "msgraph_host": "graph.microsoft.com",
                "rbac_url": "https://pas.windows.net",
            })
        if tail in ("oauth2/v2.0/token", "oauth2/token") and method == "POST":
            form = dict(parse_qsl(raw.decode(), keep_blank_values=True))
            return self._token(tenant, form, v1=(tail == "oauth2/token"))
        return Response(404, {"error": "not_found", "error_description": f"Unknown endpoint /{'/'.join(segs)}"})

    def _aad_error(self, status: int, error: str, code: int, description: str) -> Response:
        trace = str(uuid.uuid4())
        return Response(status, {
            "error": error,
            "error_description": f"AADSTS{code}: {description} Trace ID: {trace} Correlation ID: {uuid.uuid4()} "
                                 f"Timestamp: {time.strftime('%Y-%m-%d %H:%M:%SZ', time.gmtime())}",
            "error_codes": [code],
            "timestamp": time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime()),
            "trace_id": trace,
            "correlation_id": str(uuid.uuid4()),
            "error_uri": f"{self.server.base_url}/error?code={code}",
        })

    def _token(self, tenant: str, form: dict[str, str], *, v1: bool) -> Response:
        if tenant.lower() not in identity.TENANTS:
            return self._aad_error(400, "invalid_request", 90002,
                                   f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID "
                                   "and are signing into the correct cloud.")
        grant = form.get("grant_type", "")
        if grant != "client_credentials":
            return self._aad_error(400, "unsupported_grant_type", 70003,
                                   f"The app requested an unsupported grant type '{grant}'.")
        client_id = form.get("client_id", "")
        principal = identity.principal_by_client_id(client_id)
        if principal is None or principal.secret is None or principal.tenant_id != tenant.lower():
            return self._aad_error(400, "unauthorized_client", 700016,
                                   f"Application with identifier '{client_id}' was not found in the directory "
                                   f"'{tenant}'. This can happen if the application has not been installed by the "
                                   "administrator of the tenant or consented to by any user in the tenant.")
        secret = form.get("client_secret")
        if not secret:
            return self._aad_error(401, "invalid_client", 7000218,
                                   "The request body must contain the following parameter: 'client_assertion' or "
                                   "'client_secret'.")
        if secret != principal.secret:
            return self._aad_error(401, "invalid_client", 7000215,
                                   "Invalid client secret provided. Ensure the secret being sent in the request is "
                                   "the client secret value, not the client secret ID, for a secret added to app "
                                   f"'{client_id}'.")
        if v1:
            audience = form.get("resource", "")
        else:
            scope = form.get("scope", "").split(" ")[0]
            if not scope.endswith("/.default"):
                return self._aad_error(400, "invalid_scope", 1002012,
                                       f"The provided value for scope {scope} is not valid. Client credential flows "
                                       "must have a scope value with /.default suffixed to the resource identifier.")
            audience = scope[: -len("/.default")]
        if not audience:
            return self._aad_error(400, "invalid_request", 900144,
                                   "The request body must contain the following parameter: 'scope'.")
        token, expires = self.server.issuer.issue(principal, audience)
        body: dict[str, Any] = {"token_type": "Bearer", "expires_in": identity.TOKEN_LIFETIME_S,
                                "ext_expires_in": identity.TOKEN_LIFETIME_S, "access_token": token}
        if v1:
            body.update({"expires_on": str(expires), "not_before": str(expires - identity.TOKEN_LIFETIME_S),
                         "resource": audience})
        return Response(200, body)

    def _managed_identity(self, query: dict[str, str], headers: dict[str, str]) -> Response:
        if headers.get("x-identity-header") != IDENTITY_HEADER:
            return Response(401, {"error": {"code": "Unauthorized",
                                            "message": "The X-IDENTITY-HEADER header is missing or invalid."}})
        resource = query.get("resource", "")
        if not resource:
            return Response(400, {"error": {"code": "BadRequest", "message": "Missing 'resource' parameter."}})
        wanted = query.get("client_id") or query.get("principal_id") or query.get("mi_res_id")
        principal: identity.Principal | None = identity.MANAGED_IDENTITY
        if wanted and wanted not in (identity.MANAGED_IDENTITY.client_id, identity.MANAGED_IDENTITY.object_id):
            # A user-assigned identity of the store, as a workload it is attached to asks for it.
            from .providers.managedidentity import USER_ASSIGNED, identity_principal

            engine = self.server.engine
            with engine.lock:
                records = [dict(r["body"]) for r in engine.store.records.values()
                           if str(r.get("type", "")).lower() == USER_ASSIGNED.lower()]
            principal = identity_principal(records, client_id=query.get("client_id"),
                                           object_id=query.get("principal_id"), resource_id=query.get("mi_res_id"))
        if principal is None:
            return Response(400, {"error": {"code": "BadRequest",
                                            "message": f"No managed identity found for '{wanted}'."}})
        audience = resource[: -len("/.default")] if resource.endswith("/.default") else resource
        token, expires = self.server.issuer.issue(principal, audience)
        return Response(200, {"access_token": token, "expires_on": str(expires), "resource": resource,
                              "token_type": "Bearer", "client_id": principal.client_id})

    # --- Key Vault data plane ----------------------------------------------------------------------------------
    def _keyvault(self, method: str, path: str, query: dict[str, str], headers: dict[str, str],
                  raw: bytes) -> Response:
        from .keyvault_route import handle_keyvault

        return handle_keyvault(self.server, method, path, query, headers, raw)

    # --- admin API ----------------------------------------------------------------------------------------------
    def _admin(self, method: str, what: str, raw: bytes) -> Response:
        if self.client_address[0] not in ("127.0.0.1", "::1", "::ffff:127.0.0.1"):
            return Response(403, {"error": {"code": "Forbidden", "message": "The admin API is loopback-only."}})
        engine = self.server.engine
        if what == "health" and method == "GET":
            return Response(200, {"status": "ok", "base_url": self.server.base_url})
        if what == "resources" and method == "GET":
            with engine.lock:
                engine.settle()
                ctx = Ctx(engine, None)
                out = []
                for record in sorted(engine.store.records.values(), key=lambda r: r["id"].lower()):
                    rtype = engine.resource_type_of(record)
                    out.append(rtype.render(ctx, Resource(record)) if rtype else record["body"])
            return Response(200, {"value": out})
        if what == "requests" and method == "GET":
            with self.server.log_lock:
                return Response(200, {"value": list(engine.request_log)})
        if what == "reset" and method == "POST":
            engine.reset()
            return Response(200, {"status": "reset"})
        if what == "faults":
            if method == "GET":
                return Response(200, engine.faults.describe())
            if method == "POST":
                text = raw.decode().strip()
                spec = text
                if text.startswith("{"):
                    spec = str(json.loads(text).get("spec") or "")
                try:
                    plan = FaultPlan.parse(spec)
                except FaultSpecError as err:
                    return Response(400, {"error": {"code": "InvalidFaultSpec", "message": str(err)}})
                with engine.lock:
                    engine.faults = plan
                return Response(200, plan.describe())
        if what == "options":
            if method == "POST":
                try:
                    changes = json.loads(raw or b"{}")
                    if not isinstance(changes, dict):
                        raise ValueError("expected a JSON object")
                    with engine.lock:
                        engine.set_options(changes)
                except ValueError as err:
                    return Response(400, {"error": {"code": "InvalidOptions", "message": str(err)}})
            if method in ("GET", "POST"):
                return Response(200, engine.options())
        if what == "dataplanes" and method == "GET":
            planes = engine.planes
            pg, redis = planes.postgres, planes.redis
            return Response(200, {
                "postgres": {"enabled": pg is not None, "servers": pg.describe() if pg is not None else {}},
                "redis": {"enabled": redis is not None, "caches": redis.describe() if redis is not None else {}},
                "blob": {"enabled": planes.blob is not None,
                         "accounts": planes.blob.describe() if planes.blob is not None else {}},
                "keyvault": {"enabled": planes.keyvault_secrets is not None,
                             "resource": self.server.keyvault_resource,
                             "vault_url_template": f"{self.server.base_url}/kv/{{vault}}/"},
            })
        return Response(404, {"error": {"code": "NotFound", "message": f"Unknown admin endpoint {method} {what}"}})


def make_ssl_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(str(cert), str(key))
    return context

