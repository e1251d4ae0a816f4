"""complianceflow.azure_infra.controller_file: a document written on the controller without a module process;
a relative path lands where ansible-playbook runs (not in the playbook's directory), check mode writes nothing,
a second run changes nothing, and a changed mode or content is put right."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[3]
ANSIBLE = str(Path(sys.executable).with_name("ansible"))


def write(cwd: Path, *args: str) -> dict[str, Any]:
    completed = subprocess.run(
        [ANSIBLE, "localhost", "-m", "complianceflow.azure_infra.controller_file", "-a",
         json.dumps({"path": "out/doc.json", "content": '{"a": 1}\n'}), *args],
        cwd=cwd, capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1",
             "ANSIBLE_COLLECTIONS_PATH": str(REPO / "collections"), "ANSIBLE_LOAD_CALLBACK_PLUGINS": "0",
             "ANSIBLE_STDOUT_CALLBACK": "minimal", "ANSIBLE_CALLBACK_RESULT_FORMAT": "json"})
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return dict(json.loads(completed.stdout.split("=>", 1)[1]))


def test_a_document_lands_where_ansible_runs_once_and_only_outside_check_mode(tmp_path: Path) -> None:
    target = tmp_path / "out" / "doc.json"
    checked = write(tmp_path, "--check")
    assert checked["changed"] is True and not target.exists(), "check mode writes nothing"

    first = write(tmp_path)
    assert first["changed"] is True and first["path"] == str(target)
    assert target.read_text() == '{"a": 1}\n'
    assert (target.stat().st_mode & 0o777) == 0o644

    assert write(tmp_path)["changed"] is False, "the same content and mode again: no change"

    target.chmod(0o600)
    assert write(tmp_path)["changed"] is True and (target.stat().st_mode & 0o777) == 0o644
    target.write_text("{}\n")
    assert write(tmp_path)["changed"] is True and target.read_text() == '{"a": 1}\n'
    assert [p.name for p in target.parent.iterdir()] == ["doc.json"], "no temporary file left behind"
