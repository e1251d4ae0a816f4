"""Real Redis servers behind emulated Azure Cache for Redis caches.

A service that pings its cache, authenticates with the cache's access key over TLS, and keeps working after a
key rotation must be proven against a real Redis, so each emulated cache is backed by a ``redis-server`` process
(Debian package ``redis-server``; Debian builds it with TLS). Design choices:

**One process per cache**, listening on 127.0.0.1 only: TLS on a free local port standing for the cache's
``sslPort`` (6380 in ARM), and, only while ``enableNonSslPort`` is true, plain TCP on another free port standing
for ``port`` (6379); otherwise the plain port is closed (``port 0``). ARM answers keep Azure's 6380/6379: where a
client really connects is what the admin API ``GET /_emulator/dataplanes`` reports per cache (``host``,
``ssl_port``, ``port``), as for the PostgreSQL plane.

**TLS as Azure serves it**: TLS 1.2 and later, a server certificate from the emulator's CA (``ca_dir``/ca.pem, the
file env.sh exports as ``SSL_CERT_FILE``) whose subject alternative names are the cache's host name
``<name>.redis.cache.windows.net``, ``localhost``, 127.0.0.1 and ::1. No client certificates.

**Access keys**: the ``default`` user has exactly two passwords, the cache's current primary and secondary key
(Redis 6+ ACL: a user may have several passwords), so ``AUTH <key>`` (or ``AUTH default <key>``) succeeds with
either and fails with anything else (``WRONGPASS``); a connection that does not authenticate gets ``NOAUTH``.
:meth:`set_keys` (the provider's ``regenerateKey``) replaces both passwords on the running server at once with
``ACL SETUSER default resetpass >k1 >k2``: the old key fails from then on, connections already authenticated stay
open (as in Redis). The configuration file holds only the keys' SHA-256 digests; the plane's private state file
(0600) holds the keys themselves, as the ARM store does.

**No persistence**: ``save ""`` and no AOF, as a Basic/Standard cache without RDB/AOF: the content does not survive
a restart of the emulator.

**Processes do not leak**: the servers are children of the emulator, started in their own session; the emulator
calls :meth:`stop_all` on shutdown. Where util-linux ``setpriv`` exists (Debian: always), each server is started
with ``--pdeathsig TERM`` from one long-lived thread of the plane, so the kernel stops it when the emulator dies,
even by SIGKILL, and even when its state directory is gone afterwards. :meth:`restart_all` (at start) first stops
any server a previous emulator left running, then starts every recorded cache again (a recorded pid counts as this
cache's server only when it runs the ``redis-server`` binary in the cache's directory). Redis runs fine as root; it
runs as the emulator's user.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pathlib
import shutil
import signal
import socket
import ssl
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..tls import ensure_certificates, ensure_server_certificate
from .ports import free_port, port_is_free

HOST = "127.0.0.1"
DNS_SUFFIX = "redis.cache.windows.net"
STATE_FILE = "caches.json"
START_TIMEOUT = 15.0


class RedisPlaneError(RuntimeError):
    """A Redis server could not be started, stopped, reached or reconfigured."""


def find_redis_server() -> pathlib.Path:
    found = shutil.which("redis-server") or ("/usr/bin/redis-server" if os.access("/usr/bin/redis-server", os.X_OK)
                                             else None)
    if not found:
        raise RedisPlaneError("redis-server not found: install the Debian package redis-server (scripts/system-deps.sh)")
    return pathlib.Path(found)


def _host_name(cache_id: str) -> str:
    return f"{cache_id.rstrip('/').rsplit('/', 1)[-1].lower()}.{DNS_SUFFIX}"


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _encode(*args: str) -> bytes:
    out = [f"*{len(args)}\r\n".encode()]
    for arg in args:
        data = arg.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


class RedisPlane:
    """redis-server processes standing behind emulated caches."""

    def __init__(self, base_dir: pathlib.Path, ca_dir: pathlib.Path | None = None) -> None:
        """``ca_dir``: the directory of the CA that issues the servers' certificates (the emulator's state
        directory); by default ``base_dir`` gets a CA of its own."""
        self._base = pathlib.Path(base_dir).resolve()
        self._base.mkdir(parents=True, exist_ok=True)
        self._ca_dir = pathlib.Path(ca_dir).resolve() if ca_dir is not None else self._base
        self._lock = threading.RLock()
        self._state_path = self._base / STATE_FILE
        self._state: dict[str, Any] = self._load_state()
        self._processes: dict[str, subprocess.Popen[bytes]] = {}
        self._binary: pathlib.Path | None = None
        # The parent-death signal follows the thread that forks: servers are forked by this one, which lives as
        # long as the plane (request threads come and go).
        self._spawner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="redis-plane")
        setpriv = shutil.which("setpriv")
        self._launcher = [setpriv, "--pdeathsig", "TERM", "--"] if setpriv else []

    # ------------------------------------------------------------------------------------------ public API
    @property
    def ca_file(self) -> pathlib.Path:
        """The CA certificate that verifies every cache's server certificate."""
        return ensure_certificates(self._ca_dir)[0]

    def ensure_cache(self, cache_id: str, primary_key: str, secondary_key: str, *,
                     non_ssl_port: bool = False) -> dict[str, Any]:
        """Start the server behind ``cache_id`` (create or update): keys and the plain port as ARM says now."""
        with self._lock:
            key = cache_id.lower()
            record = self._state["caches"].get(key)
            if record is None:
                cache_dir = self._base / hashlib.sha256(key.encode()).hexdigest()[:16]
                cache_dir.mkdir(mode=0o700, exist_ok=True)
                record = {"cache_id": cache_id, "dir": str(cache_dir), "host": HOST, "ssl_port": None, "port": None,
                          "non_ssl_port": non_ssl_port, "keys": [primary_key, secondary_key], "pid": None}
                self._state["caches"][key] = record
                self._save_state()
                self._start(record)
                return self._endpoint(record)
            if not self._is_running(record):
                record["keys"] = [primary_key, secondary_key]
                record["non_ssl_port"] = non_ssl_port
                self._start(record)
                return self._endpoint(record)
            if record["keys"] != [primary_key, secondary_key]:
                self.set_keys(cache_id, primary_key, secondary_key)
            if record["non_ssl_port"] != non_ssl_port:
                self._set_plain_port(record, non_ssl_port)
            return self._endpoint(record)

    def set_keys(self, cache_id: str, primary_key: str, secondary_key: str) -> None:
        """The cache's keys changed (regenerateKey): only the new pair authenticates from now on."""
        with self._lock:
            record = self._state["caches"].get(cache_id.lower())
            if record is None:
                return
            if self._is_running(record):
                self._command(record, "ACL", "SETUSER", "default", "resetpass", f">{primary_key}", f">{secondary_key}")
            record["keys"] = [primary_key, secondary_key]
            self._save_state()
            self._write_config(record)

    def delete_cache(self, cache_id: str) -> None:
        with self._lock:
            record = self._state["caches"].pop(cache_id.lower(), None)
            self._save_state()
            if record is None:
                return
            self._stop(record)
            shutil.rmtree(record["dir"], ignore_errors=True)

    def describe(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {r["cache_id"]: {**self._endpoint(r), "hostName": _host_name(r["cache_id"]),
                                    "running": self._is_running(r)} for r in self._state["caches"].values()}

    def stop_all(self) -> None:
        with self._lock:
            for record in self._state["caches"].values():
                self._stop(record)

    def restart_all(self) -> None:
        """At emulator start: stop what a previous emulator left running, start every recorded cache."""
        with self._lock:
            errors = []
            for record in self._state["caches"].values():
                try:
                    self._stop(record)
                    self._start(record)
                except RedisPlaneError as err:
                    errors.append(str(err))
            if errors:
                raise RedisPlaneError("; ".join(errors))

    # ------------------------------------------------------------------------------------------- servers
    @staticmethod
    def _endpoint(record: dict[str, Any]) -> dict[str, Any]:
        return {"host": record["host"], "ssl_port": record["ssl_port"],
                "port": record["port"] if record["non_ssl_port"] else None}

    def _write_config(self, record: dict[str, Any]) -> pathlib.Path:
        cache_dir = pathlib.Path(record["dir"])
        cert_path, key_path = cache_dir / "server.crt", cache_dir / "server.key"
        ensure_server_certificate(self._ca_dir, cache_dir, [_host_name(record["cache_id"]), "localhost"],
                                  [HOST, "::1"], record, self.ca_file)
        passwords = " ".join(f"#{_digest(k)}" for k in record["keys"])
        plain = record["port"] if record["non_ssl_port"] else 0
        lines = [
            "# Written by the emulator: one Azure Cache for Redis (TLS, two access keys, no persistence).",
            f"bind {HOST}",
            f"port {plain}",
            f"tls-port {record['ssl_port']}",
            f"tls-cert-file {cert_path}",
            f"tls-key-file {key_path}",
            f"tls-ca-cert-file {self.ca_file}",
            "tls-auth-clients no",
            'tls-protocols "TLSv1.2 TLSv1.3"',
            f"dir {cache_dir}",
            f"logfile {cache_dir / 'redis.log'}",
            "daemonize no",
            'save ""',
            "appendonly no",
            f"user default on resetpass {passwords} ~* &* +@all",
        ]
        conf = cache_dir / "redis.conf"
        fd = os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")
        return conf

    def _start(self, record: dict[str, Any]) -> None:
        if self._is_running(record):
            return
        last_error = ""
        for _attempt in range(3):
            if not record["ssl_port"] or not port_is_free(record["ssl_port"], HOST):
                record["ssl_port"] = free_port(HOST)
            if not record["port"] or not port_is_free(record["port"], HOST):
                record["port"] = free_port(HOST)
            conf = self._write_config(record)
            process = self._spawner.submit(
                subprocess.Popen, [*self._launcher, str(self._redis_server()), str(conf)], cwd=record["dir"],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                start_new_session=True).result()
            if self._wait_ready(record, process):
                self._processes[record["cache_id"].lower()] = process
                record["pid"] = process.pid
                self._save_state()
                return
            process.kill()
            process.wait(timeout=10)
            log = pathlib.Path(record["dir"]) / "redis.log"
            last_error = log.read_text(encoding="utf-8", errors="replace")[-1500:] if log.exists() else ""
            # A port probed free may have been taken before redis bound it: try other ports.
            record["ssl_port"] = record["port"] = None
        raise RedisPlaneError(f"{record['cache_id']}: redis-server did not start: {last_error}")

    def _wait_ready(self, record: dict[str, Any], process: subprocess.Popen[bytes]) -> bool:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if process.poll() is not None:
                return False
            try:
                self._command(record, "PING")
                return True
            except (OSError, RedisPlaneError):
                time.sleep(0.05)
        return False

    def _stop(self, record: dict[str, Any]) -> None:
        process = self._processes.pop(record["cache_id"].lower(), None)
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        elif self._owns(record):
            # Left running by an emulator that died: its pid, checked to be this cache's redis-server.
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(record["pid"]), signal.SIGTERM)
            deadline = time.monotonic() + 10
            while self._owns(record) and time.monotonic() < deadline:
                time.sleep(0.05)
        record["pid"] = None
        self._save_state()

    def _owns(self, record: dict[str, Any]) -> bool:
        """Whether the recorded pid is alive and is redis-server started for this cache (its binary, run in the
        cache's directory); redis-server rewrites its command line, so that cannot tell."""
        pid = record.get("pid")
        if not pid:
            return False
        proc = pathlib.Path(f"/proc/{int(pid)}")
        try:
            state = (proc / "stat").read_text().rsplit(")", 1)[-1].split()[0]
            exe = pathlib.Path(os.readlink(proc / "exe"))
            cwd = pathlib.Path(os.readlink(proc / "cwd"))
        except OSError:
            return False
        # Debian's /usr/bin/redis-server is a link to redis-check-rdb: compare the resolved binaries.
        return state != "Z" and exe == self._redis_server().resolve() and cwd == pathlib.Path(record["dir"]).resolve()

    def _is_running(self, record: dict[str, Any]) -> bool:
        process = self._processes.get(record["cache_id"].lower())
        if process is not None:
            return process.poll() is None
        return self._owns(record)

    def _set_plain_port(self, record: dict[str, Any], enabled: bool) -> None:
        if enabled and not port_is_free(record["port"] or 0, HOST):
            record["port"] = free_port(HOST)
        self._command(record, "CONFIG", "SET", "port", str(record["port"] if enabled else 0))
        record["non_ssl_port"] = enabled
        self._save_state()
        self._write_config(record)

    def _command(self, record: dict[str, Any], *args: str) -> str:
        """Run one command as the default user over TLS (the plane's own session); returns the simple reply."""
        context = ssl.create_default_context(cafile=str(self.ca_file))
        with socket.create_connection((HOST, int(record["ssl_port"])), timeout=5) as raw, \
                context.wrap_socket(raw, server_hostname=_host_name(record["cache_id"])) as sock:
            reader = sock.makefile("rb")
            replies = []
            for command in (("AUTH", "default", record["keys"][0]), args):
                sock.sendall(_encode(*command))
                line = reader.readline().decode(errors="replace").rstrip("\r\n")
                if not line or line.startswith("-"):
                    raise RedisPlaneError(f"{record['cache_id']}: {' '.join(command[:2])}: {line or 'no answer'}")
                replies.append(line)
            return replies[-1][1:]

    def _redis_server(self) -> pathlib.Path:
        if self._binary is None:
            self._binary = find_redis_server()
        return self._binary

    # --------------------------------------------------------------------------------------------- state
    def _load_state(self) -> dict[str, Any]:
        if self._state_path.exists():
            state: dict[str, Any] = json.loads(self._state_path.read_text(encoding="utf-8"))
            return state
        return {"caches": {}}

    def _save_state(self) -> None:
        tmp = self._state_path.with_suffix(".tmp")
        # The state holds the access keys: private to the emulator's user.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(self._state, handle, indent=1)
        os.replace(tmp, self._state_path)
