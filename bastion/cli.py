"""The ``bastion`` console script."""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()  # before anything imports ssl, socket or threading (paramiko, pymysql, requests)

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import TYPE_CHECKING  # noqa: E402

from bastion.admin_commands import (  # noqa: E402
    cmd_credentials_delete,
    cmd_credentials_list,
    cmd_credentials_rotate,
    cmd_credentials_set,
    cmd_rotate_key,
    cmd_ssh_ca_export,
    cmd_tokens_issue,
    cmd_tokens_list,
    cmd_tokens_revoke,
)
from bastion.config.schema import ConfigError  # noqa: E402
from bastion.registry import PluginError  # noqa: E402
from bastion.state.vault import VaultError  # noqa: E402

if TYPE_CHECKING:
    import socket

    from bastion.config.load import Settings
    from bastion.registry import Loaded

Handler = Callable[[argparse.Namespace], int]


def _config_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", "-c", default="bastion.yaml", help="configuration file (default: bastion.yaml)")


def cmd_check_config(args: argparse.Namespace) -> int:
    from bastion.runtime.bootstrap import load_checked

    settings, protocols = load_checked(args.config)
    print(f"{settings.path}: OK — {len(settings.config.targets)} targets, "
          f"{len(settings.policies.access)} access / {len(settings.policies.guardrails)} guardrail / "
          f"{len(settings.policies.masking)} masking rules, protocols: {', '.join(sorted(protocols))}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """A single process (``server.workers`` 1), the supervisor of N workers, or (``--worker``)
    one of those workers: see :mod:`bastion.runtime.supervisor`."""
    from bastion.runtime import logs
    from bastion.runtime.bootstrap import load_checked, private_roots
    from bastion.runtime.private import exposed, refusal

    settings, protocols = load_checked(args.config)
    logs.setup(settings.config.log_level)
    drain = settings.config.server.drain_seconds if args.grace is None else args.grace
    if args.worker is None:
        roots = private_roots(settings)
        open_to_others = exposed(roots)
        if open_to_others:
            print(f"error: {refusal(open_to_others, roots)}", file=sys.stderr)
            return 2
        workers = args.workers or settings.config.server.worker_count()
        if workers > 1:
            from bastion.runtime.supervisor import run_supervisor

            return run_supervisor(settings, workers, drain)
    return _serve(args, settings, protocols, drain)


def _serve(args: argparse.Namespace, settings: Settings, protocols: dict[str, Loaded], drain: float) -> int:
    from bastion.runtime import worker
    from bastion.runtime.bootstrap import build_context
    from bastion.runtime.server import Bastion
    from bastion.web import create_app

    listeners: dict[str, socket.socket] = {}
    if args.worker is not None:
        settings, listeners = worker.become_worker(settings, args.worker, args.listen_fds, args.parent)
    ctx = build_context(settings, args.worker)
    bastion = Bastion(ctx, protocols, create_app(ctx), listeners=listeners, audit=args.worker is None)
    ports = bastion.start()
    if args.worker is None:
        print(json.dumps({"event": "ready", "ports": ports}), flush=True)
    else:
        worker.notify_ready(args.ready_fd)
    bastion.serve_forever(grace=drain)
    return 0


def _workers(value: str) -> int:
    """``--workers``: a positive integer or ``auto`` (one per CPU)."""
    if value == "auto":
        return os.cpu_count() or 1
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer or auto, got {value!r}")
    return int(value)


def cmd_audit_verify(args: argparse.Namespace) -> int:
    from bastion.audit.journal import verify
    from bastion.audit.segments import side_journals
    from bastion.runtime.bootstrap import load_checked

    settings, _ = load_checked(args.config)
    directory = Path(settings.config.audit.journal_dir)
    # the node's journal, and those beside it: of web processes of their own (web-<pid>)
    # and of the workers of `serve --workers N` (worker-<i>)
    journals = ([directory] if any(directory.glob("journal*.jsonl")) else []) + side_journals(directory)
    if not journals:
        print(f"{directory}: no journal yet")
        return 0
    broken = 0
    for journal in journals:
        res = verify(journal)
        torn = f", {res.torn} torn line(s) from crashes skipped" if res.torn else ""
        print(f"{journal}: {'OK' if res.ok else 'BROKEN'} — {res.records} records in {res.segments} segment(s) "
              f"checked{torn}{'; ' + res.problem if res.problem else ''}")
        broken += not res.ok
    return 1 if broken else 0


def cmd_indexer(args: argparse.Namespace) -> int:
    from bastion.audit.indexer_process import run_indexer

    return run_indexer(args.config, drain=args.drain, parent=args.parent)


def cmd_demo(args: argparse.Namespace) -> int:
    from bastion.demo.run import run_demo

    return run_demo(args.workdir, search=args.search)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="bastion", description="Zero-trust access gateway for MySQL and SSH")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve", help="run the listeners and the web app")
    _config_arg(s)
    s.add_argument("--grace", type=float, default=None,
                   help="seconds sessions get to finish on SIGTERM (default: server.drain_seconds)")
    s.add_argument("--workers", type=_workers, default=None,
                   help="worker processes, or auto (one per CPU) (default: server.workers)")
    # a worker of `serve --workers N`, started by its supervisor (bastion.runtime.worker)
    s.add_argument("--worker", type=int, default=None, help=argparse.SUPPRESS)
    s.add_argument("--listen-fds", default="", help=argparse.SUPPRESS)
    s.add_argument("--ready-fd", type=int, default=-1, help=argparse.SUPPRESS)
    s.add_argument("--parent", type=int, default=0, help=argparse.SUPPRESS)
    s.set_defaults(func=cmd_serve)
    s = sub.add_parser("check-config", help="validate the configuration and policy files")
    _config_arg(s)
    s.set_defaults(func=cmd_check_config)
    cred = sub.add_parser("credentials", help="manage vaulted target credentials").add_subparsers(
        dest="sub", required=True)
    s = cred.add_parser("set", help="store a secret for TARGET[/ACCOUNT] (read from stdin or --file)")
    _config_arg(s)
    s.add_argument("target")
    s.add_argument("--account", default="")
    s.add_argument("--kind", choices=["password", "ssh-key"], default="password")
    s.add_argument("--file", help="read the secret from this file instead of stdin")
    s.set_defaults(func=cmd_credentials_set)
    s = cred.add_parser("list", help="list stored credentials (never their values)")
    _config_arg(s)
    s.set_defaults(func=cmd_credentials_list)
    s = cred.add_parser("delete", help="delete TARGET/ACCOUNT")
    _config_arg(s)
    s.add_argument("target")
    s.set_defaults(func=cmd_credentials_delete)
    s = cred.add_parser("rotate", help="change TARGET[/ACCOUNT]'s secret on the target and in the vault")
    _config_arg(s)
    s.add_argument("target")
    s.add_argument("--wait", type=float, default=120.0, help="seconds to wait for the running bastion")
    s.set_defaults(func=cmd_credentials_rotate)
    s = cred.add_parser("rotate-key", help="re-encrypt every credential under a new key")
    _config_arg(s)
    s.add_argument("--new-key-file", required=True, help="new key file (created if missing)")
    s.set_defaults(func=cmd_rotate_key)
    tok = sub.add_parser("tokens", help="issue, list and revoke bastion tokens").add_subparsers(
        dest="sub", required=True)
    s = tok.add_parser("issue", help="issue a token and print it (shown once)")
    _config_arg(s)
    s.add_argument("--user", required=True)
    s.add_argument("--groups", default="")
    s.add_argument("--ttl", type=int, default=0, help="seconds (default tokens.default_ttl)")
    s.add_argument("--email", default="")
    s.add_argument("--reason", default="", help="why (ticket id or text), recorded with every session")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_tokens_issue)
    s = tok.add_parser("revoke", help="revoke a token by id")
    _config_arg(s)
    s.add_argument("id")
    s.set_defaults(func=cmd_tokens_revoke)
    s = tok.add_parser("list", help="list tokens")
    _config_arg(s)
    s.add_argument("--user")
    s.add_argument("--all", action="store_true", help="include expired and revoked tokens")
    s.set_defaults(func=cmd_tokens_list)
    ca = sub.add_parser("ssh-ca", help="the SSH user CA that signs upstream certificates").add_subparsers(
        dest="sub", required=True)
    s = ca.add_parser("export", help="print the CA's public key: a line for the targets' TrustedUserCAKeys file")
    _config_arg(s)
    s.set_defaults(func=cmd_ssh_ca_export)
    aud = sub.add_parser("audit", help="audit journal tools").add_subparsers(dest="sub", required=True)
    s = aud.add_parser("verify", help="verify the journal's hash chain")
    _config_arg(s)
    s.set_defaults(func=cmd_audit_verify)
    s = sub.add_parser("indexer", help="index the audit journals until stopped (started by serve)")
    _config_arg(s)
    s.add_argument("--drain", type=float, default=2.0, help="seconds to index the final events at SIGTERM")
    s.add_argument("--parent", type=int, default=0, help="stop when this process (serve) is gone")
    s.set_defaults(func=cmd_indexer)
    s = sub.add_parser("demo", help="start MariaDB, sshd, a SAML IdP and the bastion, ready to use")
    s.add_argument("--workdir", default=None, help="directory for the demo (default: a fresh temp dir)")
    s.add_argument("--search", choices=["sqlite", "opensearch"], default="sqlite")
    s.set_defaults(func=cmd_demo)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    from bastion.runtime.private import restrict_umask

    restrict_umask()  # whatever any command writes (state, keys, journal) is the owner's alone
    args = parser().parse_args(argv)
    handler: Handler = args.func
    try:
        return handler(args)
    except ConfigError as exc:
        for line in exc.errors:
            print(f"error: {line}", file=sys.stderr)
        return 2
    except (VaultError, PluginError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
