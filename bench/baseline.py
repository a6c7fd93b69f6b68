"""A second bastion run from an earlier revision of this tree: before and after in one run.

On a machine whose load changes from minute to minute, two benchmark runs minutes apart
compare the machine more than the code. ``--baseline REV`` exports ``REV`` (``git
archive``) and starts a ``bastion serve`` from it beside the current one, in front of the
same MariaDB with the same configuration, so the paths alternate within each round.
The exported tree comes first on ``sys.path``: every module (the plugins too, found by
their entry points) is loaded from it; the installed dependencies are the current ones,
and so is the indexer child process (it runs off the relay, on the same journal format).
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from bastion.demo.setup import write_config
from bastion.demo.stack import ROOT, BastionProcess, Stack, mysql_config, start_bastion, store_credentials


def export(rev: str, dest: Path) -> Path:
    """The files of ``rev`` under ``dest`` (created); raises if git cannot name it."""
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile() as archive:
        subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", rev], stdout=archive, check=True)
        archive.seek(0)
        with tarfile.open(fileobj=archive) as tar:
            tar.extractall(dest, filter="data")
    return dest


def _own_policies(src: Path, home: Path) -> None:
    """Rewrite ``home/policies`` with ``src``'s own demo policies: the rules' schema moves
    between revisions, and an older bastion refuses keys it does not know yet."""
    code = ("import sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]); "
            "from bastion.demo.setup import write_demo_policies; write_demo_policies(Path(sys.argv[2]), {'mysql'})")
    subprocess.run([sys.executable, "-c", code, str(src), str(home)], check=True)


def start_baseline(stack: Stack, work: Path, rev: str, *, allow_all: bool, audit: dict[str, Any],
                   mysql_options: dict[str, Any]) -> BastionProcess:
    """``bastion serve`` from ``rev`` in front of ``stack``'s MariaDB, configured as the
    stack's own bastion; stopped with the stack."""
    src = export(rev, work / "baseline-src")
    home = work / "baseline"
    home.mkdir(parents=True, exist_ok=True)
    config = mysql_config(home, stack.db, allow_all=allow_all)
    _own_policies(src, home)
    config["audit"] = {**config["audit"], **audit}
    config["listeners"]["mysql"]["options"] = {**config["listeners"]["mysql"].get("options", {}), **mysql_options}
    store_credentials(write_config(home / "bastion.yaml", config))
    code = f"import sys; sys.path.insert(0, {str(src)!r}); from bastion.cli import main; sys.exit(main())"
    proc = start_bastion(home, config, cli=[sys.executable, "-c", code])
    stack.extra.append(proc)
    return proc
