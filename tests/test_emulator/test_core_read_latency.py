"""`--read-latency`: every ARM and Key Vault data-plane GET waits, parallel GETs wait side by side, and token,
metadata and admin calls do not wait (engines that read in parallel must see the benefit, as against Azure)."""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from tests.emulator import identity
from tests.emulator.pytest_plugin import EmulatorProcess

pytestmark = pytest.mark.emulator
LATENCY = 0.5
PARALLEL = 8
RG_API = "2025-04-01"
KV_API = "2023-07-01"


@pytest.fixture(scope="module")
def slow_reads() -> Iterator[EmulatorProcess]:
    tmp = Path(tempfile.mkdtemp(prefix="cf-emu-readlat-"))
    proc = EmulatorProcess(tmp, postgres="off", read_latency=LATENCY).start()
    try:
        yield proc
    finally:
        proc.stop()


def _token(emu: EmulatorProcess, scope: str = "https://management.core.windows.net//.default") -> str:
    return str(emu.credential().get_token(scope).token)


def _timed_get(url: str, token: str | None, verify: str) -> tuple[float, int]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    started = time.perf_counter()
    response = requests.get(url, headers=headers, verify=verify, timeout=60)
    return time.perf_counter() - started, response.status_code


def test_read_latency_is_recorded_and_reported(slow_reads: EmulatorProcess) -> None:
    info = json.loads((slow_reads.state_dir / "emulator.json").read_text())
    assert info["read_latency"] == LATENCY
    assert slow_reads.options()["read_latency"] == LATENCY


def test_an_arm_get_takes_at_least_the_latency_and_writes_do_not(slow_reads: EmulatorProcess) -> None:
    token = _token(slow_reads)
    verify = slow_reads.env["REQUESTS_CA_BUNDLE"]
    url = f"{slow_reads.base_url}/subscriptions/{identity.SUBSCRIPTION_ID}/resourcegroups/rg-lat?api-version={RG_API}"
    put = requests.put(url, json={"location": "westeurope"}, headers={"Authorization": f"Bearer {token}"},
                       verify=verify, timeout=60)
    assert put.status_code in (200, 201)
    elapsed, status = _timed_get(url, token, verify)
    assert status == 200
    assert elapsed >= LATENCY
    # An error answer is a read all the same: a GET of something missing waits too.
    elapsed, status = _timed_get(url.replace("rg-lat", "rg-missing"), token, verify)
    assert status == 404
    assert elapsed >= LATENCY


def test_parallel_gets_overlap(slow_reads: EmulatorProcess) -> None:
    token = _token(slow_reads)
    verify = slow_reads.env["REQUESTS_CA_BUNDLE"]
    url = f"{slow_reads.base_url}/subscriptions/{identity.SUBSCRIPTION_ID}/resourcegroups/rg-par?api-version={RG_API}"
    requests.put(url, json={"location": "westeurope"}, headers={"Authorization": f"Bearer {token}"},
                 verify=verify, timeout=60)
    started = time.perf_counter()
    with ThreadPoolExecutor(PARALLEL) as pool:
        results = list(pool.map(lambda _: _timed_get(url, token, verify), range(PARALLEL)))
    wall = time.perf_counter() - started
    assert [status for _, status in results] == [200] * PARALLEL
    assert all(elapsed >= LATENCY for elapsed, _ in results), "each GET still waits"
    assert wall < 0.5 * PARALLEL * LATENCY, f"{PARALLEL} parallel GETs took {wall:.2f} s: they were serialised"


def test_key_vault_secret_reads_wait(slow_reads: EmulatorProcess) -> None:
    token = _token(slow_reads)
    verify = slow_reads.env["REQUESTS_CA_BUNDLE"]
    arm = {"Authorization": f"Bearer {token}"}
    group = f"{slow_reads.base_url}/subscriptions/{identity.SUBSCRIPTION_ID}/resourcegroups/rg-kvlat"
    requests.put(f"{group}?api-version={RG_API}", json={"location": "westeurope"}, headers=arm, verify=verify,
                 timeout=60)
    vault = requests.put(
        f"{group}/providers/Microsoft.KeyVault/vaults/kv-readlat?api-version={KV_API}", headers=arm, verify=verify,
        timeout=60, json={"location": "westeurope", "properties": {
            "tenantId": identity.TENANT_ID, "sku": {"family": "A", "name": "standard"},
            "accessPolicies": [{"tenantId": identity.TENANT_ID, "objectId": identity.DEPLOYER.object_id,
                                "permissions": {"secrets": ["get", "set", "list"]}}]}})
    assert vault.status_code in (200, 201), vault.text
    vault_uri = vault.json()["properties"]["vaultUri"]
    challenge = requests.get(f"{vault_uri}secrets?api-version=7.5", verify=verify, timeout=60)
    resource = challenge.headers["WWW-Authenticate"].split('resource="', 1)[1].split('"', 1)[0]
    kv = {"Authorization": f"Bearer {_token(slow_reads, resource + '/.default')}"}
    put = requests.put(f"{vault_uri}secrets/s1?api-version=7.5", json={"value": "v"}, headers=kv, verify=verify,
                       timeout=60)
    assert put.status_code == 200, put.text
    elapsed, status = _timed_get(f"{vault_uri}secrets/s1?api-version=7.5", kv["Authorization"][7:], verify)
    assert status == 200
    assert elapsed >= LATENCY


def test_token_metadata_and_admin_calls_do_not_wait(slow_reads: EmulatorProcess) -> None:
    long_wait = 10.0
    slow_reads.set_options(read_latency=long_wait)
    try:
        verify = slow_reads.env["REQUESTS_CA_BUNDLE"]
        base = slow_reads.base_url
        started = time.perf_counter()
        token = requests.post(f"{base}/{identity.TENANT_ID}/oauth2/v2.0/token", verify=verify, timeout=60, data={
            "grant_type": "client_credentials", "client_id": identity.DEPLOYER.client_id,
            "client_secret": identity.DEPLOYER.secret,
            "scope": "https://management.core.windows.net//.default"})
        assert token.status_code == 200
        for url, headers in (
            (f"{base}/{identity.TENANT_ID}/v2.0/.well-known/openid-configuration", {}),
            (f"{base}/metadata/endpoints?api-version=2022-09-01", {}),
            (f"{base}/msi/token?resource=https://management.azure.com/&api-version=2019-08-01",
             {"X-IDENTITY-HEADER": slow_reads.env["AZURE_EMULATOR_IDENTITY_HEADER"]}),
            (f"{base}/_emulator/health", {}),
        ):
            assert requests.get(url, headers=headers, verify=verify, timeout=60).status_code == 200, url
        assert time.perf_counter() - started < long_wait, "token, metadata, identity or admin calls were delayed"
    finally:
        slow_reads.set_options(read_latency=LATENCY)


def test_bad_option_values_are_refused(slow_reads: EmulatorProcess) -> None:
    import urllib.error

    for bad in ({"read_latency": -1}, {"read_latency": "fast"}, {"no_such_option": 1}):
        with pytest.raises(urllib.error.HTTPError) as err:
            slow_reads.set_options(**bad)
        assert err.value.code == 400
    assert slow_reads.options()["read_latency"] == LATENCY
