# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of complianceflow.azure_infra.controller_file (documentation in plugins/modules/): writes a
file in the playbook's own process, so that it costs no module process."""

from __future__ import annotations

import os
import tempfile
from typing import Any

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.complianceflow.azure_infra.plugins.modules.controller_file import ARGUMENT_SPEC


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars)
        _validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        path = os.path.abspath(os.path.expanduser(str(args["path"])))
        content = str(args["content"])
        try:
            mode = int(str(args["mode"]), 8)
        except ValueError:
            raise AnsibleActionFail(f"mode must be an octal string such as 0644, not {args['mode']!r}") from None
        before = None
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as handle:
                before = handle.read()
        same_mode = before is not None and (os.stat(path).st_mode & 0o7777) == mode
        changed = before != content or not same_mode
        result.update(changed=changed, path=path)
        if self._task.diff and changed:
            result["diff"] = {"before_header": path, "after_header": path, "before": before or "", "after": content}
        if not changed or self._task.check_mode:
            return result
        directory = os.path.dirname(path)
        temporary = ""
        try:
            os.makedirs(directory, mode=0o755, exist_ok=True)
            fd, temporary = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(content)
            os.chmod(temporary, mode)
            # Atomic: a reader sees the old document or the new one, never half of one.
            os.replace(temporary, path)
        except OSError as exc:
            if temporary and os.path.exists(temporary):
                os.unlink(temporary)
            raise AnsibleActionFail(f"cannot write {path}: {exc}") from None
        return result
