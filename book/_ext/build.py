"""``jupyter-book`` with Sphinx reading the chapters in several processes.

Reading a chapter executes it, so with ``-j 2`` two chapters execute at once on
a 2-core machine. jupyter-book's command line has no option for this; this
script runs that same command line with its Sphinx call given ``jobs``.

    python book/_ext/build.py [jupyter-book build arguments]

The number of processes is ``BOOK_JOBS`` (default: 2).
"""

import functools
import os
import sys

import jupyter_book.sphinx
from jupyter_book.cli.main import main

if __name__ == "__main__":
    jobs = int(os.environ.get("BOOK_JOBS", "2"))
    jupyter_book.sphinx.build_sphinx = functools.partial(
        jupyter_book.sphinx.build_sphinx, jobs=jobs)
    sys.exit(main())
