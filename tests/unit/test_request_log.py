"""The one definition of a write (tests/integration/request_log.py) that every suite's "writes nothing" relies on."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.integration.request_log import azure_requests, is_write, writes

REPO = Path(__file__).resolve().parents[2]
SERVER = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.DBforPostgreSQL/flexibleServers/psql"


@pytest.mark.parametrize(("method", "path"), [
    ("PUT", "/subscriptions/s/resourceGroups/rg"),
    ("PATCH", f"{SERVER}"),
    ("DELETE", "/subscriptions/s/resourceGroups/rg"),
    ("POST", f"{SERVER}/restart"),
    ("POST", "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Cache/redis/r/regenerateKey"),
    ("POST", "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st/regenerateKey"),
    ("POST", "/subscriptions/s/providers/Microsoft.KeyVault/locations/westeurope/deletedVaults/kv/purge"),
    ("POST", "/deletedsecrets/jwt-signing-key/recover"),
    ("POST", "/secrets/restore"),
    ("PUT", "/secrets/jwt-signing-key"),
    ("DELETE", "/secrets/jwt-signing-key"),
    ("POST", "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Web/sites/app/someFutureAction"),
    ("post", f"{SERVER}/Restart"),
])
def test_state_changing_requests_are_writes(method: str, path: str) -> None:
    assert is_write({"method": method, "path": path, "status": 200})
    assert is_write({"method": method, "path": path, "status": 403}), "a refused write was still sent"


@pytest.mark.parametrize(("method", "path"), [
    ("GET", SERVER),
    ("HEAD", "/subscriptions/s/resourceGroups/rg"),
    ("POST", "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Cache/redis/r/listKeys"),
    ("POST", "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st/ListKeys"),
    ("POST", "/subscriptions/s/resourceGroups/rg/providers/Microsoft.EventHub/namespaces/n/eventhubs/h/"
             "authorizationRules/send/listKeys"),
    ("POST", "/subscriptions/s/resourceGroups/rg/providers/Microsoft.OperationalInsights/workspaces/w/sharedKeys"),
    ("POST", "/subscriptions/s/providers/Microsoft.Storage/checkNameAvailability"),
    ("POST", "/secrets/jwt-signing-key/backup"),
    ("POST", "/72f988bf-86f1-41af-91ab-2d7cd011db47/oauth2/v2.0/token"),
    ("POST", "/tenant/oauth2/token"),
    ("GET", "/msi/token"),
])
def test_reads_and_token_requests_are_not_writes(method: str, path: str) -> None:
    assert not is_write({"method": method, "path": path})


def test_writes_lists_only_the_writes_in_log_order() -> None:
    log = [{"method": "GET", "path": SERVER}, {"method": "POST", "path": f"{SERVER}/restart"},
           {"method": "POST", "path": "/t/oauth2/v2.0/token"}, {"method": "PUT", "path": "/secrets/a"}]
    assert writes(log) == [f"POST {SERVER}/restart", "PUT /secrets/a"]
    assert azure_requests(log) == [f"{e['method']} {e['path']}" for e in log]
    assert azure_requests([{"method": "GET", "path": "/_emulator/requests"}]) == []


def test_no_suite_keeps_a_definition_of_its_own() -> None:
    """Every suite imports request_log: a local set of write methods is how POST actions slipped through before."""
    local = re.compile(r"WRITE_METHODS|\{\s*\"PUT\",\s*\"PATCH\"")
    offenders = [str(p.relative_to(REPO)) for root in ("tests/integration", "tests/unit", "molecule", "scripts")
                 for p in (REPO / root).rglob("*.py")
                 if p.name != "request_log.py" and p != Path(__file__).resolve() and local.search(p.read_text())]
    assert offenders == []
