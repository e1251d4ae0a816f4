"""Blob storage behind storage accounts is Azurite (Microsoft's emulator): the official azure-storage-blob SDK with an
Entra ID credential works against an account's primaryEndpoints.blob, leases behave as Azure's, an unauthenticated
client is refused, a deleted account loses its blobs, and Azurite lives and dies with the emulator."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError

from tests.emulator.pytest_plugin import EmulatorProcess

pytestmark = pytest.mark.emulator
ACCOUNT = {"location": "westeurope", "sku": {"name": "Standard_LRS"}, "kind": "StorageV2",
           "properties": {"minimumTlsVersion": "TLS1_2", "allowBlobPublicAccess": False,
                          "allowSharedKeyAccess": False}}


@pytest.fixture(scope="module")
def storage(emulator: Any) -> Any:
    if not emulator.dataplanes()["blob"]["enabled"]:
        pytest.fail("Azurite is not installed: run scripts/system-deps.sh (npm install -g azurite)")
    from azure.mgmt.storage import StorageManagementClient

    return emulator.mgmt_client(StorageManagementClient)


def blob_service(emulator: Any, endpoint: str, credential: Any = None) -> Any:
    from azure.storage.blob import BlobServiceClient

    os.environ.setdefault("REQUESTS_CA_BUNDLE", emulator.env["REQUESTS_CA_BUNDLE"])
    return BlobServiceClient(endpoint, credential=credential if credential is not None else emulator.credential(),
                             connection_verify=emulator.env["REQUESTS_CA_BUNDLE"])


def test_blob_endpoint_is_azurite_with_entra_id_tokens(emulator: Any, storage: Any, rg: str,
                                                       unique: Callable[[str], str]) -> None:
    name = unique("stblob")
    account = storage.storage_accounts.begin_create(rg, name, ACCOUNT).result()
    endpoint = account.primary_endpoints.blob
    assert endpoint.startswith("https://127.0.0.1:") and endpoint.endswith(f"/{name}/"), endpoint
    service = blob_service(emulator, endpoint)
    container = service.create_container("state")
    container.upload_blob("a/lock", b"")
    lease = container.get_blob_client("a/lock").acquire_lease(lease_duration=-1)
    with pytest.raises(HttpResponseError) as excinfo:
        container.get_blob_client("a/lock").acquire_lease(lease_duration=-1)
    assert excinfo.value.error_code == "LeaseAlreadyPresent"
    lease.release()
    assert [b.name for b in container.list_blobs()] == ["a/lock"]
    with pytest.raises(ResourceExistsError):
        service.create_container("state")
    import requests

    anonymous = requests.get(f"{endpoint}state?restype=container&comp=list", verify=emulator.env["REQUESTS_CA_BUNDLE"],
                             headers={"x-ms-version": "2024-11-04"}, timeout=30)
    assert anonymous.status_code in (401, 403, 404), anonymous.text
    planes = emulator.dataplanes()["blob"]["accounts"]
    assert planes[name]["running"] is True and planes[name]["endpoint"] == endpoint


def test_deleting_the_account_deletes_its_blobs(emulator: Any, storage: Any, rg: str,
                                                unique: Callable[[str], str]) -> None:
    name = unique("stgone")
    account = storage.storage_accounts.begin_create(rg, name, ACCOUNT).result()
    blob_service(emulator, account.primary_endpoints.blob).create_container("kept").upload_blob("x", b"1")
    storage.storage_accounts.delete(rg, name)
    assert name not in emulator.dataplanes()["blob"]["accounts"]
    again = storage.storage_accounts.begin_create(rg, name, ACCOUNT).result()
    names = [c.name for c in blob_service(emulator, again.primary_endpoints.blob).list_containers()]
    assert names == [], "a re-created account must start empty"


def test_blobs_survive_a_restart_and_azurite_dies_with_a_killed_emulator(tmp_path: Path) -> None:
    from azure.mgmt.storage import StorageManagementClient

    (tmp_path / "state").mkdir()
    proc = EmulatorProcess(tmp_path / "state", postgres="off").start()
    try:
        storage = proc.mgmt_client(StorageManagementClient)
        proc.arm().call("PUT", "/subscriptions/" + proc.env["AZURE_SUBSCRIPTION_ID"]
                        + "/resourcegroups/rg-restart?api-version=2021-04-01", {"location": "westeurope"})
        account = storage.storage_accounts.begin_create("rg-restart", "stkeep1", ACCOUNT).result()
        blob_service(proc, account.primary_endpoints.blob).create_container("kept").upload_blob("x", b"1")
        proc.restart()
        storage = proc.mgmt_client(StorageManagementClient)
        endpoint = storage.storage_accounts.get_properties("rg-restart", "stkeep1").primary_endpoints.blob
        blob = blob_service(proc, endpoint).get_blob_client("kept", "x").download_blob().readall()
        assert blob == b"1"
        port = json.loads((tmp_path / "state" / "azurite" / "accounts.json").read_text())["stkeep1"]["port"]
        assert proc.process is not None
        proc.process.send_signal(signal.SIGKILL)
        proc.process.wait(timeout=30)
        import socket

        for _ in range(100):
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", int(port))) != 0:
                    break
            time.sleep(0.1)
        else:
            raise AssertionError("Azurite outlived the killed emulator")
    finally:
        proc.stop()
