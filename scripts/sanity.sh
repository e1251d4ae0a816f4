#!/usr/bin/env bash
# ansible-test sanity on the collection's plugins, from a copy laid out as ansible_collections/<ns>/<name>.
# ansible-test bootstraps pip in its own venvs with get-pip.py from a host that is not reachable from our
# machines; an offline stand-in installs pip from the PyPI wheel instead.  Usage: scripts/sanity.sh [options]
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
cache=${HOME}/.ansible/test/cache
pip_version=24.2
mkdir -p "$cache"
if [ ! -f "$cache/pip-$pip_version-py3-none-any.whl" ]; then
  "$repo/.venv/bin/python" -m pip download --quiet --no-deps --only-binary=:all: -d "$cache" "pip==$pip_version"
fi
cat >"$cache/get_pip_${pip_version//./_}.py" <<PY
# Offline stand-in for get-pip.py: installs pip from the wheel beside this file.
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "pip-$pip_version-py3-none-any.whl"))
from pip._internal.cli.main import main  # noqa: E402

sys.exit(main(["install", "--upgrade", "--force-reinstall",
               *[a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]]))
PY
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
dest=$root/ansible_collections/complianceflow/azure_infra
mkdir -p "$dest"
# Only the collection's content: what galaxy would ship, plus the sanity ignore files.
git ls-files -z --cached --others --exclude-standard -- plugins meta galaxy.yml README.md tests/sanity \
  | xargs -0 -I{} cp --parents {} "$dest/"
cd "$dest"
git init -q . && git add -A >/dev/null
"$repo/.venv/bin/ansible-test" sanity --python 3.11 --local --skip-test shellcheck "$@"
