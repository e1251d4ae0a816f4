#!/usr/bin/env bash
# Runtime footprint: a fresh virtualenv with only requirements.txt (what the modules import).
# Usage: tests/benchmarks/footprint.sh   (prints size and package count)
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
python3 -m venv "$dir/venv"
"$dir/venv/bin/pip" install --quiet -r requirements.txt 2>/dev/null
size=$(du -sm "$dir/venv" | cut -f1)
count=$("$dir/venv/bin/pip" list --format=freeze 2>/dev/null | wc -l)
echo "runtime venv (requirements.txt): ${size} MB, ${count} packages"
if [ -d .venv ]; then
  echo "dev/test venv (.venv, requirements-dev.txt): $(du -sm .venv | cut -f1) MB, $(.venv/bin/pip list --format=freeze 2>/dev/null | wc -l) packages"
fi
