#!/usr/bin/env bash
# Install what the tests need, then lint, type-check and run the whole suite
# (unit tests plus integration tests against real MariaDB, sshd, SimpleSAMLphp,
# OpenSearch and headless Chromium started by the fixtures on 127.0.0.1).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
.venv/bin/ruff check .
.venv/bin/mypy bastion plugins policies
.venv/bin/python -m pytest "$@"
