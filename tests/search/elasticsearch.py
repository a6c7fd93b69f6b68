"""An embedded Elasticsearch 9.1 node for tests and benchmarks (the Java launcher in ``es-launcher/``).

Elasticsearch 9 needs a Java 21+ runtime: :func:`java_home` picks one (``BASTION_ES_JAVA_HOME``,
else the newest JDK >= 21 under /usr/lib/jvm, where the machine image installs Temurin 25 beside
Debian's OpenJDK 17), used for this node only: ``mvn`` builds the launcher with it and the node
runs on it. The randomized-testing runner that comes with the test framework jar is left off the
class path: with it present, the engine expects to run inside a randomized test.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from tests.search.opensearch import EngineError, OpenSearchNode
from tests.search.opensearch import build as build_module

ES_LAUNCHER = Path(__file__).with_name("es-launcher")
JVM_DIR = Path("/usr/lib/jvm")
TEST_ONLY_JARS = ("randomizedtesting-runner", "junit", "hamcrest", "mockito", "byte-buddy", "objenesis",
                  "lucene-test-framework")


def _java_major(home: Path) -> int:
    java = home / "bin" / "java"
    if not java.exists():
        return 0
    try:
        out = subprocess.run([str(java), "-version"], capture_output=True, text=True, timeout=30).stderr
    except (OSError, subprocess.TimeoutExpired):
        return 0
    m = re.search(r'version "(\d+)', out)
    return int(m.group(1)) if m else 0


def java_home() -> str:
    """A JDK home with Java 21 or later (needed by Elasticsearch 9)."""
    explicit = os.environ.get("BASTION_ES_JAVA_HOME")
    candidates = [Path(explicit)] if explicit else sorted(JVM_DIR.glob("*"), reverse=True)
    best = max(((_java_major(p), p) for p in candidates if p.is_dir() and not p.is_symlink()), default=(0, Path()))
    if best[0] < 21 or not (best[1] / "bin" / "javac").exists():
        raise EngineError(f"Elasticsearch 9 needs a JDK 21+ (none under {explicit or JVM_DIR}; "
                          "set BASTION_ES_JAVA_HOME)")
    return str(best[1])


def build() -> tuple[str, str]:
    """Build the launcher; returns (class path, JDK home)."""
    home = java_home()
    return build_module(ES_LAUNCHER, java_home=home, exclude=TEST_ONLY_JARS), home


class ElasticsearchNode(OpenSearchNode):
    engine = "Elasticsearch"
    main = "bastion.search.es.Main"

    def __init__(self, home: Path, built: tuple[str, str], port: int | None = None, heap: str = "1g",
                 settings: dict[str, str] | None = None) -> None:
        classpath, jdk = built
        super().__init__(home, classpath, port, heap, java=str(Path(jdk) / "bin" / "java"), settings=settings)

    def jvm_options(self) -> list[str]:
        return [*super().jvm_options(), "--enable-native-access=ALL-UNNAMED"]


__all__ = ["ES_LAUNCHER", "ElasticsearchNode", "EngineError", "build", "java_home"]
