"""Build the book through jupyter-book's documented route to Sphinx.

    python book/_ext/build.py [--builder html|latex] [sphinx-build options]

1. ``jupyter-book config sphinx .`` turns ``_config.yml`` into ``conf.py`` (a
   generated file, never edited by hand). It is written again whenever
   ``_config.yml``, ``_toc.yml``, jupyter-book's version or ``conf.py`` itself
   differ from the last time it was written (about a second saved on every other
   build).
2. ``sphinx-build -j BOOK_JOBS`` builds it. Reading a chapter executes it, so with
   ``-j 2`` two chapters execute at once (jupyter-book's own ``build`` command has
   no option for parallel reading). The PDF is Sphinx's make mode,
   ``sphinx-build -M latexpdf``.

``make book``, ``make pdf`` and the build tests all call this script, so the
tests exercise the very command readers run. Outputs: ``_build/html`` or
``_build/latex/introdl.pdf``, with the one execution cache in
``_build/.jupyter_cache``.
"""

import argparse
import hashlib
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def sphinx_command(builder: str, extra: list[str], jobs: int) -> list[str]:
    """The sphinx-build call for ``builder`` (``html`` or ``latex``)."""
    sphinx = [sys.executable, "-m", "sphinx"]
    if builder == "latex":  # LaTeX, then the PDF through Sphinx's generated Makefile
        return sphinx + ["-M", "latexpdf", str(ROOT), str(ROOT / "_build"),
                         "-j", str(jobs), *extra]
    return sphinx + ["-b", builder, "-j", str(jobs), *extra,
                     str(ROOT), str(ROOT / "_build" / builder)]


#: What ``conf.py`` is generated from, and the file itself.
CONF_INPUTS = ("_config.yml", "_toc.yml", "conf.py")


def conf_key(root: Path) -> str:
    """A hash of jupyter-book's version and of the files in CONF_INPUTS."""
    digest = hashlib.sha256(metadata.version("jupyter-book").encode())
    for name in CONF_INPUTS:
        path = root / name
        digest.update(name.encode() + b"\0")
        digest.update(path.read_bytes() if path.exists() else b"\0missing\0")
    return digest.hexdigest()


def write_conf(root: Path, run=subprocess.run) -> bool:
    """Generate ``conf.py`` unless the last one was generated from these very
    inputs (the key is kept in ``_build/.conf-key``). True if it was generated."""
    stamp = root / "_build" / ".conf-key"
    if stamp.exists() and stamp.read_text() == conf_key(root):
        return False
    run([str(BIN / "jupyter-book"), "config", "sphinx", str(root)], check=True,
        stdout=subprocess.DEVNULL)
    stamp.parent.mkdir(exist_ok=True)
    stamp.write_text(conf_key(root))
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--builder", default="html", choices=["html", "latex"])
    args, extra = parser.parse_known_args(argv)
    jobs = int(os.environ.get("BOOK_JOBS", "2"))
    write_conf(ROOT)
    # The book's own extensions (_config.yml: sphinx.local_extensions), and the
    # package of THIS folder for Sphinx and for the kernels that execute the
    # chapters, even where an installed copy points to another folder: the code
    # that runs is the code whose fingerprint keys the cache.
    paths = [ROOT / "book" / "_ext", ROOT / "code"]
    paths += [os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else []
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(str(p) for p in paths))
    return subprocess.run(sphinx_command(args.builder, extra, jobs), env=env).returncode


if __name__ == "__main__":
    sys.exit(main())
