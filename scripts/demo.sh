#!/usr/bin/env bash
# Install everything, then run the demo: real MariaDB, sshd and SAML IdP plus the
# bastion on 127.0.0.1 (web 8080, MySQL 3307, SSH 2222). Ctrl-C stops it all.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
exec .venv/bin/bastion demo "$@"
