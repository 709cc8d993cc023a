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
   ``sphinx-build -M latexpdf``. Both keep what Sphinx read in one folder,
   ``_build/doctrees``, so the PDF build after the HTML build reads (and executes)
   nothing; ``introdl_book.share_environment`` keeps the one setting that
   sphinx-jupyterbook-latex changes for LaTeX from making each build read every
   page again.

3. Before either, the script checks whether anything the build depends on changed
   since the last build of the same builder that succeeded: every file of the
   project (outputs, caches and tool environments aside; see ``NOT_INPUTS``), the
   git commit (the footer names it), Python and the installed packages (Python's,
   and npm's: KaTeX or not), the tools on the PATH, the environment variables the
   build reads, the options given, and the output folder itself (a file deleted or
   written there by another command). If nothing did, Sphinx is not started:
   starting it, loading every page it keeps and checking each for changes takes 8
   to 12 s on the whole book, only to write nothing. ``-E`` or ``-a`` always
   builds. The record is ``_build/.up-to-date-<builder>``, written only after a
   build that succeeded.

4. In an HTML build the chapters' kernels start warm: forked from a process that
   has already imported PyTorch, matplotlib and ipykernel (``warm_kernels``),
   which saves 3 to 4 s of each chapter's start and end.

``make book``, ``make pdf`` and the build tests all call this script, so the
tests exercise the very command readers run. Outputs: ``_build/html`` or
``_build/latex/introdl.pdf``, with the one execution cache in
``_build/.jupyter_cache``.
"""

import argparse
import contextlib
import hashlib
import json
import os
import shutil
import site
import subprocess
import sys
import tempfile
from pathlib import Path

import warm_kernels
from introdl_edition import commit

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def sphinx_command(builder: str, extra: list[str], jobs: int) -> list[str]:
    """The sphinx-build call for ``builder`` (``html`` or ``latex``)."""
    sphinx = [sys.executable, "-m", "sphinx"]
    if builder == "latex":  # LaTeX, then the PDF through Sphinx's generated Makefile
        return sphinx + ["-M", "latexpdf", str(ROOT), str(ROOT / "_build"),
                         "-j", str(jobs), *extra]
    # the same doctree folder as the PDF build's (make mode's default): the PDF
    # build after the HTML build reads nothing (Sphinx's documented use of -d)
    return sphinx + ["-b", builder, "-d", str(ROOT / "_build" / "doctrees"),
                     "-j", str(jobs), *extra, str(ROOT), str(ROOT / "_build" / builder)]


#: What ``conf.py`` is generated from, and the file itself.
CONF_INPUTS = ("_config.yml", "_toc.yml", "conf.py")


def conf_key(root: Path) -> str:
    """A hash of jupyter-book's version and of the files in CONF_INPUTS."""
    from importlib import metadata

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


#: Folders that are not inputs of the build: its outputs, caches, and the tools'
#: environments (what is installed there enters the key through ``environment``).
NOT_INPUTS = frozenset({".git", ".venv", "_build", "node_modules", "__pycache__",
                        ".ipynb_checkpoints", ".pytest_cache", ".hypothesis",
                        ".ruff_cache", ".mypy_cache"})
#: Folders below the root that are outputs of other commands (``make bench``).
NOT_INPUT_PATHS = frozenset({Path("benchmarks", "results")})
#: Written into the HTML output by ``bundle.py`` after the build, not by Sphinx.
BUNDLE = Path("_downloads", "introdl-notebooks.zip")
#: What the build reads from the environment (``make`` exports most of them).
ENV_VARS = ("PYTHONPATH", "PYTHONHASHSEED", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
            "JUPYTER_PATH", "SOURCE_DATE_EPOCH", "PATH")
#: Options that ask Sphinx to read or write everything again.
FORCE = frozenset({"-E", "--fresh-env", "-a", "--write-all"})


def project_files(root: Path):
    """Every file of the project the build may read, as paths relative to root."""
    for folder, dirs, files in os.walk(root):
        here = Path(folder).relative_to(root)
        dirs[:] = sorted(d for d in dirs if d not in NOT_INPUTS
                         and not d.endswith(".egg-info")
                         and here / d not in NOT_INPUT_PATHS)
        yield from (here / name for name in sorted(files))


#: npm's record of what ``npm ci`` installed into ``node_modules/`` (KaTeX: whether
#: the math is rendered when the book is built, and with which version).
NODE_TREE = Path("node_modules", ".package-lock.json")


def environment(root: Path) -> list[str]:
    """Python, the installed distributions (their folder names carry the versions),
    the Node packages, the tools the build calls and the environment variables it
    reads."""
    parts = [sys.version, sys.executable]
    node_tree = root / NODE_TREE
    parts.append(node_tree.read_text() if node_tree.is_file() else "no node_modules")
    for folder in site.getsitepackages():
        if os.path.isdir(folder):
            parts += sorted(os.listdir(folder))
    parts += [f"{name}={os.environ.get(name)}" for name in ENV_VARS]
    parts += [f"{tool}={shutil.which(tool)}" for tool in ("node", "git", "xelatex")]
    return parts


def inputs_key(root: Path, builder: str, options: list[str]) -> str:
    """A hash of everything the build of ``builder`` with ``options`` depends on."""
    digest = hashlib.sha256(json.dumps(
        [builder, options, commit(root), environment(root)]).encode())
    for path in project_files(root):
        digest.update(str(path).encode() + b"\0")
        try:
            digest.update(hashlib.sha256((root / path).read_bytes()).digest())
        except OSError:  # a broken link, a socket: nothing the build can read
            digest.update(b"\0unreadable\0")
    return digest.hexdigest()


def output_state(folder: Path) -> str | None:
    """A hash of the names, sizes and times of the files in the output folder (None
    if it does not exist): a file deleted or rewritten there changes it."""
    if not folder.is_dir():
        return None
    digest = hashlib.sha256()
    for folder_name, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            path = Path(folder_name, name)
            if path.relative_to(folder) != BUNDLE:
                stat = path.stat()
                digest.update(f"{path.relative_to(folder)}\0{stat.st_size}\0"
                              f"{stat.st_mtime_ns}\0".encode())
    return digest.hexdigest()


class BuildRecord:
    """The record of the last build of ``builder`` that succeeded: the key of its
    inputs, taken before it started, and the state of the output it left."""

    def __init__(self, root: Path, builder: str, options: list[str]):
        self.record = root / "_build" / f".up-to-date-{builder}"
        self.output = root / "_build" / builder
        self.forced = bool(FORCE.intersection(options))
        self.key = inputs_key(root, builder, options)

    def current(self) -> bool:
        if self.forced or not self.record.exists():
            return False
        saved = json.loads(self.record.read_text())
        return saved == {"inputs": self.key, "output": output_state(self.output)}

    def forget(self) -> None:
        self.record.unlink(missing_ok=True)

    def save(self) -> None:
        self.record.write_text(json.dumps(
            {"inputs": self.key, "output": output_state(self.output)}))


def build_environment(environ) -> dict:
    """``environ`` with, first on PYTHONPATH, the book's own extensions
    (_config.yml: sphinx.local_extensions) and the package of THIS folder, for
    Sphinx and for the kernels that execute the chapters, even where an installed
    copy points to another folder: the code that runs is the code whose
    fingerprint keys the cache."""
    paths = [ROOT / "book" / "_ext", ROOT / "code"]
    paths += [environ["PYTHONPATH"]] if environ.get("PYTHONPATH") else []
    return dict(environ, PYTHONPATH=os.pathsep.join(str(p) for p in paths))


@contextlib.contextmanager
def warm_kernel_server(builder: str, env: dict):
    """For an HTML build, the chapters' kernels start warm (``warm_kernels``): a
    server that has imported what they import forks them. It adds to ``env`` the
    kernel spec that asks the server and the server's address. The PDF build
    executes nothing (it reads what the HTML build kept), so it starts none."""
    if builder != "html" or not warm_kernels.supported():
        yield
        return
    specs = warm_kernels.write_spec(ROOT / "_build" / "kernels")
    folder = tempfile.mkdtemp(prefix="introdl-kernels-")  # only this user enters it
    address = os.path.join(folder, "server")
    server = warm_kernels.start_server(address, env)
    env["JUPYTER_PATH"] = os.pathsep.join(
        [str(specs), *filter(None, [env.get("JUPYTER_PATH")])])
    env[warm_kernels.ADDRESS_VARIABLE] = address
    try:
        yield
    finally:
        server.stdin.close()  # the server's signal to stop
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        shutil.rmtree(folder, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--builder", default="html", choices=["html", "latex"])
    args, extra = parser.parse_known_args(argv)
    jobs = int(os.environ.get("BOOK_JOBS", "2"))
    write_conf(ROOT)  # conf.py is a file of the project: written before the key
    record = BuildRecord(ROOT, args.builder, extra)
    if record.current():
        print(f"_build/{args.builder} is up to date: nothing the build reads changed "
              "since it was made (book/_ext/build.py lists what is checked).")
        return 0
    record.forget()  # a build that fails or is stopped leaves no record
    # earlier editions kept the HTML build's doctrees inside the site itself
    shutil.rmtree(ROOT / "_build" / "html" / ".doctrees", ignore_errors=True)
    env = build_environment(os.environ)
    if args.builder == "latex":
        # Sphinx's generated Makefile passes LATEXMKOPTS to latexmk; -xelatex (the
        # route its comment gives for latexmk 4.52b and later) makes the passes
        # write XeTeX's intermediate file and turns only the last one into the
        # PDF, where every pass wrote a PDF (2 to 3 s each); -r adds the book's
        # settings (introdl.latexmkrc: two passes for a folder's first PDF, not
        # three), named from _build/latex, where latexmk runs
        env.setdefault("LATEXMKOPTS", "-xelatex -r ../../book/_ext/introdl.latexmkrc")
    with warm_kernel_server(args.builder, env):
        code = subprocess.run(sphinx_command(args.builder, extra, jobs),
                              env=env).returncode
    if code == 0:
        record.save()
    return code


if __name__ == "__main__":
    sys.exit(main())
