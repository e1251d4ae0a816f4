# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # community.general's doc_fragments/attributes.py pattern: one wording for every module; a module that
    # behaves differently overrides an attribute's description in its own documentation.
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    support: full
    description: Reads Azure and reports what would change; writes nothing.
  diff_mode:
    support: full
    description: Shows before/after of what differs; write-only values (passwords, connection strings) never appear.
"""

    # Modules that only read.
    INFO_MODULE = r"""
options: {}
attributes:
  check_mode:
    support: full
    description: Read-only; runs the same in check mode.
  diff_mode:
    support: none
    description: Read-only; nothing to diff.
"""
