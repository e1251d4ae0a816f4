"""The execution environment definition (execution-environment.yml, ansible-builder version 3) produces a build
context that installs this collection with its Python and system requirements, written offline.

`ansible-builder create` only writes files: it runs here with every proxy pointed at a closed port and pip's index
off, so a step that reached the network would fail. What the image build later does with the context is checked on
the context itself: the collection artifact it installs, and ansible-builder's own introspection script (copied
into the context) run over that artifact as the image build runs it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ARTIFACT = "build/ee/complianceflow-azure_infra.tar.gz"  # where `make ee-context` puts the collection
OFFLINE = {"HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9", "http_proxy": "http://127.0.0.1:9",
           "https_proxy": "http://127.0.0.1:9", "PIP_NO_INDEX": "1", "ANSIBLE_GALAXY_SERVER": "http://127.0.0.1:9"}


def _run(*command: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **OFFLINE, "ANSIBLE_CONFIG": str(REPO / "ansible.cfg")}
    result = subprocess.run([str(c) for c in command], cwd=cwd, env=env, capture_output=True, text=True, timeout=180,
                            check=False)
    assert result.returncode == 0, f"{' '.join(map(str, command))}\n{result.stdout}\n{result.stderr}"
    return result


def _requirement_names(lines: list[str]) -> set[str]:
    requirements = (line.split("#", 1)[0].strip() for line in lines)
    return {re.split(r"[\[<>=~! ]", r, maxsplit=1)[0].lower() for r in requirements if r}


@pytest.fixture(scope="module")
def context(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`ansible-builder create` on a copy of the definition and its files, with the collection built from this
    checkout where `make ee-context` puts it."""
    work = tmp_path_factory.mktemp("ee")
    for name in ("execution-environment.yml", "requirements.txt", "bindep.txt"):
        shutil.copy(REPO / name, work / name)
    dist = work / "dist"
    _run(BIN / "ansible-galaxy", "collection", "build", "--force", "--output-path", dist, REPO, cwd=REPO)
    [built] = dist.glob("complianceflow-azure_infra-*.tar.gz")
    (work / ARTIFACT).parent.mkdir(parents=True)
    shutil.copy(built, work / ARTIFACT)
    _run(BIN / "ansible-builder", "create", "--file", "execution-environment.yml", "--context", "context",
         "--output-filename", "Containerfile", cwd=work)
    return work / "context"


def test_the_definition_is_ansible_builder_version_3() -> None:
    definition = yaml.safe_load((REPO / "execution-environment.yml").read_text())
    assert definition["version"] == 3
    assert definition["dependencies"]["python"] == "requirements.txt"
    assert definition["dependencies"]["system"] == "bindep.txt"
    # The collection's own metadata points ansible-builder at the same files when another EE includes it.
    meta = yaml.safe_load((REPO / "meta" / "execution-environment.yml").read_text())
    assert meta["dependencies"] == {"python": "requirements.txt", "system": "bindep.txt"}


def test_containerfile_installs_python_ansible_the_collection_and_its_requirements(context: Path) -> None:
    containerfile = (context / "Containerfile").read_text()
    assert 'ARG PYCMD="/usr/bin/python3.11"' in containerfile
    assert "ansible-core>=2.17,<2.20" in containerfile and "ansible-runner" in containerfile
    assert "ansible-galaxy collection install $ANSIBLE_GALAXY_CLI_COLLECTION_OPTS -r requirements.yml" in containerfile
    assert "introspect --user-pip=requirements.txt --user-bindep=bindep.txt" in containerfile
    assert "install-from-bindep" in containerfile
    galaxy = yaml.safe_load((context / "_build" / "requirements.yml").read_text())
    [collection] = galaxy["collections"]
    assert collection["type"] == "file"
    assert (context / "_build" / collection["name"]).is_file(), "the collection artifact is not in the context"


def test_context_carries_the_runtime_python_and_system_requirements(context: Path) -> None:
    python = _requirement_names((context / "_build" / "requirements.txt").read_text().splitlines())
    assert {"azure-identity", "azure-mgmt-core", "psycopg"} <= python
    assert not {"pytest", "molecule", "ansible-lint"} & python, "test tools do not belong in the EE"
    system = (context / "_build" / "bindep.txt").read_text()
    assert "libpq5 [platform:dpkg]" in system and "libpq [platform:rpm]" in system


def test_the_image_builds_introspection_finds_the_collections_requirements(context: Path, tmp_path: Path) -> None:
    """What the builder stage runs: install the context's artifact, then ansible-builder's introspect.py over it."""
    collections = tmp_path / "collections"
    _run(BIN / "ansible-galaxy", "collection", "install", "--offline", "--force", "-p", collections,
         context / "_build" / "collections" / "complianceflow-azure_infra.tar.gz", cwd=tmp_path)
    pip_out, bindep_out = tmp_path / "pip.txt", tmp_path / "bindep.txt"
    _run(sys.executable, context / "_build" / "scripts" / "introspect.py", "introspect", collections,
         f"--write-pip={pip_out}", f"--write-bindep={bindep_out}", cwd=tmp_path)
    pip_lines = pip_out.read_text().splitlines()
    assert {"azure-identity", "azure-mgmt-core", "psycopg"} <= _requirement_names(pip_lines)
    assert any("complianceflow.azure_infra" in line for line in pip_lines), pip_lines
    assert any(line.startswith("libpq5 [platform:dpkg]") for line in bindep_out.read_text().splitlines())
    # ansible-core comes from the definition's ansible_core pin, never from a collection's requirements.
    assert "ansible-core" not in _requirement_names(pip_lines)
