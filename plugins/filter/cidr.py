# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""CIDR filters: thin wrappers over plugins/module_utils/cidr_plan.py (documented in the .yml files beside)."""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleFilterError

from ansible_collections.complianceflow.azure_infra.plugins.module_utils import cidr_plan


def _wrap(function: Any) -> Any:
    def filter_function(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except cidr_plan.CidrPlanError as exc:
            raise AnsibleFilterError(str(exc)) from None

    filter_function.__name__ = function.__name__
    filter_function.__doc__ = function.__doc__
    return filter_function


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {
            "deployment_cidr": _wrap(cidr_plan.deployment_cidr),
            "next_free_cidr": _wrap(cidr_plan.next_free_cidr),
            "subnet_plan": _wrap(cidr_plan.subnet_plan),
        }
