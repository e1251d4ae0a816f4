#!/usr/bin/python
# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: postgresql_roles
short_description: Per-service login roles inside a PostgreSQL server, each owning only its own database
version_added: 0.1.0
description:
  - Works inside the server (PostgreSQL protocol, psycopg 3), so it must run where the server is reachable;
    for a VNet-integrated Azure server that is a host in (or peered with) the virtual network.
  - For each entry of O(roles) it ensures a login role with the password from the task or from Key Vault,
    makes the role the owner of its database, revokes C(CONNECT) on that database from C(PUBLIC) (so that
    no other role can connect to it), and creates O(extensions) in it.
  - Idempotent without reading password hashes (which Azure's administrator cannot read); a role's password is set when
    the role is created, and reset only when a login with the expected password fails.
  - The administrator is made a member of each service role, as Azure documents, because only a member
    may hand a database over to the role.
  - Needs the C(psycopg) (version 3) Python package where the module runs.
options:
  host:
    description: Server host name (the flexible server's FQDN, or an address that reaches it).
    type: str
    required: true
  port:
    description: Server port (5432; 6432 is PgBouncer, which does not suit administration).
    type: int
    default: 5432
  admin_user:
    description: Administrator login.
    type: str
    required: true
  admin_password:
    description: Administrator password. Give this or O(admin_password_secret).
    type: str
  admin_password_secret:
    description: Name of the Key Vault secret holding the administrator password (in O(key_vault)).
    type: str
  key_vault:
    description: The vault the C(*_secret) options read from.
    type: dict
    suboptions:
      vault_uri:
        description: The vault's data-plane URI.
        type: str
      vault_id:
        description: Resource ID of the vault (its URI is read from ARM).
        type: str
  sslmode:
    description:
      - libpq sslmode. Azure servers require TLS (V(require) or stricter) while C(require_secure_transport) is on.
      - V(verify-full) also checks that the server's certificate is issued by a CA in O(sslrootcert) for O(host).
    type: str
    default: require
    choices: [disable, allow, prefer, require, verify-ca, verify-full]
  sslrootcert:
    description:
      - File of the CA certificates that verify the server's certificate with O(sslmode=verify-ca) or
        O(sslmode=verify-full) (libpq C(sslrootcert)); V(system) uses the system's trusted CAs (libpq 16 or later).
      - For Azure, a bundle of the roots Microsoft documents for flexible servers (DigiCert Global Root G2,
        Microsoft RSA Root Certificate Authority 2017); unset, libpq reads C(~/.postgresql/root.crt).
    type: str
  connect_timeout:
    description: Seconds to wait for each connection.
    type: int
    default: 15
  roles:
    description: One login role per service.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Role name.
        type: str
        required: true
      database:
        description: The database the role owns (it must exist).
        type: str
        required: true
      password:
        description: The role's password.
        type: str
      password_secret:
        description: Name of the Key Vault secret holding the role's password (in O(key_vault)).
        type: str
  extensions:
    description: Extensions created in every role's database (they must be allowed by C(azure.extensions)).
    type: list
    elements: str
    default: [pg_stat_statements, pg_trgm, uuid-ossp]
extends_documentation_fragment:
  - complianceflow.azure_infra.azure_auth
  - complianceflow.azure_infra.attributes
attributes:
  check_mode:
    support: full
    description: Reads the server's catalog and reports what would change; changes nothing.
  diff_mode:
    support: full
    description: Shows, per role, what would change (never a password).
author:
  - ComplianceFlow platform engineering (@complianceflow)
"""

EXAMPLES = r"""
- name: One role per service, from the machine that reaches the server
  complianceflow.azure_infra.postgresql_roles:
    host: psql-cf-westeu-test-1-ab12.westeu-test-1.private.postgres.database.azure.com
    admin_user: cfadmin
    admin_password_secret: postgresql-admin-password
    key_vault:
      vault_id: "{{ deployment.ids.key_vault }}"
    roles:
      - name: svc_user
        database: complianceflow_user_westeu_test_1
        password_secret: postgresql-user-password
  delegate_to: "{{ database_admin_host }}"
"""

RETURN = r"""
roles:
  description: Per role, the changes made (or, in check mode, that would be), never a password.
  returned: always
  type: dict
"""

from typing import Any

from ansible_collections.complianceflow.azure_infra.plugins.module_utils.azure_module import AzureModule
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.key_vault_data import (
    KeyVaultError,
    SecretsClient,
)
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.resource_types import api_version

VAULT_API_VERSION = api_version("Microsoft.KeyVault/vaults")


class Secrets:
    """Reads passwords from Key Vault on first use only (a converged run with given passwords needs no vault)."""

    def __init__(self, az: AzureModule) -> None:
        self.az = az
        self._client: SecretsClient | None = None

    def get(self, name: str) -> str:
        az = self.az
        spec = az.params["key_vault"] or {}
        if self._client is None:
            vault_uri = spec.get("vault_uri")
            if not vault_uri and spec.get("vault_id"):
                vault = az.call(az.client.get, spec["vault_id"], VAULT_API_VERSION)
                vault_uri = ((vault or {}).get("properties") or {}).get("vaultUri")
            if not vault_uri:
                az.module.fail_json(msg=f"secret {name}: key_vault (vault_uri or an existing vault_id) is needed")
            self._client = SecretsClient(str(vault_uri), az.client.credential, verify=az.client.verify)
        try:
            secret = self._client.get(name)
        except KeyVaultError as exc:
            az.module.fail_json(msg=f"cannot read secret {name}: {exc}", error=exc.as_dict())
        if not secret or not secret.get("value"):
            az.module.fail_json(msg=f"secret {name} is missing in {self._client.vault_uri}")
        # Ansible then masks the value anywhere it might surface (an error text, a warning).
        az.module.no_log_values.add(str(secret["value"]))
        return str(secret["value"])


def password_refused(exc: Exception) -> bool:
    text = str(exc).lower()
    return "password authentication failed" in text or "authentication failed" in text


def main() -> None:
    az = AzureModule(
        argument_spec={
            "host": {"type": "str", "required": True},
            "port": {"type": "int", "default": 5432},
            "admin_user": {"type": "str", "required": True},
            "admin_password": {"type": "str", "no_log": True},
            "admin_password_secret": {"type": "str", "no_log": False},
            # The vault's address, not a secret; the module reads passwords from it.
            "key_vault": {"type": "dict", "no_log": False, "options": {
                "vault_uri": {"type": "str"},
                "vault_id": {"type": "str"},
            }},
            "sslmode": {"type": "str", "default": "require",
                        "choices": ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]},
            "sslrootcert": {"type": "str"},
            "connect_timeout": {"type": "int", "default": 15},
            "roles": {"type": "list", "elements": "dict", "required": True, "options": {
                "name": {"type": "str", "required": True},
                "database": {"type": "str", "required": True},
                "password": {"type": "str", "no_log": True},
                "password_secret": {"type": "str", "no_log": False},
            }},
            "extensions": {"type": "list", "elements": "str", "default": ["pg_stat_statements", "pg_trgm", "uuid-ossp"]},
        },
        required_one_of=[("admin_password", "admin_password_secret")],
    )
    try:
        import psycopg
        from psycopg import sql
    except ImportError:
        az.module.fail_json(msg="postgresql_roles needs the psycopg (version 3) Python package where it runs")
    params = az.params
    for role in params["roles"]:
        if not role["password"] and not role["password_secret"]:
            az.module.fail_json(msg=f"role {role['name']}: give password or password_secret")
    secrets = Secrets(az)
    admin_password = params["admin_password"] or secrets.get(params["admin_password_secret"])

    tls = {"sslmode": params["sslmode"]}
    if params["sslrootcert"]:
        tls["sslrootcert"] = params["sslrootcert"]

    def connect(user: str, password: str, dbname: str) -> Any:
        return psycopg.connect(host=params["host"], port=params["port"], user=user, password=password, dbname=dbname,
                               connect_timeout=params["connect_timeout"], autocommit=True,
                               application_name="complianceflow.azure_infra", **tls)

    report: dict[str, dict[str, Any]] = {}
    try:
        admin = connect(params["admin_user"], admin_password, "postgres")
    except psycopg.Error as exc:
        az.module.fail_json(msg=f"cannot log in to {params['host']}:{params['port']} as {params['admin_user']}: "
                                f"{str(exc).strip()}")

    def run(statement: Any, changes: list[str], note: str, args: Any = None, conn: Any = None) -> None:
        changes.append(note)
        if not az.check_mode:
            (conn or admin).execute(statement, args)

    with admin:
        for role in params["roles"]:
            name, database = role["name"], role["database"]
            changes: list[str] = []
            db_row = admin.execute("SELECT pg_get_userbyid(datdba), EXISTS (SELECT 1 FROM aclexplode(COALESCE(datacl, "
                                   "acldefault('d', datdba))) a WHERE a.grantee = 0 AND a.privilege_type = 'CONNECT') "
                                   "FROM pg_database WHERE datname = %s", (database,)).fetchone()
            if db_row is None:
                az.module.fail_json(msg=f"database {database} (for role {name}) does not exist on {params['host']}",
                                    changed=az.changed)
            role_row = admin.execute("SELECT rolcanlogin FROM pg_roles WHERE rolname = %s", (name,)).fetchone()
            password: str | None = None
            if role_row is None:
                password = role["password"] or secrets.get(role["password_secret"])
                run(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(name), sql.Literal(password)),
                    changes, "created")
            elif not role_row[0]:
                run(sql.SQL("ALTER ROLE {} LOGIN").format(sql.Identifier(name)), changes, "login enabled")
            member = role_row is not None and admin.execute(
                "SELECT pg_has_role(current_user, %s, 'MEMBER')", (name,)).fetchone()[0]
            if not member:
                run(sql.SQL("GRANT {} TO {}").format(sql.Identifier(name), sql.Identifier(params["admin_user"])),
                    changes, "administrator made member")
            if db_row[0] != name:
                run(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(sql.Identifier(database), sql.Identifier(name)),
                    changes, f"owner {db_row[0]} -> {name}")
            if db_row[1]:
                run(sql.SQL("REVOKE CONNECT ON DATABASE {} FROM PUBLIC").format(sql.Identifier(database)),
                    changes, "CONNECT revoked from PUBLIC")
            if role_row is not None and not admin.execute("SELECT has_database_privilege(%s, %s, 'CONNECT')",
                                                          (name, database)).fetchone()[0]:
                # Someone revoked it (even an owner's own CONNECT can be revoked): the service could not log in.
                run(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(database), sql.Identifier(name)),
                    changes, "CONNECT granted")
            if role_row is not None or not az.check_mode:
                with connect(params["admin_user"], admin_password, database) as db:
                    installed = {r[0] for r in db.execute("SELECT extname FROM pg_extension").fetchall()}
                    for extension in params["extensions"]:
                        if extension not in installed:
                            run(sql.SQL("CREATE EXTENSION IF NOT EXISTS {}").format(sql.Identifier(extension)),
                                changes, f"extension {extension} created", conn=db)
            else:
                changes.extend(f"extension {e} created" for e in params["extensions"])
            if role_row is not None:
                password = role["password"] or secrets.get(role["password_secret"])
                if not az.check_mode or (db_row[0] == name and not db_row[1]):
                    try:
                        connect(name, password, database).close()
                    except psycopg.OperationalError as exc:
                        if not password_refused(exc):
                            az.module.fail_json(msg=f"role {name} cannot log in to {database}: {str(exc).strip()}",
                                                changed=az.changed)
                        run(sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(name), sql.Literal(password)),
                            changes, "password reset to the Key Vault value")
            if changes:
                az.changed = True
                az.record_diff(f"role {name}", {"before": {}, "after": {"changes": changes}})
            report[name] = {"database": database, "changes": changes}
    az.exit(roles=report)


if __name__ == "__main__":
    main()
