"""A resource several deployments share and create only when missing (NetworkWatcherRG, ``manage: create``), when two
runs create it at once: a fleet run (`-i inventories/`) or two AWX jobs on a fresh subscription.

Both runs read it missing; the first create wins and Azure refuses the second one when it differs (a resource group
in another region: 409 InvalidResourceGroupLocation). The second run must then find it and carry on, not fail the
deployment. Any other refused write still fails. The ARM client here is a stand-in that answers as ARM did in the
emulator's log of such a fleet run (the engine's only I/O seam).
"""

from __future__ import annotations

from typing import Any

from ansible_collections.complianceflow.azure_infra.plugins.module_utils.arm_client import AzureApiError
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.engine import Engine, Options

WATCHER_RG = "/subscriptions/s/resourceGroups/NetworkWatcherRG"
OWN_RG = "/subscriptions/s/resourceGroups/rg-cf-eastus-prod-1"


class RaceLostClient:
    """ARM for a run that lost the race: every group is missing when read, every create of a group is refused
    because another run created it in another region meanwhile, and a second read finds it there."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.created_elsewhere: set[str] = set()

    def get(self, resource_id: str, api_version: str) -> dict[str, Any] | None:
        self.calls.append(("GET", resource_id))
        if resource_id in self.created_elsewhere:
            return {"id": resource_id, "name": resource_id.rsplit("/", 1)[-1], "location": "westeurope",
                    "properties": {"provisioningState": "Succeeded"}}
        return None

    def write(self, method: str, resource_id: str, api_version: str, body: dict[str, Any],
              timeout: float) -> dict[str, Any]:
        self.calls.append((method, resource_id))
        self.created_elsewhere.add(resource_id)
        raise AzureApiError(409, "InvalidResourceGroupLocation", "Invalid resource group location 'eastus'. The "
                            "Resource group already exists in location 'westeurope'.", resource_id, method)


def run(entries: list[dict[str, Any]]) -> tuple[dict[str, Any], RaceLostClient]:
    client = RaceLostClient()
    result = Engine(client, entries, Options(parallel=1), None).run()  # type: ignore[arg-type]
    return result, client


def test_a_shared_create_only_resource_created_meanwhile_by_another_run_is_not_a_failure() -> None:
    result, client = run([{"id": WATCHER_RG, "type": "Microsoft.Resources/resourceGroups", "location": "eastus",
                           "properties": {}, "manage": "create"}])
    assert result["failed"] == []
    [entry] = result["results"]
    assert entry["action"] == "unchanged" and "another run" in entry["message"]
    assert result["changed"] is False
    assert client.calls == [("GET", WATCHER_RG), ("PUT", WATCHER_RG), ("GET", WATCHER_RG)]


def test_a_managed_resource_whose_create_is_refused_still_fails() -> None:
    """Control: the deployment's own resource group (fully managed) refused the same way is a failure."""
    result, client = run([{"id": OWN_RG, "type": "Microsoft.Resources/resourceGroups", "location": "eastus",
                           "properties": {}}])
    [entry] = result["results"]
    assert entry["action"] == "failed" and "InvalidResourceGroupLocation" in result["failed"][0]
    assert client.calls == [("GET", OWN_RG), ("PUT", OWN_RG)]
