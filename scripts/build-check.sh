#!/usr/bin/env bash
# Builds the collection artifact, installs it into an empty collections path and runs the
# installed complianceflow.azure_infra.plan and .site playbooks from outside the repository: the plan offline,
# then site against a fresh local emulator (check mode, build, second run of the resource_group and network
# roles), checking the emulator's state against the installed plan and its request log, not only exit codes
# (tests/integration/installed_artifact.py).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
bin=$repo/.venv/bin
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$bin/ansible-galaxy" collection build --force --output-path "$out/dist" . >/dev/null
artifact=$(ls "$out"/dist/complianceflow-azure_infra-*.tar.gz)
echo "built $(basename "$artifact") ($(du -h "$artifact" | cut -f1))"
printf '[defaults]\ncollections_path = %s\n' "$out/collections" >"$out/ansible.cfg"
export ANSIBLE_CONFIG=$out/ansible.cfg
"$bin/ansible-galaxy" collection install --offline -p "$out/collections" "$artifact" >/dev/null
installed=$out/collections/ansible_collections/complianceflow/azure_infra
for unwanted in tests/emulator .venv collections Makefile; do
  if [ -e "$installed/$unwanted" ]; then echo "artifact contains $unwanted" >&2; exit 1; fi
done
cd "$out"
env -u AZURE_SUBSCRIPTION_ID "$bin/ansible-playbook" complianceflow.azure_infra.plan \
  -i "$repo/inventories/westeu-test-1" -e plan_dir="$out/plan" >"$out/plan.log" || { cat "$out/plan.log"; exit 1; }
test -s "$out/plan/westeu-test-1.json"
echo "installed artifact: complianceflow.azure_infra.plan wrote a plan"
# The emulator and the checks come from the working tree (they are not in the artifact); the playbooks and
# everything they load come from the install (ANSIBLE_CONFIG above).
(cd "$repo" && "$bin/python" -m tests.integration.installed_artifact --workdir "$out")
