#!/usr/bin/python
# Copyright: ComplianceFlow platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: controller_file
short_description: Write a text document to a file on the controller, in the playbook's own process
version_added: 0.3.0
description:
  - Writes O(content) to O(path) on the Ansible controller, creating the missing parent directories, and only when
    the file's content or mode differ; the same as C(ansible.builtin.copy) with C(content) and
    delegated to localhost, without starting a module process (an action plugin), so that writing a run's
    document (the identity role's outputs document) costs no more than a C(set_fact).
  - Check mode reports what would change and writes nothing; C(--diff) shows the file before and after.
  - Never give it secrets; the content is shown by C(--diff).
options:
  path:
    description: The file to write on the controller. A relative path is taken from where ansible-playbook runs.
    type: path
    required: true
  content:
    description: The text to write (render a document with C(to_nice_json) first).
    type: str
    required: true
  mode:
    description: Permissions of the file, an octal string such as V(0644). Parent directories are created C(0755).
    type: str
    default: "0644"
attributes:
  check_mode:
    description: Reports whether the file would change, and writes nothing.
    support: full
  diff_mode:
    description: Shows the file before and after.
    support: full
  platform:
    description: Runs on the controller (an action plugin), whatever the host.
    support: full
    platforms: posix
author:
  - ComplianceFlow platform engineering (@complianceflow)
"""

EXAMPLES = r"""
- name: Write the outputs document next to the playbook
  complianceflow.azure_infra.controller_file:
    path: build/outputs/westeu-test-1.json
    content: "{{ outputs | to_nice_json(indent=2, sort_keys=true) }}\n"
"""

RETURN = r"""
path:
  description: The absolute path written (or that would be written in check mode).
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

ARGUMENT_SPEC = {
    "path": {"type": "path", "required": True},
    "content": {"type": "str", "required": True},
    "mode": {"type": "str", "default": "0644"},
}


def main() -> None:
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    module.fail_json(msg="complianceflow.azure_infra.controller_file runs on the controller (action plugin)")


if __name__ == "__main__":
    main()
