"""pytest plugin: a session-scoped `emulator` fixture running `python -m tests.emulator serve` in a subprocess.

Registered by tests/conftest.py (`pytest_plugins = ["tests.emulator.pytest_plugin"]`).
"""

from __future__ import annotations

import json
import os
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 60


def read_env_file(path: Path) -> dict[str, str]:
    import shlex

    env: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if line.startswith("export "):
            key, _, value = line[len("export "):].partition("=")
            env[key] = shlex.split(value)[0] if value else ""
    return env


class EmulatorProcess:
    """A running emulator: its URLs, credentials, and helpers to drive the admin API and build SDK clients."""

    def __init__(self, state_dir: Path, extra_args: list[str] | None = None, *, postgres: str = "off",
                 read_latency: float | None = None, strict_schema: bool | None = None) -> None:
        """`extra_args` go to `serve` as given (`["--latency", "realistic"]`); `read_latency` adds
        `--read-latency` (seconds every ARM and Key Vault GET waits); `strict_schema` True/False adds
        `--strict-schema`/`--no-strict-schema` (None: CF_EMULATOR_STRICT_SCHEMA decides, off by default)."""
        self.state_dir = state_dir
        self.extra_args = list(extra_args or [])
        if read_latency:
            self.extra_args += ["--read-latency", str(read_latency)]
        if strict_schema is not None:
            self.extra_args.append("--strict-schema" if strict_schema else "--no-strict-schema")
        self.postgres = postgres
        self.process: subprocess.Popen[bytes] | None = None
        self.env: dict[str, str] = {}
        self.base_url = ""
        self.port = 0
        self._ssl: ssl.SSLContext | None = None

    # --- lifecycle -------------------------------------------------------------------------------------------
    def start(self, port: int = 0) -> EmulatorProcess:
        ready = self.state_dir / "emulator.json"
        ready.unlink(missing_ok=True)
        log = open(self.state_dir / "emulator.log", "ab")  # noqa: SIM115 - handed to the child process
        command = [sys.executable, "-m", "tests.emulator", "serve", "--state-dir", str(self.state_dir),
                   "--port", str(port), "--postgres", self.postgres, *self.extra_args]
        self.process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=log, stderr=log)
        log.close()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not ready.exists():
            if self.process.poll() is not None:
                raise RuntimeError(f"emulator exited with {self.process.returncode}: "
                                   f"{(self.state_dir / 'emulator.log').read_text()[-3000:]}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("emulator did not become ready in time")
            time.sleep(0.05)
        info = json.loads(ready.read_text())
        self.base_url = info["base_url"]
        self.port = int(info["port"])
        self.env = read_env_file(self.state_dir / "env.sh")
        self._ssl = ssl.create_default_context(cafile=self.env["SSL_CERT_FILE"])
        return self

    def stop(self) -> int | None:
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        code = self.process.returncode
        self.process = None
        return code

    def restart(self) -> EmulatorProcess:
        """Stop and start again on the same port and state directory (persistence checks)."""
        port = self.port
        self.stop()
        return self.start(port=port)

    # --- admin API -------------------------------------------------------------------------------------------
    def admin(self, method: str, what: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.base_url}/_emulator/{what}", data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, context=self._ssl, timeout=30) as response:
            return json.loads(response.read() or b"null")

    def resources(self) -> list[dict[str, Any]]:
        return list(self.admin("GET", "resources")["value"])

    def requests(self) -> list[dict[str, Any]]:
        return list(self.admin("GET", "requests")["value"])

    def reset(self) -> None:
        self.admin("POST", "reset", {})

    def set_faults(self, spec: str) -> dict[str, Any]:
        return dict(self.admin("POST", "faults", {"spec": spec}))

    def options(self) -> dict[str, Any]:
        return dict(self.admin("GET", "options"))

    def set_options(self, **changes: Any) -> dict[str, Any]:
        """Change runtime options, e.g. `set_options(read_latency=0.1)`; answers all current options."""
        return dict(self.admin("POST", "options", changes))

    def dataplanes(self) -> dict[str, Any]:
        return dict(self.admin("GET", "dataplanes"))

    # --- SDK helpers -----------------------------------------------------------------------------------------
    def apply_env(self) -> None:
        """Export the CA bundle variables into this process (azure-core/MSAL read them per request)."""
        os.environ["REQUESTS_CA_BUNDLE"] = self.env["REQUESTS_CA_BUNDLE"]
        os.environ["SSL_CERT_FILE"] = self.env["SSL_CERT_FILE"]

    def credential(self, client_id: str | None = None, secret: str | None = None, tenant: str | None = None) -> Any:
        from azure.identity import ClientSecretCredential

        self.apply_env()
        return ClientSecretCredential(
            tenant or self.env["AZURE_TENANT"],
            client_id or self.env["AZURE_CLIENT_ID"],
            secret or self.env["AZURE_SECRET"],
            authority=self.base_url,
            disable_instance_discovery=True,
        )

    def second_credential(self) -> Any:
        """The principal of the second subscription (another tenant)."""
        return self.credential(self.env["AZURE_EMULATOR_CLIENT_ID_2"], self.env["AZURE_EMULATOR_SECRET_2"],
                               self.env["AZURE_EMULATOR_TENANT_2"])

    def mgmt_client(self, cls: type, subscription_id: str | None = None, credential: Any = None,
                    **kwargs: Any) -> Any:
        """An azure-mgmt-* client pointed at the emulator (custom cloud: base_url + credential_scopes)."""
        self.apply_env()
        args: dict[str, Any] = {
            "base_url": self.base_url,
            "credential_scopes": ["https://management.core.windows.net//.default"],
            "connection_verify": self.env["REQUESTS_CA_BUNDLE"],
            **kwargs,
        }
        cred = credential or self.credential()
        if subscription_id is False:  # clients without a subscription argument
            return cls(cred, **args)
        return cls(cred, subscription_id or self.env["AZURE_SUBSCRIPTION_ID"], **args)

    def arm(self, credential: Any = None) -> ArmRestClient:
        """A bare ARM REST client with a real bearer token (for types without an SDK installed here)."""
        self.apply_env()
        return ArmRestClient(self.base_url, credential or self.credential())


class ArmRestClient:
    """`arm.call("PUT", "/subscriptions/...", {"api-version": ...} in the path, body)` -> (status, json, headers).

    Goes through azure-core's pipeline (retries honour Retry-After), but does not poll long-running operations.
    """

    def __init__(self, base_url: str, credential: Any) -> None:
        from azure.core import PipelineClient
        from azure.core.pipeline import policies
        from azure.mgmt.core.policies import ARMChallengeAuthenticationPolicy

        auth = ARMChallengeAuthenticationPolicy(credential, "https://management.core.windows.net//.default")
        self.base_url = base_url
        self.client = PipelineClient(base_url=base_url, policies=[
            policies.RequestIdPolicy(), policies.HeadersPolicy(), policies.RetryPolicy(retry_total=3), auth])

    def call(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
             ) -> tuple[int, Any, dict[str, str]]:
        from azure.core.rest import HttpRequest

        url = path if path.startswith("https://") else self.base_url + path
        request = HttpRequest(method, url, json=body, headers=headers or {})
        response = self.client.send_request(request)
        text = response.text()
        return response.status_code, (json.loads(text) if text else None), dict(response.headers)


def session_emulator(*, strict_schema: bool | None = None) -> Iterator[EmulatorProcess]:
    """Start an emulator for a session fixture and stop it afterwards (see `emulator`)."""
    with tempfile.TemporaryDirectory(prefix="cf-emulator-") as tmp:
        proc = EmulatorProcess(Path(tmp), postgres=os.environ.get("CF_EMULATOR_POSTGRES", "auto"),
                               read_latency=float(os.environ.get("CF_EMULATOR_READ_LATENCY") or 0),
                               strict_schema=strict_schema)
        proc.start()
        try:
            yield proc
        finally:
            proc.stop()


@pytest.fixture(scope="session")
def emulator() -> Iterator[EmulatorProcess]:
    """One emulator for the test session (instant latency, no faults, PostgreSQL data plane per
    CF_EMULATOR_POSTGRES: `auto` by default, clusters start lazily on the first server; CF_EMULATOR_READ_LATENCY:
    seconds every GET waits, none by default; CF_EMULATOR_STRICT_SCHEMA=1: unknown request properties refused)."""
    yield from session_emulator()
