# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Argument specs the per-resource modules share (kubernetes.core's ``args_common``).

Each part is documented by the doc fragment of the same concern (``plugins/doc_fragments/``):
``RESOURCE`` and ``GROUP_AND_NAME`` by ``complianceflow.azure_infra.resource``, ``TAGS`` by
``complianceflow.azure_infra.tags``, ``STATE`` by ``complianceflow.azure_infra.state``. The auth options and
``timeout`` are merged in by :class:`AzureModule` itself (``complianceflow.azure_infra.azure_auth``).
"""

from __future__ import annotations

import copy
from typing import Any

GROUP_AND_NAME: dict[str, dict[str, Any]] = {
    "resource_group": {"type": "str", "required": True},
    "name": {"type": "str", "required": True},
}
RESOURCE: dict[str, dict[str, Any]] = {**GROUP_AND_NAME, "location": {"type": "str"}}
# amazon.aws's convention: tags omitted leave the resource's tags alone; given, they are the whole set unless
# purge_tags is false.
TAGS: dict[str, dict[str, Any]] = {
    "tags": {"type": "dict"},
    "purge_tags": {"type": "bool", "default": True},
}
STATE: dict[str, dict[str, Any]] = {
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
}


def argument_spec(*parts: dict[str, dict[str, Any]], **options: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The shared ``parts`` (copied, so a module may change its own) followed by the module's own ``options``."""
    spec: dict[str, dict[str, Any]] = {}
    for part in parts:
        spec.update(copy.deepcopy(part))
    spec.update(options)
    return spec
