# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Documents args_common.STATE.
    DOCUMENTATION = r"""
options:
  state:
    description:
      - V(present) creates the resource or brings it to what the task declares; V(absent) deletes it (and
        waits for the deletion) when it exists.
    type: str
    choices: [present, absent]
    default: present
"""
