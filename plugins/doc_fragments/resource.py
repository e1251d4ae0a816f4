# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Documents args_common.RESOURCE; a module states type-specific naming rules in its own description.
    # (ansible-test reads fragments as plain string literals, so the two variants are written out.)
    DOCUMENTATION = r"""
options:
  resource_group:
    description: Name of the resource group that holds the resource.
    type: str
    required: true
  name:
    description: Name of the resource, within the rules Azure sets for its type.
    type: str
    required: true
  location:
    description:
      - Azure region (V(westeurope)). Required to create; an existing resource keeps its region, and a
        different one is an error (Azure cannot move it).
    type: str
"""

    # Documents args_common.GROUP_AND_NAME: resources whose location is fixed by Azure (global) or derived.
    GROUP_AND_NAME = r"""
options:
  resource_group:
    description: Name of the resource group that holds the resource.
    type: str
    required: true
  name:
    description: Name of the resource, within the rules Azure sets for its type.
    type: str
    required: true
"""
