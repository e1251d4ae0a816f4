"""Blob storage behind storage accounts: Azurite, Microsoft's own storage emulator (npm package ``azurite``).

Each storage account gets its own ``azurite-blob`` process on a free loopback port, with its own data directory,
started when the account is created and stopped (its data removed) when the account is deleted, as a deleted
account's blobs are gone in Azure. The account's ``primaryEndpoints.blob`` is ``https://127.0.0.1:<port>/<name>/``
(Azurite takes the account from the first path segment when the host is an IP address).

Entra ID only: Azurite runs with ``--oauth basic`` over HTTPS with the emulator's server certificate, so bearer
tokens the emulator issues for ``https://storage.azure.com`` are accepted (Azurite checks issuer, audience and
lifetime; it does not check signatures or data roles). Azurite knows only the accounts in ``AZURITE_ACCOUNTS``,
fixed at its start: that is one reason for one process per account (the other: deleting an account deletes its
data).

Processes die with the emulator (SIGTERM from ``stop_all``; on Linux also when the emulator is killed, through
the parent-death signal) and are brought back with their data by ``restart_all`` on the next start.
"""

from __future__ import annotations

import contextlib
import ctypes
import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from .ports import free_port, port_is_free

START_TIMEOUT_S = 60.0
PR_SET_PDEATHSIG = 1


def find_azurite() -> list[str] | None:
    """The command that runs Azurite's blob service: ``CF_EMULATOR_AZURITE``, ``azurite-blob`` on PATH, or the
    npm global install (``npm install -g azurite``) under the usual prefixes."""
    override = os.environ.get("CF_EMULATOR_AZURITE")
    if override:
        return [override]
    found = shutil.which("azurite-blob")
    if found:
        return [found]
    node = shutil.which("node")
    for main in (*glob.glob("/usr/local/lib/node_modules/azurite/dist/src/blob/main.js"),
                 *glob.glob("/usr/lib/node_modules/azurite/dist/src/blob/main.js")):
        if node:
            return [node, main]
    return None


def _die_with_parent() -> None:
    # Runs in the child between fork and exec: a SIGKILLed emulator must not leave Azurite behind.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class AzuriteError(RuntimeError):
    """Azurite is missing or did not start."""


class AzuritePlane:
    def __init__(self, directory: Path, cert: Path, key: Path, command: list[str]) -> None:
        self.directory = directory
        self.cert = cert
        self.key = key
        self.command = command
        self.directory.mkdir(parents=True, exist_ok=True)
        self._state_file = directory / "accounts.json"
        self._accounts: dict[str, dict[str, Any]] = {}
        if self._state_file.exists():
            self._accounts = json.loads(self._state_file.read_text())
        self._processes: dict[str, subprocess.Popen[bytes]] = {}
        self._lock = threading.RLock()
        # Linux sends the parent-death signal when the *thread* that forked ends: request threads are short-lived,
        # so every Azurite is forked from this one long-lived thread.
        self._spawner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="azurite-spawner")

    def _save(self) -> None:
        tmp = self._state_file.with_name(".accounts.json.tmp")
        tmp.write_text(json.dumps(self._accounts, indent=2))
        os.replace(tmp, self._state_file)

    def endpoint(self, name: str) -> str:
        """The blob endpoint of an account, reserving its port on first use (the process starts in ``ensure``)."""
        with self._lock:
            record = self._accounts.setdefault(name.lower(), {})
            if not record.get("port"):
                record["port"] = free_port()
                self._save()
            return f"https://127.0.0.1:{record['port']}/{name.lower()}/"

    def ensure_account(self, name: str, key: str) -> str:
        """Run Azurite for the account (no-op when it runs); returns the blob endpoint."""
        name = name.lower()
        endpoint = self.endpoint(name)
        with self._lock:
            record = self._accounts[name]
            record["key"] = key
            self._save()
            process = self._processes.get(name)
            if process is not None and process.poll() is None:
                return endpoint
            self._start(name)
        return endpoint

    def _start(self, name: str) -> None:
        record = self._accounts[name]
        if not port_is_free(int(record["port"])):
            # The recorded port went to someone else while the emulator was down: the account moves.
            record["port"] = free_port()
            self._save()
        port = int(record["port"])
        data = self.directory / name
        data.mkdir(parents=True, exist_ok=True)
        log = (self.directory / f"{name}.log").open("ab")
        args = [*self.command, "--blobHost", "127.0.0.1", "--blobPort", str(port), "--location", str(data),
                "--oauth", "basic", "--cert", str(self.cert), "--key", str(self.key), "--disableTelemetry",
                # Azure serves every published API version; Azurite refuses those newer than its release, which the
                # newest azure-storage-blob sends by default.
                "--skipApiVersionCheck", "--silent"]
        env = {**os.environ, "AZURITE_ACCOUNTS": f"{name}:{record['key']}"}
        process = self._spawner.submit(
            subprocess.Popen, args, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,
        ).result()
        log.close()
        self._processes[name] = process
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if process.poll() is not None:
                tail = (self.directory / f"{name}.log").read_text(errors="replace")[-2000:]
                raise AzuriteError(f"Azurite for {name} exited with {process.returncode}: {tail}")
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                sock.settimeout(0.5)
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    return
            time.sleep(0.05)
        self._stop(name)
        raise AzuriteError(f"Azurite for {name} did not listen on port {port} within {START_TIMEOUT_S:.0f} s")

    def _stop(self, name: str) -> None:
        process = self._processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def delete_account(self, name: str) -> None:
        """The account is gone: stop its Azurite and remove its blobs."""
        name = name.lower()
        with self._lock:
            self._stop(name)
            self._accounts.pop(name, None)
            self._save()
            shutil.rmtree(self.directory / name, ignore_errors=True)
            (self.directory / f"{name}.log").unlink(missing_ok=True)

    def restart_all(self) -> None:
        """At emulator start: bring back every recorded account with its data."""
        with self._lock:
            for name, record in list(self._accounts.items()):
                if record.get("key"):
                    self._start(name)
                else:
                    self._accounts.pop(name)
            self._save()

    def stop_all(self) -> None:
        with self._lock:
            for name in list(self._processes):
                self._stop(name)
        self._spawner.shutdown(wait=False)

    def describe(self) -> dict[str, Any]:
        with self._lock:
            return {name: {"port": record.get("port"), "endpoint": f"https://127.0.0.1:{record.get('port')}/{name}/",
                           "running": name in self._processes and self._processes[name].poll() is None}
                    for name, record in self._accounts.items()}
