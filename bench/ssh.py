"""SSH through the bastion vs direct to sshd, in one run, on loopback.

Run (as root: it starts a private sshd with a throwaway OS account):
``.venv/bin/python bench/ssh.py [--mib 512] [--parallel 100]``.

Measures with the OpenSSH client: a bulk download and upload of ``--mib`` MiB through
an exec channel (``head -c N /dev/zero`` / ``cat > /dev/null``), and ``--parallel``
concurrent connections each running one exec, first directly against sshd, then
through one bastion process (``bastion serve``), and prints the ratios. Both legs of
the bastion path are real SSH (OpenSSH → paramiko server → paramiko client → sshd).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bastion.core.types import Identity  # noqa: E402
from bastion.demo.services import SSHD, free_port  # noqa: E402
from bastion.runtime.bootstrap import load_checked, open_store  # noqa: E402
from bastion.state.directory import SSHKeys, UserDirectory  # noqa: E402

COMMON = ["-F", "/dev/null", "-o", "BatchMode=yes", "-o", "LogLevel=ERROR", "-o", "IdentitiesOnly=yes",
          "-o", "IdentityAgent=none", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"]


def start_bastion(work: Path, sshd: SSHD, server: dict[str, object] | None = None
                  ) -> tuple[subprocess.Popen[bytes], int, Path]:
    """A ``bastion serve`` with one SSH target (``sshd``); ``server`` is its ``server`` config section."""
    known = work / "known_hosts"
    known.write_text(sshd.known_hosts_line() + "\n")
    port = free_port()
    (work / "policies.yaml").write_text(yaml.safe_dump({"access": [
        {"id": "bench", "groups": ["ops"], "targets": ["bench-host"], "account": sshd.user}]}))
    config = {"state_dir": str(work / "var"), "log_level": "warning",
              "listeners": {"ssh": {"port": port, "max_connections": 1000}},
              "targets": [{"name": "bench-host", "protocol": "ssh", "host": "127.0.0.1", "port": sshd.port,
                           "accounts": [sshd.user], "options": {"known_hosts": str(known)}}],
              "policies": {"files": [str(work / "policies.yaml")], "stages": ["access"]},
              "audit": {"sinks": ["journal"]}}
    if server:
        config["server"] = server
    path = work / "bastion.yaml"
    path.write_text(yaml.safe_dump(config))
    settings, _ = load_checked(str(path))
    store, _, vault = open_store(settings)
    vault.set("bench-host", sshd.user, "ssh-key", sshd.client_key.read_bytes())
    UserDirectory(store).remember(Identity(subject="alice", groups=frozenset({"ops"}), idp="saml"))
    key = work / "alice_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    SSHKeys(store).add("alice", Path(f"{key}.pub").read_text())
    store.dispose()
    proc = subprocess.Popen([sys.executable, "-m", "bastion.cli", "serve", "--config", str(path)],
                            stdout=subprocess.PIPE, stderr=open(work / "bastion.log", "ab"), cwd=ROOT)  # noqa: SIM115
    assert proc.stdout is not None
    ready = json.loads(proc.stdout.readline())
    return proc, ready["ports"]["ssh"], key


def cpu_seconds(pid: int) -> float:
    """User+system CPU time of a process (load-independent cost of the relay)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def ssh_argv(port: int, key: Path, user: str) -> list[str]:
    return ["ssh", "-p", str(port), "-i", str(key), *COMMON, f"{user}@127.0.0.1"]


def bulk(argv: list[str], mib: int) -> tuple[float, float]:
    """(download MiB/s, upload MiB/s) of ``mib`` MiB through one exec channel."""
    size = mib << 20
    started = time.monotonic()
    down = subprocess.run([*argv, f"head -c {size} /dev/zero"], stdout=subprocess.PIPE, check=True)
    down_s = time.monotonic() - started
    assert len(down.stdout) == size
    del down
    started = time.monotonic()
    feeder = subprocess.Popen(["head", "-c", str(size), "/dev/zero"], stdout=subprocess.PIPE)
    res = subprocess.run([*argv, "wc -c"], stdin=feeder.stdout, stdout=subprocess.PIPE, check=True)
    feeder.wait()
    up_s = time.monotonic() - started
    assert int(res.stdout) == size
    return mib / down_s, mib / up_s


def parallel(argv: list[str], n: int) -> tuple[float, int]:
    """(seconds for ``n`` concurrent connections each running one exec, failures)."""
    started = time.monotonic()
    procs = [subprocess.Popen([*argv, f"echo {i}"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for i in range(n)]
    failures = 0
    for i, proc in enumerate(procs):
        out, _ = proc.communicate(timeout=300)
        failures += proc.returncode != 0 or out != f"{i}\n".encode()
    return time.monotonic() - started, failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mib", type=int, default=512)
    parser.add_argument("--parallel", type=int, default=100)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bastion-bench-ssh-"))
    work.chmod(0o711)  # sshd reads authorized_keys as the test user, who must traverse it
    sshd = SSHD(work / "sshd", "bastionbench", "bench-pw-not-used")
    proc = None
    try:
        sshd.start()
        proc, port, key = start_bastion(work, sshd)
        direct = ssh_argv(sshd.port, sshd.client_key, sshd.user)
        direct_ctr = [*direct[:-1], "-c", "aes128-ctr", direct[-1]]
        via = ssh_argv(port, key, "bench-host")
        results = {"direct (default cipher)": bulk(direct, args.mib),
                   "direct (aes128-ctr)": bulk(direct_ctr, args.mib)}
        cpu = cpu_seconds(proc.pid)
        results["bastion"] = bulk(via, args.mib)
        cpu = cpu_seconds(proc.pid) - cpu
        p_direct, f_direct = parallel(direct, args.parallel)
        p_via, f_via = parallel(via, args.parallel)
        print(f"\n{args.mib} MiB through one exec channel (MiB/s):")
        print(f"  {'path':28} {'download':>10} {'upload':>10}")
        for name, (down, up) in results.items():
            print(f"  {name:28} {down:10.1f} {up:10.1f}")
        b_down, b_up = results["bastion"]
        for name in ("direct (default cipher)", "direct (aes128-ctr)"):
            d_down, d_up = results[name]
            print(f"  bastion / {name:17} {b_down / d_down:10.2f} {b_up / d_up:10.2f}")
        print(f"  bastion process CPU: {cpu:.2f} s for {2 * args.mib} MiB "
              f"({2 * args.mib / cpu:.0f} MiB per CPU-second; loopback, both legs encrypted)")
        print(f"\n{args.parallel} parallel connections, one exec each:")
        print(f"  direct  {p_direct:6.2f} s  ({args.parallel / p_direct:6.1f} sessions/s, {f_direct} failed)")
        print(f"  bastion {p_via:6.2f} s  ({args.parallel / p_via:6.1f} sessions/s, {f_via} failed)")
        print(f"  bastion / direct time: {p_via / p_direct:.2f}")
        return 0 if f_direct == f_via == 0 else 1
    finally:
        if proc is not None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
        sshd.stop()
        sshd.remove_user()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
