"""Independent readers of what the emulator holds: plain REST with Azure's own protocols, never our modules.

``Vault`` reads a vault's secrets through the Key Vault data plane (challenge, bearer token, api-version 7.4), as a
service would; ``secret_values`` collects every secret a deployment could leak: every value in every vault, the
keys Azure reports for storage accounts, caches and Event Hubs rules, and the service principal's secret.
"""

from __future__ import annotations

import re
from typing import Any

import requests

REDIS_API = "2024-11-01"
EVENTHUB_API = "2024-01-01"
STORAGE_API = "2023-05-01"


class Vault:
    """An independent reader of one of the emulator's vaults (plain REST with Key Vault's challenge)."""

    def __init__(self, emulator: Any, vault_uri: str) -> None:
        self.uri = vault_uri if vault_uri.endswith("/") else vault_uri + "/"
        self.credential = emulator.credential()
        self.verify = emulator.env["REQUESTS_CA_BUNDLE"]
        self.token = ""

    def get(self, path: str) -> tuple[int, Any]:
        url = f"{self.uri}{path}" + ("" if "api-version=" in path else
                                     ("&" if "?" in path else "?") + "api-version=7.4")
        for _ in range(2):
            response = requests.get(url, headers={"Authorization": f"Bearer {self.token}"} if self.token else {},
                                    verify=self.verify, timeout=30)
            if response.status_code == 401 and not self.token:
                resource = re.search(r'resource="([^"]+)"', response.headers.get("WWW-Authenticate", ""))
                assert resource, response.headers
                self.token = self.credential.get_token(resource.group(1).rstrip("/") + "/.default").token
                continue
            return response.status_code, response.json() if response.content else None
        raise AssertionError("the vault kept refusing the token")

    def values(self) -> dict[str, str]:
        """Every secret's current value, by name."""
        names: list[str] = []
        path: str | None = "secrets"
        while path:
            status, body = self.get(path)
            assert status == 200, body
            names.extend(item["id"].rstrip("/").rsplit("/", 1)[-1] for item in body["value"])
            link = body.get("nextLink")
            path = link[len(self.uri):] if link else None
        result = {}
        for name in names:
            status, body = self.get(f"secrets/{name}")
            assert status == 200, body
            result[name] = body["value"]
        return result

    def secret(self, name: str) -> dict[str, Any]:
        status, body = self.get(f"secrets/{name}")
        assert status == 200, body
        return dict(body)


def vaults(emulator: Any) -> list[Vault]:
    """A reader for every vault the emulator holds (listed through its admin API)."""
    return [Vault(emulator, r["properties"]["vaultUri"]) for r in emulator.resources()
            if str(r.get("type", "")).lower() == "microsoft.keyvault/vaults"]


def azure_keys(emulator: Any) -> list[str]:
    """Every key Azure reports for the emulator's storage accounts, caches and Event Hubs rules (ARM listKeys)."""
    arm = emulator.arm()
    values: list[str] = []

    def post(resource_id: str, api: str) -> Any:
        status, body, _ = arm.call("POST", f"{resource_id}/listKeys?api-version={api}")
        assert status == 200, body
        return body

    for resource in emulator.resources():
        kind = str(resource.get("type", "")).lower()
        if kind == "microsoft.cache/redis":
            keys = post(resource["id"], REDIS_API)
            values += [keys["primaryKey"], keys["secondaryKey"]]
        elif kind == "microsoft.storage/storageaccounts":
            values += [k["value"] for k in post(resource["id"], STORAGE_API)["keys"]]
        elif kind == "microsoft.eventhub/namespaces/eventhubs/authorizationrules":
            keys = post(resource["id"], EVENTHUB_API)
            values += [keys[k] for k in ("primaryKey", "secondaryKey", "primaryConnectionString",
                                         "secondaryConnectionString")]
    return [v for v in values if v]


def secret_values(emulator: Any) -> set[str]:
    """What must never appear in any output: every vault's values, every key Azure reports, the principal's secret."""
    found = {emulator.env["AZURE_SECRET"]}
    for vault in vaults(emulator):
        found.update(vault.values().values())
    found.update(azure_keys(emulator))
    return {v for v in found if v}


def leaks(values: set[str] | list[str], text: str) -> list[str]:
    """The values found in ``text``, as they are or JSON-escaped (as -vvv prints module arguments and results),
    shortened so that the failure message does not print them either."""
    import json

    found = []
    for value in values:
        escaped = json.dumps(value)[1:-1]
        if value in text or escaped in text:
            found.append(f"{value[:4]}...({len(value)} chars)")
    return sorted(found)
