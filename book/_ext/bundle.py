"""Run it yourself, in one download: the archive of every chapter's executed notebook.

    python book/_ext/bundle.py [OUTPUT]      (make book runs it after the HTML build)

writes ``_build/html/_downloads/introdl-notebooks.zip`` (or OUTPUT) holding

* ``notebooks/<part>/<chapter>.ipynb``: every chapter of the table of contents as a
  notebook with the outputs of its execution in the build (the copies the site
  offers on each page, ``_build/html/_sources/``);
* ``introdl-<version>-py3-none-any.whl``: the package, built from ``code/`` with
  ``pip wheel`` and the build backend pinned in ``pyproject.toml``;
* ``requirements.txt``: the exact versions (from the project's ``requirements.txt``)
  of what the notebooks need: the package's dependencies, the kernel and JupyterLab,
  with everything they depend on;
* ``README.md``: three commands, and the list of notebooks.

The archive is deterministic: its entries are sorted and dated
``SOURCE_DATE_EPOCH`` (as is the wheel's content), so the same sources give the
same bytes. The wheel is rebuilt only when the package's sources change.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from importlib import metadata
from pathlib import Path

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "_build"
OUTPUT = BUILD / "html" / "_downloads" / "introdl-notebooks.zip"
FOLDER = "introdl-notebooks"
#: What a reader's environment needs, besides the package's own dependencies.
READER_TOOLS = ("ipykernel", "jupyterlab")
#: Packages that ``pip freeze`` (and so requirements.txt) leaves out.
FREEZE_SKIPS = ("pip", "setuptools", "wheel", "distribute")
#: 1 January 2026: the archive's date when SOURCE_DATE_EPOCH is not set.
DEFAULT_EPOCH = 1767225600


def toc_chapters(root: Path = ROOT) -> list[str]:
    """Docnames of the TOC's chapters that are notebooks, in reading order."""
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    names = []
    for part in toc.get("parts", []):
        for chapter in part["chapters"]:
            names.append(chapter["file"])
            names += [s["file"] for s in chapter.get("sections", [])]
    return [n for n in names
            if re.search(r"^kernelspec:", (root / f"{n}.md").read_text(), re.M)]


def pinned(root: Path = ROOT) -> dict[str, str]:
    """Normalized name -> the ``name==version`` line of requirements.txt."""
    lines = (root / "requirements.txt").read_text(encoding="utf-8").splitlines()
    return {canonicalize_name(line.split("==")[0]): line.strip()
            for line in lines if "==" in line and not line.startswith("#")}


def closure(roots: list[str]) -> set[str]:
    """The installed distributions that ``roots`` need, ``roots`` included (read
    from the installed packages' metadata; extras are not followed)."""
    seen, todo = set(), [canonicalize_name(r) for r in roots]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for line in metadata.requires(name) or []:
            req = Requirement(line)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(canonicalize_name(req.name))
    return seen


def reader_requirements(root: Path = ROOT) -> str:
    """The pinned requirements of the archive (``introdl`` itself is the wheel)."""
    pins = pinned(root)
    # pip freeze leaves out the packaging tools; pin them at the installed version
    for tool in FREEZE_SKIPS:
        try:
            pins.setdefault(tool, f"{tool}=={metadata.version(tool)}")
        except metadata.PackageNotFoundError:
            pass
    roots = [str(Requirement(r).name) for r in metadata.requires("introdl") or []]
    needed = closure(roots + list(READER_TOOLS)) - {"introdl"}
    missing = sorted(n for n in needed if n not in pins)
    if missing:
        sys.exit(f"bundle: not pinned in requirements.txt: {', '.join(missing)}")
    lines = sorted((pins[n] for n in needed), key=str.lower)
    header = ("# What the book's notebooks need, at the versions the book was built\n"
              "# with (taken from the project's requirements.txt).\n")
    return header + "\n".join(lines) + "\n"


def wheel_inputs(root: Path = ROOT) -> list[Path]:
    code = sorted(p for p in (root / "code" / "introdl").rglob("*.py"))
    return [root / "pyproject.toml", root / "README.md", root / "LICENSE", *code]


def build_wheel(root: Path = ROOT, cache: Path = BUILD / "wheel") -> Path:
    """The package's wheel, rebuilt when its sources changed.

    The wheel is built in a copy of the sources, so no ``build/`` folder or
    ``*.egg-info`` is left in the project.
    """
    digest = hashlib.sha256()
    for path in wheel_inputs(root):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    stamp = cache / "sources.sha256"
    wheels = sorted(cache.glob("introdl-*.whl"))
    if len(wheels) == 1 and stamp.exists() and stamp.read_text() == digest.hexdigest():
        return wheels[0]
    shutil.rmtree(cache, ignore_errors=True)
    cache.mkdir(parents=True)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp, "src")
        for path in wheel_inputs(root):
            target = src / path.relative_to(root)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
        env = {**os.environ, "SOURCE_DATE_EPOCH": str(epoch())}
        subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                        "--wheel-dir", str(cache), str(src)], check=True, env=env)
    wheels = sorted(cache.glob("introdl-*.whl"))
    assert len(wheels) == 1, wheels
    stamp.write_text(digest.hexdigest())
    return wheels[0]


def epoch() -> int:
    return int(os.environ.get("SOURCE_DATE_EPOCH", DEFAULT_EPOCH))


def readme(wheel: str, chapters: list[str]) -> str:
    listing = "\n".join(f"- `notebooks/{c.removeprefix('book/')}.ipynb`"
                        for c in chapters)
    return f"""# An Executable Introduction to Deep Learning: the notebooks

Every chapter of the book as a Jupyter notebook, with the outputs it had when the
book was built, and the package `introdl` that they import. With Python 3.11, in
this folder:

```bash
python3 -m venv .venv && . .venv/bin/activate
pip install -r requirements.txt {wheel}
jupyter lab notebooks
```

(On Windows, activate with `.venv\\Scripts\\activate`.) Every chapter runs on a CPU
in seconds; nothing is downloaded while it runs. Run a notebook from the top
(*Run > Run All Cells*): you should get the outputs that are already in it.

The notebooks, in the book's order:

{listing}
"""


def entry(name: str) -> zipfile.ZipInfo:
    stamp = time.gmtime(max(epoch(), 315532800))[:6]  # zip dates start in 1980
    info = zipfile.ZipInfo(f"{FOLDER}/{name}", date_time=stamp)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


def bundle(output: Path = OUTPUT, root: Path = ROOT) -> Path:
    html = root / "_build" / "html"
    chapters = toc_chapters(root)
    notebooks = {c: html / "_sources" / f"{c}.ipynb" for c in chapters}
    missing = [str(p) for p in notebooks.values() if not p.exists()]
    if missing:
        sys.exit("bundle: executed notebooks missing (build the book first): "
                 + ", ".join(missing))
    wheel = build_wheel(root)
    files = {
        "README.md": readme(wheel.name, chapters).encode(),
        "requirements.txt": reader_requirements(root).encode(),
        wheel.name: wheel.read_bytes(),
        **{f"notebooks/{c.removeprefix('book/')}.ipynb": p.read_bytes()
           for c, p in notebooks.items()},
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_suffix(".partial")
    with zipfile.ZipFile(partial, "w") as archive:
        for name in sorted(files):
            archive.writestr(entry(name), files[name])
    partial.replace(output)
    return output


if __name__ == "__main__":
    path = bundle(Path(sys.argv[1]) if len(sys.argv) > 1 else OUTPUT)
    print(f"bundle: {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path} "
          f"({path.stat().st_size // 1024} KB)")
