"""WSGI entry point: ``gunicorn -k gevent wsgi:app`` with BASTION_CONFIG set.

The web app may run in other processes than the protocol listeners; both share the
state store (tokens, approvals, login links), so this is safe for several workers.
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import os  # noqa: E402

from bastion.runtime.private import restrict_umask  # noqa: E402
from bastion.web import create_app  # noqa: E402

restrict_umask()  # the web process writes to the same private state as `bastion serve`

app = create_app(config_path=os.environ.get("BASTION_CONFIG", "bastion.yaml"))
