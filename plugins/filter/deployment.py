# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Deployment model filters: thin wrappers over plugins/module_utils/deployment_model.py."""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleFilterError

from ansible_collections.complianceflow.azure_infra.plugins.module_utils import deployment_model


def deployment_problems(inputs: dict[str, Any]) -> list[str]:
    return deployment_model.validate_inputs(inputs)


def deployment_model_filter(inputs: dict[str, Any]) -> dict[str, Any]:
    try:
        return deployment_model.build_deployment(inputs)
    except ValueError as exc:
        raise AnsibleFilterError(str(exc)) from None


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {
            "deployment_problems": deployment_problems,
            "deployment_model": deployment_model_filter,
            "plan_summary": deployment_model.plan_summary,
            "plan_document": deployment_model.plan_document,
            "plan_slice": deployment_model.plan_slice,
        }
