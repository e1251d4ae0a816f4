"""The ARM client's retries and long-running-operation waits, against the emulator's real HTTP behaviour.

Sleeps are recorded instead of slept, so the tests assert what the client waited for (Retry-After) without
spending that time.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.complianceflow.azure_infra.plugins.module_utils.arm_client import (
    ArmClient,
    AzureApiError,
    RetrySettings,
)
from tests.integration.modules.runner import client_from_env

pytestmark = pytest.mark.emulator

RG_API = "2021-04-01"
NET_API = "2024-05-01"
REPO = Path(__file__).resolve().parents[3]


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def trust(env: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"):
        if env.get(name):
            monkeypatch.setenv(name, str(env[name]))


@pytest.fixture
def client(emulator: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[ArmClient]:
    emulator.reset()
    emulator.set_faults("")
    trust(emulator.env, monkeypatch)
    arm = client_from_env({k: str(v) for k, v in emulator.env.items()},
                          retry=RetrySettings(max_attempts=4, max_total_seconds=60), sleep=Sleeps())
    # Authenticate once before faults are armed, so every counted request is an ARM request.
    arm.get(f"/subscriptions/{arm.subscription_id}/resourceGroups/rg-warmup", RG_API)
    yield arm
    emulator.set_faults("")


def rg_path(arm: ArmClient, name: str) -> str:
    return f"/subscriptions/{arm.subscription_id}/resourceGroups/{name}"


def test_throttling_is_retried_after_retry_after_then_gives_up_with_azure_code(client: ArmClient,
                                                                               emulator: Any) -> None:
    emulator.set_faults("429:1.0")
    with pytest.raises(AzureApiError) as caught:
        client.get(rg_path(client, "rg-a"), RG_API)
    assert caught.value.status == 429
    assert caught.value.code == "SubscriptionRequestsThrottled"
    assert rg_path(client, "rg-a") in str(caught.value)
    # Four attempts in all, and each wait was the server's Retry-After (1 s), not our backoff.
    assert client.sleep == [1, 1, 1]


def test_transient_503_then_success(client: ArmClient, emulator: Any) -> None:
    emulator.set_faults("*:*:503:2")
    assert client.get(rg_path(client, "rg-missing"), RG_API) is None
    assert client.sleep == [1, 1]


def test_another_operation_in_progress_on_a_write_is_retried(client: ArmClient, emulator: Any) -> None:
    emulator.set_faults("put:*:another-operation:once")
    resource = client.write("PUT", rg_path(client, "rg-b"), RG_API, {"location": "westeurope"}, timeout=60)
    assert resource["name"] == "rg-b"
    assert client.sleep == [1]
    statuses = [e["status"] for e in emulator.requests() if e["method"] == "PUT"]
    assert statuses[:1] == [409]


def test_validation_errors_fail_at_once(client: ArmClient) -> None:
    with pytest.raises(AzureApiError) as caught:
        client.write("PUT", rg_path(client, "rg-c"), RG_API, {"location": "atlantis"}, timeout=60)
    assert caught.value.status == 400
    assert caught.value.code
    assert client.sleep == []


def test_an_untrusted_certificate_fails_at_once_instead_of_backing_off(client: ArmClient,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    # The token is already in hand (the fixture's warm-up); only ARM's certificate is now untrusted, as with a
    # wrong CA bundle or a TLS-intercepting proxy. Retrying cannot help: the client must not wait 90 s to say so.
    import certifi

    for name in ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"):
        monkeypatch.setenv(name, certifi.where())
    untrusting = ArmClient(client.base_url, client.credential, client.scopes, client.subscription_id,
                           retry=client.retry, sleep=client.sleep)
    with pytest.raises(AzureApiError) as caught:
        untrusting.get(rg_path(client, "rg-d"), RG_API)
    assert caught.value.code == "CertificateVerificationFailed"
    assert "CERTIFICATE_VERIFY_FAILED" in caught.value.message
    assert client.sleep == []


def test_total_time_bound_stops_retrying_before_the_attempt_bound(emulator: Any, monkeypatch) -> None:
    emulator.reset()
    trust(emulator.env, monkeypatch)
    sleeps = Sleeps()
    arm = client_from_env({k: str(v) for k, v in emulator.env.items()},
                          retry=RetrySettings(max_attempts=50, max_total_seconds=0.5), sleep=sleeps)
    arm.get(rg_path(arm, "rg-warmup"), RG_API)
    emulator.set_faults("429:1.0")
    try:
        with pytest.raises(AzureApiError):
            arm.get(rg_path(arm, "rg-d"), RG_API)
    finally:
        emulator.set_faults("")
    # Retry-After (1 s) does not fit in a 0.5 s budget: no wait is started at all.
    assert sleeps == []


def test_failed_long_running_operation_is_driven_again(client: ArmClient, emulator: Any) -> None:
    client.write("PUT", rg_path(client, "rg-e"), RG_API, {"location": "westeurope"}, timeout=60)
    vnet = f"{rg_path(client, 'rg-e')}/providers/Microsoft.Network/virtualNetworks/vnet-e"
    emulator.set_faults("put:Microsoft.Network/virtualNetworks:lro-failed:once")
    body = {"location": "westeurope", "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}}}
    resource = client.write("PUT", vnet, NET_API, body, timeout=60)
    assert resource["properties"]["provisioningState"] == "Succeeded"
    assert [e["method"] for e in emulator.requests() if e["method"] == "PUT" and "virtualNetworks" in e["path"]] \
        == ["PUT", "PUT"]


# --- LRO timeout needs operations that take time: a private emulator with realistic (scaled) latency. ---

@pytest.fixture(scope="module")
def slow_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    state = tmp_path_factory.mktemp("slow-emulator")
    process = subprocess.Popen([sys.executable, "-m", "tests.emulator", "serve", "--state-dir", str(state),
                                "--port", "0", "--latency", "realistic", "--time-scale", "0.5"],
                               cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    env_file = state / "env.sh"
    try:
        deadline = time.monotonic() + 60
        while not env_file.exists() or "SSL_CERT_FILE" not in env_file.read_text():
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the emulator did not start")
            time.sleep(0.1)
        env: dict[str, str] = {}
        for line in env_file.read_text().splitlines():
            if line.startswith("export "):
                key, _, value = line[len("export "):].partition("=")
                env[key] = value.strip().strip("'\"")
        yield env
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)


def test_long_running_operation_times_out_with_the_task_timeout(slow_emulator: dict[str, str],
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    trust(slow_emulator, monkeypatch)
    arm = client_from_env(slow_emulator)
    rg = rg_path(arm, "rg-slow")
    arm.write("PUT", rg, RG_API, {"location": "westeurope"}, timeout=60)
    vnet = f"{rg}/providers/Microsoft.Network/virtualNetworks/vnet-slow"
    body = {"location": "westeurope", "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}}}
    with pytest.raises(AzureApiError) as caught:
        arm.write("PUT", vnet, NET_API, body, timeout=0.5)
    assert caught.value.code == "OperationTimeout"
    assert vnet in str(caught.value)
    # Given enough time, the same operation completes and the client returns the finished resource.
    done = arm.write("PUT", vnet, NET_API, body, timeout=120)
    assert done["properties"]["provisioningState"] == "Succeeded"


def test_missing_resource_is_none_but_an_unknown_provider_is_an_error(client: ArmClient) -> None:
    assert client.get(f"{rg_path(client, 'rg-none')}/providers/Microsoft.Storage/storageAccounts/stnone",
                      "2023-05-01") is None
    bogus = f"{rg_path(client, 'rg-none')}/providers/Microsoft.Bogus/things/x"
    with pytest.raises(AzureApiError) as caught:
        client.get(bogus, "2023-05-01")
    assert caught.value.status == 404
    assert caught.value.code == "InvalidResourceNamespace"
