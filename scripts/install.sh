#!/usr/bin/env bash
# Install everything the bastion, its demo and its tests need on Debian 12 (run as root):
# system packages (MariaDB, OpenSSH, SimpleSAMLphp + PHP with mysqli, Chromium + driver, sysbench,
# build deps), a virtualenv in .venv with pinned Python dependencies, and the dashboard's
# browser assets (asciinema-player from npm, locked in web/package-lock.json) copied into
# bastion/web/static/vendor/ (not committed; nothing is downloaded when the bastion runs).
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive

APT_PACKAGES=(
  mariadb-server mariadb-client libmariadb-dev
  openssh-server openssh-client sshpass
  simplesamlphp php-cli php-xml php-mbstring php-curl php-mysql
  chromium chromium-driver
  sysbench haproxy libxmlsec1-dev pkg-config gcc python3-venv curl openssl
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "apt: installing ${missing[*]}"
  # postinst scripts would start MariaDB, sshd and Apache on their default ports: forbid it
  made_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && made_policy=1
  fi
  apt-get update -qq
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/tmp/bastion-apt.log 2>&1 \
    || { tail -30 /tmp/bastion-apt.log; exit 1; }
  [ "$made_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
fi

# The driver tests build small Java (Maven) and Go clients at test time; the machine image
# ships both toolchains, Debian's packages are the fallback (go.mod stays at go 1.18 and
# go-sql-driver/mysql v1.8.1, so Debian 12's Go 1.19 builds it too).
tools=()
command -v mvn >/dev/null || tools+=(maven)
command -v javac >/dev/null || tools+=(default-jdk-headless)
command -v go >/dev/null || tools+=(golang-go)
command -v npm >/dev/null || tools+=(nodejs npm)
if [ "${#tools[@]}" -gt 0 ]; then
  echo "apt: installing ${tools[*]}"
  apt-get update -qq
  apt-get install -y -q --no-install-recommends "${tools[@]}" >/tmp/bastion-apt.log 2>&1 \
    || { tail -30 /tmp/bastion-apt.log; exit 1; }
fi

# The Elasticsearch 9 test node needs a JDK 21+ of its own (tests/search/elasticsearch.py picks
# BASTION_ES_JAVA_HOME, else the newest one under /usr/lib/jvm). The machine image installs
# Temurin 25 beside Debian's OpenJDK 17; Debian 12 packages none newer than 17, so a machine
# without one fails the Elasticsearch tests, as a missing service must.
es_jdk=""
for home in ${BASTION_ES_JAVA_HOME:-} /usr/lib/jvm/*; do
  [ -x "$home/bin/javac" ] || continue
  major=$("$home/bin/java" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1)
  [ "${major:-0}" -ge 21 ] && { es_jdk="$home (Java $major)"; break; }
done
echo "install: JDK for the Elasticsearch test node: ${es_jdk:-NONE FOUND (Java 21+ needed)}"

PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -c requirements/constraints.txt -e '.[test,fast]'
# The audit dashboard's session replay: asciinema-player, pinned by web/package-lock.json.
(cd web && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
# Node `mysql` 2.x, the mysql_native_password-only client of tests/integration/mysql/test_clients_extra.py.
(cd tests/integration/mysql/nodeclient && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
mkdir -p bastion/web/static/vendor
cp web/node_modules/asciinema-player/dist/bundle/asciinema-player.min.js \
   web/node_modules/asciinema-player/dist/bundle/asciinema-player.css bastion/web/static/vendor/
cp web/node_modules/asciinema-player/LICENSE bastion/web/static/vendor/asciinema-player.LICENSE

echo "install: done ($(.venv/bin/python --version), $(mariadbd --version | cut -d' ' -f1-4))"
