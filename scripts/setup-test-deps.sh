#!/usr/bin/env bash
# What the test suite needs besides npm packages: a MariaDB server binary (Debian's mariadb-server).
# The tests start their own private server on a socket in a temporary directory (no TCP port, no
# system service), so the package only has to be installed. Safe to run again: it does nothing
# when mariadbd is already there. Used by .ci/run; developers run it once on a fresh machine.
set -euo pipefail

have_mariadbd() {
  command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ] || command -v mysqld >/dev/null 2>&1 || [ -x /usr/sbin/mysqld ]
}

if have_mariadbd; then
  echo "setup-test-deps: mariadbd is installed"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "setup-test-deps: mariadbd is missing and this is not a Debian/Ubuntu system: install the MariaDB server package (mariadbd, mariadb-install-db) yourself" >&2
  exit 1
fi
SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "setup-test-deps: installing mariadb-server needs root (or sudo)" >&2; exit 1; }
  SUDO=(sudo)
fi
echo "setup-test-deps: installing mariadb-server (apt-get)"
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends mariadb-server
have_mariadbd || { echo "setup-test-deps: mariadb-server was installed but mariadbd is not found" >&2; exit 1; }
echo "setup-test-deps: mariadbd is installed"
