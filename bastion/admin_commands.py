"""``bastion credentials …``, ``bastion tokens …`` and ``bastion ssh-ca export``: the
administrator's commands on the shared state (vault, tokens, the SSH user CA). Each
opens the configured state store, acts, and prints a line a script can read. A secret to
store is read from stdin or a file, never from the command line, and never printed back;
an issued token is printed once (it is stored only as a hash).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from bastion.state.vault import load_key


def _open(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from bastion.runtime.bootstrap import load_checked, open_store

    settings, _ = load_checked(args.config)
    store, tokens, vault = open_store(settings)
    return settings, store, tokens, vault


def _read_secret(args: argparse.Namespace) -> bytes:
    if args.file:
        data = Path(args.file).read_bytes()
    else:
        if sys.stdin.isatty():
            import getpass

            return getpass.getpass("secret: ").encode()
        data = sys.stdin.buffer.read()
    # a trailing newline from `echo` or an editor is never part of a password
    return data.rstrip(b"\r\n") if args.kind == "password" else data


def cmd_credentials_set(args: argparse.Namespace) -> int:
    settings, _, _, vault = _open(args)
    name, _, account = args.target.partition("/")
    target = settings.config.target(name)
    if target is None:
        raise SystemExit(f"error: unknown target {name!r}")
    account = account or args.account or (target.accounts[0] if len(target.accounts) == 1 else "")
    if account not in target.accounts:
        raise SystemExit(f"error: target {name!r} has accounts {', '.join(target.accounts)}; "
                         f"name one as {name}/ACCOUNT")
    vault.set(name, account, args.kind, _read_secret(args))
    print(f"stored {args.kind} for {name}/{account} (key {vault.key_id})")
    return 0


def cmd_credentials_list(args: argparse.Namespace) -> int:
    _, _, _, vault = _open(args)
    for target, account, kind, key_id, updated in vault.entries():
        stamp = time.strftime("%Y-%m-%d %H:%M", time.gmtime(updated))
        print(f"{target}/{account}\t{kind}\tkey={key_id}\tupdated={stamp}")
    return 0


def cmd_credentials_delete(args: argparse.Namespace) -> int:
    _, _, _, vault = _open(args)
    name, _, account = args.target.partition("/")
    return 0 if vault.delete(name, account) else 1


def cmd_credentials_rotate(args: argparse.Namespace) -> int:
    """File a rotation request for the running bastion (it alone writes the audit journal)
    and wait for its outcome."""
    import getpass

    from bastion.credentials import rotate

    settings, store, _, vault = _open(args)
    name, _, account = args.target.partition("/")
    target = settings.config.target(name)
    if target is None:
        raise SystemExit(f"error: unknown target {name!r}")
    accounts = [account] if account else [a for t, a, *_ in vault.entries() if t == name and "#" not in a]
    if not accounts or any(a not in target.accounts for a in accounts):
        raise SystemExit(f"error: name an account of {name} with a vaulted credential: {', '.join(target.accounts)}")
    status = 0
    for acc in accounts:
        rid = rotate.request(store, name, acc, f"cli:{getpass.getuser()}")
        deadline = time.monotonic() + args.wait
        state, message = rotate.outcome(store, rid)
        while state in ("pending", "running") and time.monotonic() < deadline:
            time.sleep(0.5)
            state, message = rotate.outcome(store, rid)
        if state == "pending":
            print(f"{name}/{acc}: no running bastion took the request within {args.wait:.0f} s "
                  f"(it stays queued: `bastion serve` carries it out when it runs)", file=sys.stderr)
            status = 1
        elif state != "done":
            print(f"{name}/{acc}: {state}: {message}", file=sys.stderr)
            status = 1
        else:
            print(message)
    return status


def cmd_rotate_key(args: argparse.Namespace) -> int:
    _, _, _, vault = _open(args)
    new_key = load_key(args.new_key_file, None, create=True)
    count = vault.rotate(new_key)
    print(f"re-encrypted {count} credentials under key {vault.key_id}; "
          f"now point vault.key_file at {args.new_key_file}")
    return 0


def cmd_ssh_ca_export(args: argparse.Namespace) -> int:
    from bastion.runtime.bootstrap import load_checked
    from bastion.state.ssh_ca import UserCA

    settings, _ = load_checked(args.config)
    print(UserCA.open(settings.state_dir).public_line())
    return 0


def cmd_tokens_issue(args: argparse.Namespace) -> int:
    settings, _, tokens, _ = _open(args)
    ttl = args.ttl or settings.config.tokens.default_ttl
    if ttl > settings.config.tokens.max_ttl:
        raise SystemExit(f"error: ttl {ttl}s exceeds tokens.max_ttl ({settings.config.tokens.max_ttl}s)")
    groups = {g.strip() for g in args.groups.split(",") if g.strip()}
    token, info = tokens.issue(args.user, groups, ttl, email=args.email, reason=args.reason, created_by="cli")
    if args.json:
        print(json.dumps({"token": token, "id": info.id, "expires_at": info.expires_at}))
    else:
        print(token)
    return 0


def cmd_tokens_revoke(args: argparse.Namespace) -> int:
    _, _, tokens, _ = _open(args)
    ok = tokens.revoke(args.id)
    print("revoked" if ok else "no active token with that id")
    return 0 if ok else 1


def cmd_tokens_list(args: argparse.Namespace) -> int:
    _, _, tokens, _ = _open(args)
    for t in tokens.list(user=args.user, include_inactive=args.all):
        state = "active" if t.active else ("revoked" if t.revoked_at else "expired")
        print(f"{t.id}\t{t.user}\t{','.join(sorted(t.groups))}\t{state}\t"
              f"expires={time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(t.expires_at))}\t{t.reason}")
    return 0
