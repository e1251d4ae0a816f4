"""Real PostgreSQL servers behind emulated Azure Database for PostgreSQL flexible servers.

Logging in as the server administrator, creating roles, grants, databases and extensions must run for real,
so each emulated flexible server is backed by a PostgreSQL cluster. Design choices:

**One cluster per emulated server** (managed mode, ``dsn=None``). True isolation (roles are cluster-wide in
PostgreSQL, as they are per server in Azure), at the price of one ``initdb`` (about a second) per server. Each
cluster listens on 127.0.0.1 only, on a free port picked when it starts (kept across restarts when still free).
Unix sockets are disabled: socket paths are limited to 107 bytes and test directories are often longer, and
TCP with password authentication is what Azure offers anyway. The plane itself connects over TCP as the
cluster's bootstrap superuser ``azuresu`` (the name Azure uses for its own superuser) with a random password
kept in the plane's private state file.

**Azure's role model.** The administrator login is a real role with LOGIN, CREATEROLE and CREATEDB, member of
``azure_pg_admin``, and *not* a superuser. ``azure_pg_admin`` holds ``pg_read_all_settings``,
``pg_read_all_stats``, ``pg_stat_scan_tables`` and ``pg_signal_backend`` and owns the ``postgres`` database and
the databases created through ARM, so the administrator can create schemas and extensions in them (Azure documents
the administrator's attributes and membership; who owns those databases is this plane's modelling choice).

**Extensions.** PostgreSQL lets a non-superuser create only *trusted* extensions. uuid-ossp, pg_trgm, pgcrypto
and others are trusted already; pg_stat_statements, pg_buffercache, dblink and others are not, yet Azure lets its
administrator create every extension it supports once allow-listed (below). To model that without touching the
system installation, the plane builds a private overlay of the PostgreSQL installation: a copy (hard link when
possible) of the ``postgres`` binary and a share directory made of symlinks, where the control files of the
extensions Azure supports (``AZURE_EXTENSIONS``, the provider's allowed values of ``azure.extensions``) that are
not trusted are copied with ``trusted = true`` (an overlay of an older plane, per ``OVERLAY_VERSION``, is rebuilt).
PostgreSQL locates its share and library directories relative to its binary, so the overlay server sees the
overlay share directory and the system libraries. As on Azure,
pg_stat_statements is also in ``shared_preload_libraries``. The extensions come from postgresql-contrib
(Debian: package ``postgresql-contrib`` or ``postgresql-15`` which ships them); without it CREATE EXTENSION
fails with "extension ... is not available".

**Azure's extension allow-list.** On Azure the administrator (any non-superuser) may CREATE or DROP only the
extensions the server parameter ``azure.extensions`` names (comma-separated, case-insensitive; Azure's default is
empty: none), else ``ERROR: extension "x" is not allow-listed for "azure_pg_admin" users in Azure Database for
PostgreSQL`` (SQLSTATE 0A000) with ``HINT: to see the full allow list of extensions, please run: "show
azure.extensions;"``. The plane writes the parameter to ``azure.conf`` as a custom setting (dynamic: reload, so
``SHOW azure.extensions`` answers it), and two event triggers of the bootstrap superuser (``ddl_command_end`` on
CREATE EXTENSION, ``sql_drop`` on DROP EXTENSION; schema ``azure_emulator``, see ``GUARD_SQL``) raise that error
for a non-superuser. The list is read from the configuration files (``pg_file_settings``, through a SECURITY
DEFINER function), never from the session, where the placeholder is a setting any user could SET. The triggers are
created in template0, template1 and ``postgres`` when the cluster is made, so every database created later,
through ARM or by CREATE DATABASE (from either template), has them; ``azuresu`` is not restricted. A cluster made
by an emulator without the guard (no ``extension_guard`` version in its record) gets it in every database at its
next start; the emulator then hands ARM's dynamic parameters to the plane again (``replay_parameters`` in the
provider), so such a cluster learns the allow-list ARM holds. Differences from Azure: the triggers run after the
statement (the transaction is rolled back), so an extension PostgreSQL itself refuses first (one Azure does not
support, hence not trusted here, or one not installed locally) fails with PostgreSQL's error instead;
``CREATE EXTENSION IF NOT EXISTS`` of an extension that already exists creates nothing and is not checked; the
rule is not enforced in shared mode.

**Authentication.** ``pg_hba.conf`` has only ``scram-sha-256`` lines for 127.0.0.1 and ::1: a wrong password is
refused by PostgreSQL itself.

**TLS, as Azure serves it.** Every cluster has ``ssl = on`` (TLS 1.2 at least) with a server certificate issued by
the emulator's CA (``ca_dir``/ca.pem, the file env.sh exports as ``SSL_CERT_FILE``) whose subject alternative
names are the server's Azure host name ``<name>.postgres.database.azure.com``, ``localhost``, 127.0.0.1 and ::1,
so a client connecting to the local address verifies it with ``sslmode=verify-full sslrootcert=<ca.pem>``. While
the server parameter ``require_secure_transport`` is on (Azure's default) ``pg_hba.conf`` has only ``hostssl``
lines, so a plain connection is refused by PostgreSQL itself (``no pg_hba.conf entry ... no encryption``); set to
off, the lines are ``host`` and both are accepted (:meth:`set_parameter` rewrites the file and reloads).

**Server parameters.** The ARM provider hands the plane each parameter write; the plane applies those that are
PostgreSQL settings it can run locally (``APPLIED_PARAMETERS``) to an ``azure.conf`` included by
``postgresql.conf`` (with ``azure.extensions``, above): dynamic ones at once (reload; an unchanged value neither
rewrites nor reloads), static ones only when the provider's ``restart`` action calls
:meth:`restart_server`, which stops and starts the cluster for real. A parameter back at Azure's default (source
``system-default``) is removed from ``azure.conf`` and the cluster's own default applies.

**Running as root.** initdb and postgres refuse to run as root. When the plane runs as root, the clusters run
as the ``postgres`` account if the system has one; otherwise the plane creates a system account ``cfemu``
(``useradd --system``, no home, no shell). Run as any other user, clusters run as that user. Cluster files
live under ``base_dir`` when the service account can traverse every parent directory; otherwise (typically
``/tmp/pytest-of-root/...``, which is 0700) under ``<tmp>/cfemu-pg-<hash of base_dir>``, recorded in the state
file so that a restarted plane finds them again, with an ``owner`` file naming ``base_dir``: once that directory
is gone (a test session's temporary state), the next plane to start stops those clusters and removes them.
``delete_server`` removes a server's files in both cases.

**Durability is traded for speed** (``fsync``, ``synchronous_commit`` and ``full_page_writes`` off): the data
survives a restart of the emulator or of PostgreSQL, not a crash of the machine.

**Processes do not leak.** ``pg_ctl`` detaches the postmaster, so the emulator must call :meth:`stop_all` on
shutdown; :meth:`restart_all` (after a restart, or after a crash of the emulator) first stops any cluster left
running, then starts every recorded server again.

**Shared mode** (``dsn`` given). One existing PostgreSQL server backs every emulated server: the plane creates
``azure_pg_admin``, the administrator roles and the databases there, through ``dsn`` (which must be a superuser
or a role with CREATEROLE and CREATEDB). Roles and databases are therefore shared by all emulated servers: two
servers with the same admin login share one role and one password, and a database name is visible from every
server. Use distinct names, or managed mode when isolation matters. pg_stat_statements is only creatable if that
server allows it. ``stop_all``/``restart_all`` do not stop or start a server the plane does not own.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import os
import pathlib
import pwd
import re
import secrets
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator, Mapping
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from ..providers.postgresql import AZURE_EXTENSIONS
from ..tls import ensure_certificates, ensure_server_certificate
from .ports import free_port, port_is_free

SUPERUSER = "azuresu"
ADMIN_GROUP = "azure_pg_admin"
# Built-in roles Azure grants to azure_pg_admin so that the administrator can monitor and manage sessions.
ADMIN_GROUP_GRANTS = ("pg_read_all_settings", "pg_read_all_stats", "pg_stat_scan_tables", "pg_signal_backend")
# Every extension Azure supports can be created by its administrator once allow-listed: the overlay marks them
# trusted, and the allow-list (GUARD_SQL) decides.
AZURE_SUPPORTED_EXTENSIONS = frozenset(AZURE_EXTENSIONS.split(","))
OVERLAY_VERSION = "2"  # in the overlay's marker file: 1 (empty) trusted pg_stat_statements only
HOST = "127.0.0.1"
FALLBACK_SERVICE_USER = "cfemu"
PG_CTL_TIMEOUT = 60
STATE_FILE = "servers.json"
FALLBACK_PREFIX = "cfemu-pg-"
OWNER_FILE = "owner"  # in a fallback cluster directory: the plane directory it belongs to

SERVER_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "unix_socket_directories": "''",
    "shared_preload_libraries": "'pg_stat_statements'",
    "password_encryption": "'scram-sha-256'",
    "max_connections": "50",
    "shared_buffers": "'16MB'",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "logging_collector": "off",
}

DNS_SUFFIX = "postgres.database.azure.com"
AZURE_CONF = "azure.conf"  # in the data directory: TLS and the applied server parameters, rewritten by the plane
INCLUDE_LINE = f"include_if_exists = '{AZURE_CONF}'"
# Azure server parameters that are PostgreSQL settings of the same name and meaning the local cluster can run
# (pg_cron, PgBouncer, pgaudit and the like are not installed locally; timezone names are not checked by ARM).
APPLIED_PARAMETERS = frozenset({
    "ssl_min_protocol_version", "ssl_max_protocol_version", "log_min_duration_statement", "log_statement",
    "log_connections", "log_disconnections", "log_checkpoints", "log_lock_waits", "constraint_exclusion",
    "max_connections", "work_mem", "statement_timeout", "idle_in_transaction_session_timeout", "max_wal_size",
    "autovacuum",
})
SECURE_TRANSPORT = "require_secure_transport"
# Azure's extension allow-list: a custom setting in azure.conf, enforced by event triggers in every database.
ALLOW_LIST = "azure.extensions"
GUARD_SCHEMA = "azure_emulator"
GUARD_VERSION = 1  # recorded per cluster; a cluster with an older (or no) version gets the guard on its next start
# Azure's error (SQLSTATE 0A000) and HINT for a CREATE/DROP EXTENSION of an extension not in azure.extensions.
NOT_ALLOW_LISTED = 'extension "%" is not allow-listed for "azure_pg_admin" users in Azure Database for PostgreSQL'
NOT_ALLOW_LISTED_HINT = 'to see the full allow list of extensions, please run: "show azure.extensions;"'
# The guard, run by the bootstrap superuser in each database. The list is read from the configuration files
# (pg_file_settings, superuser only: hence SECURITY DEFINER), never from the session, where azure.extensions is a
# placeholder any user could SET. A CREATE EXTENSION ... CASCADE also checks what it created along the way.
GUARD_SQL = f"""
CREATE SCHEMA IF NOT EXISTS {GUARD_SCHEMA};
REVOKE ALL ON SCHEMA {GUARD_SCHEMA} FROM PUBLIC;
GRANT USAGE ON SCHEMA {GUARD_SCHEMA} TO PUBLIC;
CREATE OR REPLACE FUNCTION {GUARD_SCHEMA}.allowed_extensions() RETURNS text[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $fn$
  SELECT coalesce(array_agg(lower(btrim(item))) FILTER (WHERE btrim(item) <> ''), '{{}}')
  FROM unnest(string_to_array((SELECT setting FROM pg_file_settings
                               WHERE name = '{ALLOW_LIST}' AND error IS NULL ORDER BY seqno DESC LIMIT 1), ',')) item
$fn$;
CREATE OR REPLACE FUNCTION {GUARD_SCHEMA}.enforce_extension_allow_list() RETURNS event_trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $fn$
DECLARE
  allowed text[];
  names text[];
  extension text;
BEGIN
  IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
    RETURN;
  END IF;
  allowed := {GUARD_SCHEMA}.allowed_extensions();
  IF TG_EVENT = 'sql_drop' THEN
    names := ARRAY(SELECT address_names[1] FROM pg_event_trigger_dropped_objects() WHERE object_type = 'extension');
  ELSE
    names := ARRAY(SELECT e.extname FROM pg_event_trigger_ddl_commands() c JOIN pg_extension e ON e.oid = c.objid
                   WHERE c.object_type = 'extension'
                   UNION SELECT extname FROM pg_extension WHERE xmin = pg_current_xact_id()::xid);
  END IF;
  FOREACH extension IN ARRAY names LOOP
    IF NOT lower(extension) = ANY (allowed) THEN
      RAISE EXCEPTION '{NOT_ALLOW_LISTED}', extension
        USING ERRCODE = 'feature_not_supported', HINT = '{NOT_ALLOW_LISTED_HINT.replace("'", "''")}';
    END IF;
  END LOOP;
END
$fn$;
DROP EVENT TRIGGER IF EXISTS azure_extension_allow_list_create;
DROP EVENT TRIGGER IF EXISTS azure_extension_allow_list_drop;
CREATE EVENT TRIGGER azure_extension_allow_list_create ON ddl_command_end WHEN TAG IN ('CREATE EXTENSION')
  EXECUTE FUNCTION {GUARD_SCHEMA}.enforce_extension_allow_list();
CREATE EVENT TRIGGER azure_extension_allow_list_drop ON sql_drop WHEN TAG IN ('DROP EXTENSION')
  EXECUTE FUNCTION {GUARD_SCHEMA}.enforce_extension_allow_list();
"""


def pg_hba(require_secure_transport: bool) -> str:
    """Password (SCRAM) authentication on loopback TCP only; TLS only while ``require_secure_transport`` is on."""
    kind = "hostssl" if require_secure_transport else "host"
    return (
        "# Written by the emulator: SCRAM passwords on loopback TCP; hostssl while require_secure_transport is on.\n"
        f"{kind}    all    all    127.0.0.1/32    scram-sha-256\n"
        f"{kind}    all    all    ::1/128         scram-sha-256\n"
    )


def _conf_value(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


class PostgresPlaneError(RuntimeError):
    """A cluster could not be created, started, stopped or reached."""


def _fqdn(server_id: str) -> str:
    """The Azure host name of a flexible server: ``<name>.postgres.database.azure.com``."""
    return f"{server_id.rstrip('/').rsplit('/', 1)[-1].lower()}.{DNS_SUFFIX}"


def _without_password(dsn: str) -> str:
    """The DSN as the admin API may show it: everything but the password."""
    params = conninfo_to_dict(dsn)
    params.pop("password", None)
    return make_conninfo(**{k: str(v) for k, v in params.items()})


def find_bin_dir() -> pathlib.Path:
    """The newest /usr/lib/postgresql/<major>/bin with initdb and pg_ctl, else the directory of initdb on PATH."""
    candidates = []
    for path in glob.glob("/usr/lib/postgresql/*/bin"):
        major = pathlib.Path(path).parent.name
        if major.isdigit() and os.access(os.path.join(path, "initdb"), os.X_OK):
            candidates.append((int(major), pathlib.Path(path)))
    if candidates:
        return max(candidates)[1]
    initdb = shutil.which("initdb")
    if initdb:
        return pathlib.Path(initdb).resolve().parent
    raise PostgresPlaneError("PostgreSQL server binaries not found: install postgresql (initdb, pg_ctl)")


class _ServiceAccount:
    """The OS account clusters run as, and how to run a command as it."""

    def __init__(self) -> None:
        if os.geteuid() != 0:
            entry = pwd.getpwuid(os.geteuid())
            self.switch = False
        else:
            entry = self._root_service_entry()
            self.switch = True
        self.name = entry.pw_name
        self.uid = entry.pw_uid
        self.gid = entry.pw_gid

    @staticmethod
    def _root_service_entry() -> pwd.struct_passwd:
        for name in ("postgres", FALLBACK_SERVICE_USER):
            with contextlib.suppress(KeyError):
                return pwd.getpwnam(name)
        # No account to run PostgreSQL as, and postgres refuses root: create a locked system account.
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", FALLBACK_SERVICE_USER],
            check=True,
            capture_output=True,
            timeout=30,
        )
        return pwd.getpwnam(FALLBACK_SERVICE_USER)

    def run(self, cmd: list[str], cwd: pathlib.Path, timeout: int = PG_CTL_TIMEOUT) -> subprocess.CompletedProcess[str]:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
        kwargs: dict[str, Any] = {}
        if self.switch:
            kwargs = {"user": self.uid, "group": self.gid, "extra_groups": []}
        return subprocess.run(
            cmd,
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=timeout,
            check=False,
            **kwargs,
        )

    def can_traverse(self, path: pathlib.Path) -> bool:
        """Whether this account can reach ``path`` (execute permission on every directory above it)."""
        if not self.switch:
            return True
        current = path.resolve()
        for directory in [current, *current.parents]:
            if not directory.exists():
                continue
            info = directory.stat()
            if info.st_uid == self.uid:
                bit = 0o100
            elif info.st_gid == self.gid:
                bit = 0o010
            else:
                bit = 0o001
            if not info.st_mode & bit:
                return False
        return True

    def own(self, path: pathlib.Path) -> None:
        if self.switch:
            os.chown(path, self.uid, self.gid)


class PostgresPlane:
    """PostgreSQL clusters (or one shared server) standing behind emulated flexible servers."""

    def __init__(self, base_dir: pathlib.Path, dsn: str | None = None, ca_dir: pathlib.Path | None = None) -> None:
        """``ca_dir``: the directory of the CA that issues the servers' certificates (the emulator's state
        directory); by default ``base_dir`` itself gets a CA of its own."""
        self._base = pathlib.Path(base_dir).resolve()
        self._base.mkdir(parents=True, exist_ok=True)
        self._dsn = dsn
        self._ca_dir = pathlib.Path(ca_dir).resolve() if ca_dir is not None else self._base
        self._lock = threading.RLock()
        self._state_path = self._base / STATE_FILE
        self._state: dict[str, Any] = self._load_state()
        self._account: _ServiceAccount | None = None
        self._bin: pathlib.Path | None = None
        self._overlay_postgres: pathlib.Path | None = None

    # ------------------------------------------------------------------------------------------ public API
    @property
    def ca_file(self) -> pathlib.Path:
        """The CA certificate that verifies every cluster's server certificate (``sslrootcert``)."""
        return ensure_certificates(self._ca_dir)[0]

    @property
    def data_root(self) -> pathlib.Path | None:
        """Where cluster files live (None until the first cluster, or in shared mode)."""
        recorded = self._state.get("data_root")
        return pathlib.Path(recorded) if recorded else None

    def ensure_server(self, server_id: str, admin_login: str, admin_password: str | None) -> dict[str, Any]:
        """Create (or start) the server behind ``server_id``; ``admin_password`` None keeps the current one."""
        with self._lock:
            key = server_id.lower()
            record = self._state["servers"].get(key)
            if record is not None:
                if record["admin_login"] != admin_login:
                    raise ValueError(
                        f"{server_id}: the administrator login is {record['admin_login']!r} "
                        "and cannot be changed (as in Azure)"
                    )
                if self._dsn is None:
                    self._start(record)
                if admin_password is not None:
                    self.set_admin_password(server_id, admin_password)
                return {"host": record["host"], "port": record["port"]}
            record = self._create_cluster(server_id, key) if self._dsn is None else self._shared_record(server_id)
            record["admin_login"] = admin_login
            self._state["servers"][key] = record
            self._save_state()
            try:
                self._bootstrap_roles(record, admin_password)
            except Exception:
                self._discard(key)
                raise
            return {"host": record["host"], "port": record["port"]}

    def set_admin_password(self, server_id: str, admin_password: str) -> None:
        with self._lock:
            record = self._record(server_id)
            with self._superuser(record) as conn:
                conn.execute(
                    sql.SQL("ALTER ROLE {} WITH LOGIN PASSWORD {}").format(
                        sql.Identifier(record["admin_login"]), sql.Literal(admin_password)
                    )
                )

    def create_database(self, server_id: str, name: str) -> None:
        with self._lock:
            record = self._record(server_id)
            with self._superuser(record) as conn:
                exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
                if not exists:
                    # Databases created through ARM belong to azure_pg_admin, so the administrator can use them.
                    conn.execute(
                        sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(name), sql.Identifier(ADMIN_GROUP))
                    )
            if name not in record["databases"]:
                record["databases"].append(name)
                self._save_state()

    def drop_database(self, server_id: str, name: str) -> None:
        with self._lock:
            record = self._record(server_id)
            with self._superuser(record) as conn:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            if name in record["databases"]:
                record["databases"].remove(name)
                self._save_state()

    def set_parameter(self, server_id: str, name: str, value: str, *, is_default: bool = False) -> None:
        """A dynamic server parameter was written: apply it at once (rewrite the configuration, reload).

        ``require_secure_transport`` switches ``pg_hba.conf`` between ``hostssl`` and ``host``; parameters in
        ``APPLIED_PARAMETERS`` go to ``azure.conf`` (removed when ``is_default``); others are not run locally.
        """
        with self._lock:
            record = self._state["servers"].get(server_id.lower())
            if record is None or self._dsn is not None:
                return
            before = (record.get(SECURE_TRANSPORT, True), dict(record.get("parameters", {})))
            if not self._remember(record, name, value, is_default) or before == (
                    record.get(SECURE_TRANSPORT, True), record.get("parameters", {})):
                return  # not run locally, or unchanged: no reload
            self._write_config(record)
            if self._is_running(record):
                self._pg_ctl(record, "reload")

    def restart_server(self, server_id: str, pending: Mapping[str, tuple[str, bool]] | None = None) -> None:
        """Restart the cluster for real, applying the static parameters ``pending`` ({name: (value, is_default)})."""
        with self._lock:
            record = self._state["servers"].get(server_id.lower())
            if record is None or self._dsn is not None:
                return
            for name, (value, is_default) in (pending or {}).items():
                self._remember(record, name, value, is_default)
            self._stop(record)
            self._start(record)

    def delete_server(self, server_id: str) -> None:
        with self._lock:
            key = server_id.lower()
            if key not in self._state["servers"]:
                return
            record = self._state["servers"][key]
            if self._dsn is not None:
                self._drop_shared(key, record)
            self._discard(key)

    def describe(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            out: dict[str, dict[str, Any]] = {}
            for record in self._state["servers"].values():
                entry: dict[str, Any] = {
                    "host": record["host"],
                    "port": record["port"],
                    "admin_login": record["admin_login"],
                    "fqdn": _fqdn(record["server_id"]),
                }
                if self._dsn is None:
                    entry["data_dir"] = record["data_dir"]
                    entry["running"] = self._is_running(record)
                    entry["tls"] = True
                    entry["require_secure_transport"] = record.get(SECURE_TRANSPORT, True)
                else:
                    entry["dsn"] = _without_password(self._dsn)
                out[record["server_id"]] = entry
            return out

    def stop_all(self) -> None:
        with self._lock:
            if self._dsn is not None:
                return
            errors = []
            for record in self._state["servers"].values():
                try:
                    self._stop(record)
                except PostgresPlaneError as err:
                    errors.append(str(err))
            if errors:
                raise PostgresPlaneError("; ".join(errors))

    def restart_all(self) -> None:
        with self._lock:
            if self._dsn is not None:
                return
            self._collect_orphans()
            errors = []
            for record in self._state["servers"].values():
                # One lost cluster (its files removed behind our back) must not keep the others down.
                try:
                    # A cluster still running was left by an emulator that died: stop it so it restarts clean.
                    self._stop(record)
                    self._start(record)
                except PostgresPlaneError as err:
                    errors.append(str(err))
            if errors:
                raise PostgresPlaneError("; ".join(errors))

    # ------------------------------------------------------------------------------------------- clusters
    def _create_cluster(self, server_id: str, key: str) -> dict[str, Any]:
        account = self._service_account()
        root = self._data_root()
        server_dir = root / hashlib.sha256(key.encode()).hexdigest()[:16]
        if server_dir.exists():
            # Files of a server this plane has no record of (a crash between initdb and saving state).
            self._remove_tree(server_dir)
        server_dir.mkdir(mode=0o700)
        account.own(server_dir)
        data_dir = server_dir / "data"
        superuser_password = secrets.token_urlsafe(24)
        pwfile = server_dir / "initdb.pw"
        pwfile.write_text(superuser_password + "\n", encoding="utf-8")
        pwfile.chmod(0o600)
        account.own(pwfile)
        try:
            result = account.run(
                [
                    str(self._bin_dir() / "initdb"),
                    "-D",
                    str(data_dir),
                    "-U",
                    SUPERUSER,
                    "--pwfile",
                    str(pwfile),
                    "--auth=scram-sha-256",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                    "--no-instructions",
                    "--no-sync",  # durability is traded for speed (see module docstring)
                ],
                cwd=server_dir,
                timeout=120,
            )
        finally:
            pwfile.unlink(missing_ok=True)
        if result.returncode != 0:
            self._remove_tree(server_dir)
            raise PostgresPlaneError(f"{server_id}: initdb failed: {result.stderr.strip() or result.stdout.strip()}")
        settings = "".join(f"{name} = {value}\n" for name, value in SERVER_SETTINGS.items())
        with (data_dir / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write("\n# Emulator settings\n" + settings + INCLUDE_LINE + "\n")
        record = {
            "server_id": server_id,
            "host": HOST,
            "port": None,
            "data_dir": str(data_dir),
            "server_dir": str(server_dir),
            "superuser_password": superuser_password,
            "databases": [],
            SECURE_TRANSPORT: True,
            "parameters": {},
        }
        self._start(record)
        return record

    def _remember(self, record: dict[str, Any], name: str, value: str, is_default: bool) -> bool:
        """Record a parameter's value for the cluster; False when the plane does not run it locally."""
        if name == SECURE_TRANSPORT:
            record[SECURE_TRANSPORT] = str(value).lower() == "on"
        elif name in APPLIED_PARAMETERS or name == ALLOW_LIST:
            parameters = record.setdefault("parameters", {})
            if is_default:
                parameters.pop(name, None)
            else:
                parameters[name] = str(value)
        else:
            return False
        self._save_state()
        return True

    def _write_config(self, record: dict[str, Any]) -> None:
        """Certificate, key, pg_hba.conf and azure.conf of a cluster, from the record (before a start or reload)."""
        account = self._service_account()
        data_dir = pathlib.Path(record["data_dir"])
        cert_path, key_path = data_dir / "server.crt", data_dir / "server.key"
        if ensure_server_certificate(self._ca_dir, data_dir, [_fqdn(record["server_id"]), "localhost"],
                                     [HOST, "::1"], record, self.ca_file):
            self._save_state()
        lines = ["# Written by the emulator: TLS as Azure serves it, then the applied server parameters.",
                 "ssl = on", "ssl_cert_file = 'server.crt'", "ssl_key_file = 'server.key'",
                 "ssl_min_protocol_version = 'TLSv1.2'"]
        lines += [f"{name} = {_conf_value(value)}" for name, value in sorted(record.get("parameters", {}).items())]
        (data_dir / AZURE_CONF).write_text("\n".join(lines) + "\n", encoding="utf-8")
        (data_dir / "pg_hba.conf").write_text(pg_hba(record.get(SECURE_TRANSPORT, True)), encoding="utf-8")
        conf = data_dir / "postgresql.conf"
        if INCLUDE_LINE not in conf.read_text(encoding="utf-8"):
            # A cluster made before the plane served TLS.
            with conf.open("a", encoding="utf-8") as handle:
                handle.write(INCLUDE_LINE + "\n")
        for path in (cert_path, key_path, data_dir / AZURE_CONF, data_dir / "pg_hba.conf"):
            account.own(path)

    def _pg_ctl(self, record: dict[str, Any], command: str) -> None:
        result = self._service_account().run([str(self._bin_dir() / "pg_ctl"), command, "-D", record["data_dir"]],
                                             cwd=pathlib.Path(record["server_dir"]))
        if result.returncode != 0:
            raise PostgresPlaneError(f"{record['server_id']}: pg_ctl {command} failed: {result.stderr.strip()}")

    def _start(self, record: dict[str, Any]) -> None:
        if self._is_running(record):
            return
        if not (pathlib.Path(record["data_dir"]) / "PG_VERSION").exists():
            raise PostgresPlaneError(f"{record['server_id']}: cluster files missing under {record['data_dir']}")
        account = self._service_account()
        postgres = self._overlay()
        self._write_config(record)
        log = pathlib.Path(record["server_dir"]) / "postgres.log"
        last_error = ""
        for _attempt in range(3):
            port = record["port"] if record["port"] and port_is_free(record["port"], HOST) else free_port(HOST)
            result = account.run(
                [
                    str(self._bin_dir() / "pg_ctl"),
                    "start",
                    "-D",
                    record["data_dir"],
                    "-w",
                    "-t",
                    str(PG_CTL_TIMEOUT),
                    "-p",
                    str(postgres),
                    "-l",
                    str(log),
                    "-o",
                    f"-p {port}",
                ],
                cwd=pathlib.Path(record["server_dir"]),
                timeout=PG_CTL_TIMEOUT + 10,
            )
            if result.returncode == 0:
                record["port"] = port
                self._save_state()
                if record.get("extension_guard") != GUARD_VERSION:
                    self._install_guard(record)
                return
            # The free port may have been taken between the probe and the bind: try another one.
            last_error = result.stderr.strip() or result.stdout.strip()
            record["port"] = None
        tail = log.read_text(encoding="utf-8", errors="replace")[-2000:] if log.exists() else ""
        raise PostgresPlaneError(f"{record['server_id']}: PostgreSQL did not start: {last_error}\n{tail}")

    def _stop(self, record: dict[str, Any]) -> None:
        if not self._is_running(record):
            return
        result = self._service_account().run(
            [
                str(self._bin_dir() / "pg_ctl"),
                "stop",
                "-D",
                record["data_dir"],
                "-m",
                "fast",
                "-w",
                "-t",
                str(PG_CTL_TIMEOUT),
            ],
            cwd=pathlib.Path(record["server_dir"]),
            timeout=PG_CTL_TIMEOUT + 10,
        )
        if result.returncode != 0 and self._is_running(record):
            raise PostgresPlaneError(f"{record['server_id']}: pg_ctl stop failed: {result.stderr.strip()}")

    def _is_running(self, record: dict[str, Any]) -> bool:
        if not pathlib.Path(record["data_dir"]).exists():
            return False
        result = self._service_account().run(
            [str(self._bin_dir() / "pg_ctl"), "status", "-D", record["data_dir"]],
            cwd=pathlib.Path(record["server_dir"]),
            timeout=30,
        )
        return result.returncode == 0

    def _discard(self, key: str) -> None:
        record = self._state["servers"].pop(key, None)
        self._save_state()
        if record is None or self._dsn is not None:
            return
        self._stop(record)
        self._remove_tree(pathlib.Path(record["server_dir"]))

    @staticmethod
    def _remove_tree(path: pathlib.Path) -> None:
        shutil.rmtree(path, ignore_errors=True)

    # ------------------------------------------------------------------------------------------ environment
    def _service_account(self) -> _ServiceAccount:
        if self._account is None:
            self._account = _ServiceAccount()
        return self._account

    def _bin_dir(self) -> pathlib.Path:
        if self._bin is None:
            self._bin = find_bin_dir()
        return self._bin

    def _data_root(self) -> pathlib.Path:
        recorded = self._state.get("data_root")
        if recorded:
            root = pathlib.Path(recorded)
        else:
            account = self._service_account()
            if account.can_traverse(self._base):
                root = self._base / "clusters"
            else:
                self._collect_orphans()
                digest = hashlib.sha256(str(self._base).encode()).hexdigest()[:12]
                root = pathlib.Path(tempfile.gettempdir()) / f"{FALLBACK_PREFIX}{digest}"
            self._state["data_root"] = str(root)
            self._save_state()
        if not root.exists():
            root.mkdir(parents=True, mode=0o700)
        if not root.is_relative_to(self._base):
            (root / OWNER_FILE).write_text(str(self._base), encoding="utf-8")
        self._service_account().own(root)
        return root

    def _collect_orphans(self) -> None:
        """Stop and remove fallback cluster directories whose emulator state directory no longer exists.

        A test session's emulator lives in a temporary directory that is removed after it; clusters it had to put
        under the system temp directory would otherwise stay there, and keep running if it crashed.
        """
        for root in pathlib.Path(tempfile.gettempdir()).glob(f"{FALLBACK_PREFIX}*"):
            try:
                owner = pathlib.Path((root / OWNER_FILE).read_text(encoding="utf-8").strip())
            except OSError:
                continue
            if owner.exists():
                continue
            for pid_file in root.glob("*/data/postmaster.pid"):
                self._service_account().run(
                    [str(self._bin_dir() / "pg_ctl"), "stop", "-D", str(pid_file.parent), "-m", "immediate", "-w"],
                    cwd=root,
                )
            self._remove_tree(root)

    def _overlay(self) -> pathlib.Path:
        """The overlay ``postgres`` binary whose share directory marks Azure's allowed extensions trusted."""
        if self._overlay_postgres is not None:
            return self._overlay_postgres
        bin_dir = self._bin_dir()
        pg_config = bin_dir / "pg_config"
        real_postgres = bin_dir / "postgres"
        if not pg_config.exists():
            # Without pg_config the layout is unknown: run the system binary (pg_stat_statements then needs a
            # superuser, a documented gap).
            self._overlay_postgres = real_postgres
            return real_postgres
        out = subprocess.run(
            [str(pg_config), "--bindir", "--sharedir", "--pkglibdir"],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        ).stdout.split()
        conf_bin, share, pkglib = (pathlib.Path(p) for p in out)
        prefix = pathlib.Path(os.path.commonpath([conf_bin, share, pkglib]))
        overlay = self._data_root() / "install"
        target = overlay / conf_bin.relative_to(prefix) / "postgres"
        marker = overlay / ".complete"
        if not marker.exists() or marker.read_text(encoding="utf-8") != OVERLAY_VERSION:
            self._remove_tree(overlay)
            target.parent.mkdir(parents=True)
            try:
                os.link(real_postgres, target)
            except OSError:
                shutil.copy2(real_postgres, target)
            lib_link = overlay / pkglib.relative_to(prefix)
            lib_link.parent.mkdir(parents=True, exist_ok=True)
            lib_link.symlink_to(pkglib)
            share_copy = overlay / share.relative_to(prefix)
            share_copy.mkdir(parents=True)
            for item in share.iterdir():
                if item.name != "extension":
                    (share_copy / item.name).symlink_to(item)
            extensions = share_copy / "extension"
            extensions.mkdir()
            for item in (share / "extension").iterdir():
                name = item.name.removesuffix(".control")
                text = item.read_text(encoding="utf-8") if item.suffix == ".control" else ""
                if name in AZURE_SUPPORTED_EXTENSIONS and not re.search(r"(?m)^\s*trusted\s*=\s*true", text):
                    (extensions / item.name).write_text(text.rstrip("\n") + "\ntrusted = true\n", encoding="utf-8")
                else:
                    (extensions / item.name).symlink_to(item)
            for directory in [overlay, *[p for p in overlay.rglob("*") if p.is_dir() and not p.is_symlink()]]:
                directory.chmod(0o755)
            marker.write_text(OVERLAY_VERSION, encoding="utf-8")
        self._overlay_postgres = target
        return target

    # ------------------------------------------------------------------------------------------------ SQL
    @contextlib.contextmanager
    def _superuser(self, record: dict[str, Any], dbname: str = "postgres") -> Iterator[psycopg.Connection[Any]]:
        if self._dsn is not None:
            conn = psycopg.connect(self._dsn, autocommit=True, connect_timeout=10)
        else:
            self._start(record)
            conn = self._connect(record, dbname)
        try:
            yield conn
        finally:
            conn.close()

    @staticmethod
    def _connect(record: dict[str, Any], dbname: str) -> psycopg.Connection[Any]:
        """A session of the bootstrap superuser on a running managed cluster."""
        return psycopg.connect(
            host=record["host"],
            port=record["port"],
            user=SUPERUSER,
            dbname=dbname,
            password=record["superuser_password"],
            autocommit=True,
            connect_timeout=10,
            # The plane's own session: TLS (hostssl may be all pg_hba allows), no need to verify itself.
            sslmode="require",
        )

    def _install_guard(self, record: dict[str, Any]) -> None:
        """The allow-list's event triggers in every database of a running cluster, templates included.

        template1 (and template0, which CREATE DATABASE ... TEMPLATE template0 copies) carry them into every database
        created later, through ARM or by CREATE DATABASE; the databases that already exist get them here. Also run
        on a cluster made before the guard existed, at its next start.
        """
        try:
            with self._connect(record, "postgres") as conn:
                databases = conn.execute("SELECT datname, datallowconn FROM pg_database ORDER BY datname").fetchall()
                for name, allows_connections in databases:
                    database = sql.Identifier(name)
                    if not allows_connections:
                        conn.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS true").format(database))
                    try:
                        with self._connect(record, name) as target:
                            target.execute(GUARD_SQL.encode())
                    finally:
                        if not allows_connections:
                            conn.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS false").format(database))
        except psycopg.Error as exc:
            raise PostgresPlaneError(f"{record['server_id']}: the extension allow-list could not be set up: {exc}") from exc
        record["extension_guard"] = GUARD_VERSION
        self._save_state()

    def _bootstrap_roles(self, record: dict[str, Any], admin_password: str | None) -> None:
        with self._superuser(record) as conn:
            has_group = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (ADMIN_GROUP,)).fetchone()
            if not has_group:
                conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(ADMIN_GROUP)))
                conn.execute(
                    sql.SQL("GRANT {} TO {}").format(
                        sql.SQL(", ").join(sql.Identifier(r) for r in ADMIN_GROUP_GRANTS), sql.Identifier(ADMIN_GROUP)
                    )
                )
            if self._dsn is None:
                conn.execute(sql.SQL("ALTER DATABASE postgres OWNER TO {}").format(sql.Identifier(ADMIN_GROUP)))
            admin = sql.Identifier(record["admin_login"])
            has_admin = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (record["admin_login"],)).fetchone()
            verb = sql.SQL("ALTER ROLE") if has_admin else sql.SQL("CREATE ROLE")
            options = sql.SQL("LOGIN CREATEROLE CREATEDB NOSUPERUSER")
            if admin_password is not None:
                options = sql.SQL("{} PASSWORD {}").format(options, sql.Literal(admin_password))
            conn.execute(sql.SQL("{} {} WITH {}").format(verb, admin, options))
            conn.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(ADMIN_GROUP), admin))

    # -------------------------------------------------------------------------------------------- shared
    def _shared_record(self, server_id: str) -> dict[str, Any]:
        assert self._dsn is not None
        with psycopg.connect(self._dsn, connect_timeout=10) as conn:
            host, port = conn.info.host, conn.info.port
        return {"server_id": server_id, "host": host, "port": port, "databases": []}

    def _drop_shared(self, key: str, record: dict[str, Any]) -> None:
        with self._superuser(record) as conn:
            for name in record["databases"]:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            others = [r for k, r in self._state["servers"].items() if k != key]
            if all(r["admin_login"] != record["admin_login"] for r in others):
                conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(record["admin_login"])))

    # --------------------------------------------------------------------------------------------- state
    def _record(self, server_id: str) -> dict[str, Any]:
        record = self._state["servers"].get(server_id.lower())
        if record is None:
            raise KeyError(f"no PostgreSQL data plane for {server_id}")
        return record

    def _load_state(self) -> dict[str, Any]:
        if self._state_path.exists():
            state: dict[str, Any] = json.loads(self._state_path.read_text(encoding="utf-8"))
            if state.get("dsn") == self._dsn:
                return state
            # The same directory now backs another kind of plane: its records would point nowhere.
            raise PostgresPlaneError(f"{self._state_path} was written for dsn={state.get('dsn')!r}, not {self._dsn!r}")
        return {"dsn": self._dsn, "servers": {}}

    def _save_state(self) -> None:
        tmp = self._state_path.with_suffix(".tmp")
        # The state holds superuser passwords: private to the emulator's user.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(self._state, handle, indent=1)
        os.replace(tmp, self._state_path)
