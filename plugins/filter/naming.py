# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Naming filters: thin wrappers over plugins/module_utils/naming_rules.py (documented in the .yml files beside)."""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleFilterError

from ansible_collections.complianceflow.azure_infra.plugins.module_utils import naming_rules


def resource_name(deployment: str, kind: str, **qualifiers: Any) -> str:
    try:
        return naming_rules.resource_name(deployment, kind, **qualifiers)
    except naming_rules.NamingError as exc:
        raise AnsibleFilterError(str(exc)) from None


def name_errors(name: str, kind: str) -> list[str]:
    try:
        return naming_rules.name_errors(kind, name)
    except naming_rules.NamingError as exc:
        raise AnsibleFilterError(str(exc)) from None


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"resource_name": resource_name, "name_errors": name_errors}
