# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Documents args_common.TAGS; the same convention as amazon.aws (purge_tags defaults to true).
    DOCUMENTATION = r"""
options:
  tags:
    description:
      - Tags the resource must carry (values are stored as strings).
      - With O(purge_tags=true) these are all of its tags; omit O(tags) to leave the resource's tags alone.
    type: dict
  purge_tags:
    description:
      - Remove tags that are not in O(tags), including tags set outside this task.
      - Has no effect when O(tags) is omitted. To remove every tag, set O(tags={}).
    type: bool
    default: true
"""
