# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""AWX filter: a thin wrapper over plugins/module_utils/awx_configuration.py (documented in awx_configuration.yml)."""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleFilterError

from ansible_collections.complianceflow.azure_infra.plugins.module_utils import awx_configuration as awx


def awx_configuration(deployments: dict[str, dict[str, Any]], settings: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    try:
        return awx.awx_configuration(deployments, settings)
    except awx.AWXConfigurationError as exc:
        raise AnsibleFilterError(str(exc)) from None


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"awx_configuration": awx_configuration}
