# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""State storage filters: thin wrappers over plugins/module_utils/deployment_state.py."""

from __future__ import annotations

from typing import Any

from ansible_collections.complianceflow.azure_infra.plugins.module_utils import deployment_state


def state_bootstrap_plan(subscription_id: str, location: str, sku: str = "Standard_ZRS",
                         tags: dict[str, Any] | None = None, account: str | None = None,
                         resource_group: str = deployment_state.STATE_RESOURCE_GROUP, runner_object_id: str = "",
                         runner_principal_type: str = "ServicePrincipal", retention_days: int = 30,
                         version_days: int = 90, workspace_id: str = "",
                         runner_deployments: dict[str, str] | None = None) -> list[dict[str, Any]]:
    return deployment_state.bootstrap_plan(str(subscription_id), location, sku, tags, account or None,
                                           resource_group, runner_object_id or "", runner_principal_type,
                                           int(retention_days), int(version_days), workspace_id or "",
                                           dict(runner_deployments or {}))


def drift_report(task_results: list[Any], deployment: str) -> dict[str, Any]:
    """The drift report of a check-mode run from the registered results of its resources tasks."""
    merged: dict[str, dict[str, Any]] = {}
    for result in task_results or []:
        if isinstance(result, dict) and isinstance(result.get("results"), list):
            deployment_state.merge_results(merged, result["results"])
    return deployment_state.drift_report(deployment, merged)


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"state_bootstrap_plan": state_bootstrap_plan, "ledger_line": deployment_state.ledger_line,
                "drift_report": drift_report}
