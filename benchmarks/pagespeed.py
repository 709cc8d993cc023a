"""Page speed of the built site, as Lighthouse measures it for a phone (`make bench`).

Runs the pinned Lighthouse (``npm ci`` installs it into ``node_modules/``) with its
default mobile profile (simulated slow 4G, a 4x slower CPU) in Debian's Chromium,
against ``_build/html`` served with gzip on 127.0.0.1 (``gzip_server.py``), and
prints each page's scores and metrics beside the book's budgets. Prints figures;
asserts nothing.

    python benchmarks/pagespeed.py                 # the index and four chapters
    python benchmarks/pagespeed.py --all           # every page of the table of contents
    python benchmarks/pagespeed.py --runs 3 book/lecture1/perceptron

Each page is measured ``--runs`` times (default 1) and the run with the median
performance score is shown: Lighthouse's scores move by a few points from run to
run, more on a busy machine. Reports are kept in ``benchmarks/results/lighthouse/``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gzip_server import serve  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
LIGHTHOUSE = ROOT / "node_modules" / ".bin" / "lighthouse"
CHROMIUM = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
RESULTS = ROOT / "benchmarks" / "results" / "lighthouse"
# Headless, and nothing that talks to another host.
CHROME_FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--disable-default-apps", "--disable-extensions",
                "--no-first-run", "--no-default-browser-check", "--mute-audio"]
DEFAULT_PAGES = ["book/intro", "book/lecture1/perceptron",
                 "book/lecture1/neural_networks", "book/lecture2/attention",
                 "book/lecture2/transformers"]
# The book's budgets for every chapter page (README, "Performance").
BUDGET = {"performance": 80, "tbt_ms": 200, "bytes_kb": 500, "accessibility": 100,
          "offsite": 0}


def toc_pages() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    pages = [toc["root"]]
    for part in toc.get("parts", []):
        for chapter in part["chapters"]:
            pages.append(chapter["file"])
            pages += [s["file"] for s in chapter.get("sections", [])]
    return pages


def page_path(docname: str) -> str:
    return f"{docname}.html"  # book/intro.html: index.html only redirects to it


def lighthouse(url: str, out: Path) -> dict:
    """One Lighthouse run (default mobile profile) of ``url``; the parsed report."""
    cmd = [str(LIGHTHOUSE), url, "--quiet", "--output=json", f"--output-path={out}",
           "--only-categories=performance,accessibility",
           "--chrome-flags=" + " ".join(CHROME_FLAGS)]
    env = {**os.environ, "CHROME_PATH": CHROMIUM}
    run = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    if run.returncode != 0 or not out.exists():
        raise RuntimeError(f"lighthouse failed on {url}:\n{run.stderr[-2000:]}")
    return json.loads(out.read_text())


def summary(report: dict, origin: str) -> dict:
    audits, cats = report["audits"], report["categories"]
    requests = audits["network-requests"]["details"]["items"]
    offsite = sorted({r["url"] for r in requests
                      if urlparse(r["url"]).scheme in ("http", "https")
                      and not r["url"].startswith(origin)})
    scripts = [r for r in requests if r.get("resourceType") == "Script"]
    return {
        "performance": round(100 * cats["performance"]["score"]),
        "accessibility": round(100 * cats["accessibility"]["score"]),
        "fcp_s": audits["first-contentful-paint"]["numericValue"] / 1000,
        "lcp_s": audits["largest-contentful-paint"]["numericValue"] / 1000,
        "tbt_ms": audits["total-blocking-time"]["numericValue"],
        "cls": audits["cumulative-layout-shift"]["numericValue"],
        "bytes_kb": audits["total-byte-weight"]["numericValue"] / 1000,
        "script_kb": sum(r.get("transferSize", 0) for r in scripts) / 1000,
        "requests": len(requests),
        "offsite": offsite,
        # Lighthouse's measure of the machine's speed while it ran: its simulated
        # phone multiplies the observed CPU time by 4, so a busy machine (a low
        # index) inflates TBT and lowers the score
        "cpu_index": report["environment"]["benchmarkIndex"],
    }


def verdict(s: dict) -> str:
    missed = [name for name, bad in [
        ("score", s["performance"] < BUDGET["performance"]),
        ("TBT", s["tbt_ms"] > BUDGET["tbt_ms"]),
        ("bytes", s["bytes_kb"] > BUDGET["bytes_kb"]),
        ("a11y", s["accessibility"] < BUDGET["accessibility"]),
        ("off-site", len(s["offsite"]) > BUDGET["offsite"])] if bad]
    return "ok" if not missed else "MISSED " + ",".join(missed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pages", nargs="*",
                        help="docnames (default: the index and four chapters)")
    parser.add_argument("--all", action="store_true", help="every page of the TOC")
    parser.add_argument("--runs", type=int, default=1, help="runs per page (median)")
    parser.add_argument("--site", type=Path, default=HTML, help="the built site "
                        "(default: _build/html)")
    args = parser.parse_args()
    if not LIGHTHOUSE.exists():
        sys.exit("Lighthouse is not installed: run `npm ci` (make bench does)")
    if not shutil.which(CHROMIUM):
        sys.exit(f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium)")
    if not (args.site / "index.html").exists():
        sys.exit("the book is not built: run `make book`")
    pages = toc_pages() if args.all else (args.pages or DEFAULT_PAGES)
    RESULTS.mkdir(parents=True, exist_ok=True)
    rows = {}
    with serve(args.site) as origin:
        for docname in pages:
            runs = []
            for i in range(args.runs):
                out = RESULTS / f"{docname.replace('/', '_')}.{i}.json"
                runs.append(summary(lighthouse(f"{origin}/{page_path(docname)}", out),
                                    origin))
            rows[docname] = sorted(runs, key=lambda s: s["performance"])[len(runs) // 2]
            print(f"  measured {docname}", file=sys.stderr, flush=True)
    print("\nLighthouse 12, default mobile profile (slow 4G, 4x CPU), gzip, "
          f"median of {args.runs} run(s)")
    head = (f"{'page':32s} {'score':>5s} {'FCP':>6s} {'LCP':>6s} {'TBT':>7s} "
            f"{'CLS':>5s} {'bytes':>8s} {'script':>8s} {'a11y':>4s} {'off-site':>8s} "
            f"{'cpu':>5s}")
    print(head)
    print(f"{'budget (every chapter page)':32s} {'>=80':>5s} {'':>6s} {'':>6s} "
          f"{'<=200ms':>7s} {'':>5s} {'<=500KB':>8s} {'':>8s} {'100':>4s} {'0':>8s}")
    for docname, s in rows.items():
        print(f"{docname.removeprefix('book/'):32s} {s['performance']:5d} "
              f"{s['fcp_s']:5.1f}s {s['lcp_s']:5.1f}s {s['tbt_ms']:5.0f}ms "
              f"{s['cls']:5.3f} {s['bytes_kb']:6.0f}KB {s['script_kb']:6.0f}KB "
              f"{s['accessibility']:4d} {len(s['offsite']):8d} {s['cpu_index']:5.0f}  "
              f"{verdict(s)}")
        for url in s["offsite"]:
            print(f"    off-site request: {url}")
    print("cpu: Lighthouse's benchmark index of this machine during the run; below "
          "about 1000 (a busy machine) the blocking time and the score are pessimistic")
    (RESULTS / "summary.json").write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
