#!/usr/bin/python
# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: validate_deployment
short_description: Prove that a built deployment works the way its services use it (read-only)
version_added: 0.3.0
description:
  - Reads, never writes. Used by C(playbooks/validate.yml); details in C(docs/validation.md).
  - Key Vault - every planned secret exists, is enabled and is not past its expiry.
  - PostgreSQL - each service's login role logs in to its own database with the password from Key Vault, over TLS;
    it is refused on another service's database; the required extensions exist in its database; the server's
    C(require_secure_transport) parameter is on.
  - Event Hubs - every planned hub exists with its partition count; each service's connection strings (from Key
    Vault) parse and point at the namespace, its hub and the planned SAS rule. Sending and receiving are not tried
    (reported as skipped).
  - Redis - C(PING) over TLS on the SSL port, authenticated with the key from Key Vault; the non-TLS port refuses
    connections.
  - Returns one result per check (pass, fail or skip, with the reason); the task itself fails only when a check
    cannot run at all. Secret values are read, used and never returned.
options:
  deployment:
    description: The C(deployment) fact of the complianceflow.azure_infra.preflight role.
    type: dict
    required: true
  login_role_prefix:
    description: Prefix of the services' PostgreSQL login roles (the database role's C(database_role_prefix)).
    type: str
    default: svc_
  postgresql:
    description: How to reach the PostgreSQL server and what to expect there.
    type: dict
    default: {}
    suboptions:
      enabled:
        description: Run the PostgreSQL checks.
        type: bool
        default: true
      connect_host:
        description:
          - Address to connect to instead of the server's FQDN (a host that reaches the private address, or the
            emulator's local address). With an IP address and C(sslmode=verify-full), the FQDN is still the name
            the certificate is checked against.
        type: str
      connect_port:
        description: Port to connect to.
        type: int
        default: 5432
      sslmode:
        description: libpq sslmode; Azure requires TLS, V(verify-full) also checks the server's certificate.
        type: str
        default: require
        choices: [prefer, require, verify-ca, verify-full]
      sslrootcert:
        description: CA file for V(verify-ca) and V(verify-full).
        type: str
      require_tls:
        description: Fail a login that is not encrypted.
        type: bool
        default: true
      extensions:
        description: Extensions that must exist in every service database.
        type: list
        elements: str
        default: [pg_stat_statements, pg_trgm]
  redis:
    description: How to reach the Redis cache.
    type: dict
    default: {}
    suboptions:
      enabled:
        description: Run the Redis checks.
        type: bool
        default: true
      connect_host:
        description: Address to connect to instead of the cache's host name (which stays the TLS server name).
        type: str
      ssl_port:
        description: TLS port to connect to; default the cache's C(sslPort) (6380).
        type: int
      plaintext_port:
        description: The non-TLS port that must refuse connections.
        type: int
        default: 6379
      ca_file:
        description: CA file to verify the cache's certificate with; default the system's.
        type: str
  connect_timeout:
    description: Seconds each PostgreSQL or Redis connection may take.
    type: int
    default: 10
extends_documentation_fragment:
  - complianceflow.azure_infra.azure_auth
  - complianceflow.azure_infra.attributes.info_module
author:
  - ComplianceFlow platform engineering (@complianceflow)
"""

EXAMPLES = r"""
- name: Validate the deployment
  complianceflow.azure_infra.validate_deployment:
    deployment: "{{ deployment }}"
  register: validation

- name: Fail when a check failed
  ansible.builtin.assert:
    that: validation.counts.fail == 0
    fail_msg: "{{ validation.failures | map(attribute='reason') }}"
"""

RETURN = r"""
checks:
  description: One entry per check, in the order they ran.
  returned: always
  type: list
  elements: dict
  contains:
    area:
      description: V(keyvault), V(postgresql), V(eventhubs) or V(redis).
      type: str
    check:
      description: What was checked.
      type: str
    target:
      description: The secret, service, hub or server checked.
      type: str
    status:
      description: V(pass), V(warn) (passed, but needs attention soon, such as a secret within 30 days of its
        expiry), V(fail) or V(skip).
      type: str
    reason:
      description: Why (what was found); never a secret value.
      type: str
counts:
  description: How many checks passed, warned (near expiry), failed and were skipped.
  returned: always
  type: dict
failures:
  description: The failed checks (the task itself does not fail for them; C(playbooks/validate.yml) does).
  returned: always
  type: list
  elements: dict
report:
  description: One line per check, C(PASS|WARN|FAIL|SKIP area - check - target - reason).
  returned: always
  type: list
  elements: str
"""

import ipaddress
import socket
import ssl
from typing import Any
from urllib.parse import urlparse

from ansible_collections.complianceflow.azure_infra.plugins.module_utils.arm_client import AzureApiError
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.azure_module import AzureModule
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.key_vault_data import (
    KeyVaultError,
    SecretsClient,
)
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.platform_checks import (
    check,
    connection_string_check,
    hub_check,
    secret_state,
    summary,
)
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.resource_types import (
    api_version,
    type_of_id,
)


class Validation:
    def __init__(self, az: AzureModule) -> None:
        self.az = az
        self.params = az.params
        self.deployment = az.params["deployment"]
        self.checks: list[dict[str, Any]] = []
        self.values: dict[str, str | None] = {}
        self.secrets: SecretsClient | None = None

    def get(self, resource_id: str) -> dict[str, Any] | None:
        return self.az.call(self.az.client.get, resource_id, api_version(type_of_id(resource_id)))

    def secret(self, name: str) -> str | None:
        """A secret's value (read once, masked everywhere), or None when it cannot be read."""
        if name not in self.values:
            value = None
            if self.secrets is not None:
                try:
                    found = self.secrets.get(name)
                    value = str(found["value"]) if found and found.get("value") else None
                except KeyVaultError:
                    value = None
            if value:
                self.az.module.no_log_values.add(value)
            self.values[name] = value
        return self.values[name]

    # --- Key Vault ------------------------------------------------------------------------------------------
    def keyvault(self) -> None:
        vault = self.get(self.deployment["ids"]["key_vault"])
        uri = ((vault or {}).get("properties") or {}).get("vaultUri")
        if not uri:
            self.checks.append(check("keyvault", "vault exists", self.deployment["names"]["key_vault"], False,
                                     "the Key Vault does not exist"))
            return
        client = self.az.client
        self.secrets = SecretsClient(uri, client.credential, verify=client.verify, rbac_wait=0)
        try:
            listed = self.secrets.list_properties()
        except KeyVaultError as exc:
            self.checks.append(check("keyvault", "secrets can be listed", uri, False, f"{exc.code}: {exc.message}"))
            return
        for name in sorted(self.deployment["secrets"]):
            self.checks.append(secret_state(name, listed.get(name)))

    # --- PostgreSQL -----------------------------------------------------------------------------------------
    def postgresql(self) -> None:
        spec = self.params["postgresql"] or {}
        if not spec.get("enabled", True):
            return
        server_id = self.deployment["ids"]["postgresql_server"]
        server = self.get(server_id)
        if server is None:
            self.checks.append(check("postgresql", "server exists", server_id.rsplit("/", 1)[1], False,
                                     "the server does not exist"))
            return
        parameter = self.get(f"{server_id}/configurations/require_secure_transport") or {}
        value = str((parameter.get("properties") or {}).get("value") or "").lower()
        self.checks.append(check("postgresql", "require_secure_transport is on", server_id.rsplit("/", 1)[1],
                                 value == "on", f"require_secure_transport = {value or 'unknown'}"))
        try:
            import psycopg
        except ImportError:
            self.checks.append(check("postgresql", "logins", "all services", False,
                                     "the psycopg (version 3) Python package is not installed where this runs"))
            return
        fqdn = str((server.get("properties") or {}).get("fullyQualifiedDomainName") or "")
        connect_host = spec.get("connect_host") or fqdn
        address: dict[str, Any] = {"host": connect_host}
        try:
            ipaddress.ip_address(connect_host)
            if fqdn and connect_host != fqdn:
                # The certificate names the FQDN; the address only says where to connect.
                address = {"host": fqdn, "hostaddr": connect_host}
        except ValueError:
            pass
        tls: dict[str, Any] = {"sslmode": spec.get("sslmode") or "require"}
        if spec.get("sslrootcert"):
            tls["sslrootcert"] = spec["sslrootcert"]

        def connect(user: str, password: str, database: str) -> Any:
            return psycopg.connect(**address, port=spec.get("connect_port") or 5432, user=user, password=password,
                                   dbname=database, connect_timeout=self.params["connect_timeout"], autocommit=True,
                                   application_name="complianceflow.azure_infra.validate", **tls)

        databases: dict[str, str] = self.deployment["databases"]
        services = list(databases)
        prefix = self.params["login_role_prefix"]
        for index, service in enumerate(services):
            role, database = f"{prefix}{service}", databases[service]
            target = f"{role} -> {database}"
            password = self.secret(f"postgresql-{service}-password")
            if not password:
                self.checks.append(check("postgresql", "service logs in to its database over TLS", target, False,
                                         f"no password in Key Vault (postgresql-{service}-password)"))
                continue
            try:
                with connect(role, password, database) as conn:
                    encrypted = conn.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone()
                    installed = {r[0] for r in conn.execute("SELECT extname FROM pg_extension").fetchall()}
            except psycopg.Error as exc:
                self.checks.append(check("postgresql", "service logs in to its database over TLS", target, False,
                                         _first_line(exc)))
            else:
                uses_tls = bool(encrypted and encrypted[0])
                if uses_tls or spec.get("require_tls", True):
                    self.checks.append(check("postgresql", "service logs in to its database over TLS", target,
                                             uses_tls, f"logged in over TLS (sslmode {tls['sslmode']})" if uses_tls
                                             else "logged in, but the connection is not encrypted"))
                else:
                    self.checks.append(check("postgresql", "service logs in to its database over TLS", target, None,
                                             "logged in without TLS, which this run does not require "
                                             "(validate_postgresql_require_tls=false)"))
                missing = [e for e in spec.get("extensions") or [] if e not in installed]
                self.checks.append(check("postgresql", "required extensions exist", database, not missing,
                                         f"missing {', '.join(missing)}" if missing else
                                         ", ".join(spec.get("extensions") or []) or "none required"))
            other = databases[services[(index + 1) % len(services)]]
            if len(services) > 1:
                try:
                    connect(role, password, other).close()
                except psycopg.Error as exc:
                    refused = "permission denied" in str(exc).lower()
                    self.checks.append(check("postgresql", "service is refused on another service's database",
                                             f"{role} -> {other}", refused, _first_line(exc)))
                else:
                    self.checks.append(check("postgresql", "service is refused on another service's database",
                                             f"{role} -> {other}", False, "logged in: CONNECT is not restricted"))

    # --- Event Hubs -----------------------------------------------------------------------------------------
    def eventhubs(self) -> None:
        namespace_id = self.deployment["ids"]["eventhub_namespace"]
        namespace = self.get(namespace_id)
        if namespace is None:
            self.checks.append(check("eventhubs", "namespace exists", namespace_id.rsplit("/", 1)[1], False,
                                     "the namespace does not exist"))
            return
        endpoint = str((namespace.get("properties") or {}).get("serviceBusEndpoint") or "")
        host = urlparse(endpoint).hostname or ""
        try:
            listed = self.az.client.list(f"{namespace_id}/eventhubs",
                                         api_version("Microsoft.EventHub/namespaces/eventhubs"))
        except AzureApiError as exc:
            self.az.fail(exc)
        actual = {str(h.get("name")): h for h in listed}
        for hub in self.deployment["event_hubs"].values():
            self.checks.append(hub_check(hub["name"], int(hub["partitions"]), actual.get(hub["name"])))
        for service, identity in sorted(self.deployment.get("identities", {}).items()):
            for right, hubs in (("send", identity.get("produces") or []), ("listen", identity.get("consumes") or [])):
                for logical in hubs:
                    hub = self.deployment["event_hubs"][logical]
                    secret = f"eventhub-{logical}-{right}-connection-string"
                    self.checks.append(connection_string_check(service, hub["name"], right, secret,
                                                               self.secret(secret), host, hub["sas_rules"][right]))
        self.checks.append(check("eventhubs", "send and receive", namespace_id.rsplit("/", 1)[1], None,
                                 "not tried: the collection carries no AMQP/Kafka client, and no Event Hubs data "
                                 "plane can run locally to prove one (docs/validation.md)"))

    # --- Redis ----------------------------------------------------------------------------------------------
    def redis(self) -> None:
        spec = self.params["redis"] or {}
        if not spec.get("enabled", True):
            self.checks.append(check("redis", "PING over TLS with the key from Key Vault",
                                     self.deployment["names"]["redis"], None, "Redis checks are disabled"))
            return
        cache = self.get(self.deployment["ids"]["redis"])
        name = self.deployment["names"]["redis"]
        if cache is None:
            self.checks.append(check("redis", "cache exists", name, False, "the cache does not exist"))
            return
        props = cache.get("properties") or {}
        server_name = str(props.get("hostName") or name)
        host = spec.get("connect_host") or server_name
        port = int(spec.get("ssl_port") or props.get("sslPort") or 6380)
        key = self.secret("redis-primary-key")
        target = f"{name} ({host}:{port})"
        if not key:
            self.checks.append(check("redis", "PING over TLS with the key from Key Vault", target, False,
                                     "no key in Key Vault (redis-primary-key)"))
        else:
            try:
                answer = redis_ping(host, port, server_name, key, spec.get("ca_file"), self.params["connect_timeout"])
            except (OSError, ssl.SSLError) as exc:
                self.checks.append(check("redis", "PING over TLS with the key from Key Vault", target, False,
                                         f"{type(exc).__name__}: {exc}"))
            else:
                self.checks.append(check("redis", "PING over TLS with the key from Key Vault", target,
                                         answer == "+PONG", f"answered {answer}"))
        plain = int(spec.get("plaintext_port") or 6379)
        try:
            with socket.create_connection((host, plain), timeout=self.params["connect_timeout"]):
                opened = True
        except OSError:
            opened = False
        self.checks.append(check("redis", "non-TLS port is closed", f"{name} ({host}:{plain})", not opened,
                                 "accepts connections" if opened else "refuses connections"))


def redis_ping(host: str, port: int, server_name: str, key: str, ca_file: str | None, timeout: float) -> str:
    """AUTH with the key, then PING, over TLS (RESP, no client library); the first error or PING's answer."""
    context = ssl.create_default_context(cafile=ca_file) if ca_file else ssl.create_default_context()
    with socket.create_connection((host, port), timeout=timeout) as raw, \
            context.wrap_socket(raw, server_hostname=server_name) as conn:
        def command(*words: str) -> str:
            payload = f"*{len(words)}\r\n" + "".join(f"${len(w.encode())}\r\n{w}\r\n" for w in words)
            conn.sendall(payload.encode())
            line = b""
            while not line.endswith(b"\r\n"):
                chunk = conn.recv(1)
                if not chunk:
                    raise ConnectionError("the server closed the connection")
                line += chunk
            return line.decode(errors="replace").strip()

        auth = command("AUTH", key)
        if not auth.startswith("+OK"):
            # The error text is the server's (WRONGPASS, NOAUTH): it never echoes the key.
            return auth
        return command("PING")


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def main() -> None:
    az = AzureModule(
        argument_spec={
            "deployment": {"type": "dict", "required": True},
            "login_role_prefix": {"type": "str", "default": "svc_"},
            "postgresql": {"type": "dict", "default": {}, "options": {
                "enabled": {"type": "bool", "default": True},
                "connect_host": {"type": "str"},
                "connect_port": {"type": "int", "default": 5432},
                "sslmode": {"type": "str", "default": "require",
                            "choices": ["prefer", "require", "verify-ca", "verify-full"]},
                "sslrootcert": {"type": "str"},
                "require_tls": {"type": "bool", "default": True},
                "extensions": {"type": "list", "elements": "str", "default": ["pg_stat_statements", "pg_trgm"]},
            }},
            "redis": {"type": "dict", "default": {}, "options": {
                "enabled": {"type": "bool", "default": True},
                "connect_host": {"type": "str"},
                "ssl_port": {"type": "int"},
                "plaintext_port": {"type": "int", "default": 6379},
                "ca_file": {"type": "str"},
            }},
            "connect_timeout": {"type": "int", "default": 10},
        },
    )
    validation = Validation(az)
    validation.keyvault()
    validation.postgresql()
    validation.eventhubs()
    validation.redis()
    result = summary(validation.checks)
    az.exit(changed=False, checks=validation.checks, **result)


if __name__ == "__main__":
    main()
