# The two commands a reader types:  make book   and   make test
# Everything else is optional. Run `make help` for the list.

PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Warnings are errors, references are checked (-n), and every problem is listed.
JB_FLAGS ?= -W -n --keep-going

# Kernels come from the project's virtual environment, never from elsewhere.
export JUPYTER_PATH := $(CURDIR)/$(VENV)/share/jupyter
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export PYTHONHASHSEED := 0
# The book's models are tiny: one thread per kernel is faster on a 2-core machine
# (no oversubscription when two processes run) and gives the same numbers everywhere.
export OMP_NUM_THREADS := 1
export MKL_NUM_THREADS := 1

.PHONY: help install book pdf test unit lint test-book bench lock clean distclean chapter
.PHONY: check-site node

help:
	@echo "make book       set up .venv and build the HTML site into _build/html"
	@echo "make test       set up .venv, build the book and run every test"
	@echo "make unit       lint and the package's fast unit tests"
	@echo "make lint       ruff over code, tests, the book's extension, benchmarks"
	@echo "make pdf        build the PDF into _build/latex/introdl.pdf (needs TeX Live)"
	@echo "make chapter CH=book/lecture1/perceptron   execute one chapter to a notebook"
	@echo "make bench      build-time, speed and page-speed benchmarks (prints figures)"
	@echo "make check-site validate every HTML page; spell-check the sources"
	@echo "make clean      remove the build; make distclean also removes .venv"

install: $(STAMP)

# requirements.txt is complete (every package, frozen by make lock), so pip installs it
# as it stands (--no-deps): no resolver run, and nothing comes in that the lock leaves
# out. The lock leaves out LEFT_OUT, optional extras that nothing here uses but that
# cost every build: JupyterLab's jupyter-events asks for jsonschema[format-nongpl],
# whose rfc3987-syntax builds a Lark grammar each time jsonschema is imported (about
# 3 s; every Sphinx run and every chapter's kernel imports jsonschema through nbformat).
# Without it jsonschema simply skips the "iri" string format, which nothing here uses.
LEFT_OUT := rfc3987-syntax lark

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --no-deps -r requirements.txt
	$(BIN)/python -m pip uninstall --quiet --yes $(LEFT_OUT)
	touch $@

# Node.js tools, pinned in package.json and package-lock.json, installed with npm ci
# into node_modules/ (--ignore-scripts: vnu-jar's install script would download a Java
# runtime). make book needs only the dependencies: KaTeX, which renders the math when
# the book is built; without npm the book still builds, with MathJax in the browser,
# and the build says how to get KaTeX. The devDependencies are the checkers:
# vnu-jar (make check-site) and Lighthouse (make bench).
NODE_BOOK := node_modules/.installed-book
NODE_ALL  := node_modules/.installed-all
NPM_CI    := npm ci --ignore-scripts --no-audit --no-fund --loglevel=error

node:
	@if command -v npm > /dev/null; then $(MAKE) --no-print-directory $(NODE_BOOK); fi

$(NODE_BOOK): package.json package-lock.json
	$(NPM_CI) --omit=dev && touch $@ \
	  || echo "npm ci failed: the math will be typeset in the browser (MathJax)"

$(NODE_ALL): package.json package-lock.json
	$(NPM_CI)
	touch $(NODE_BOOK) $@

# Chapters are read, and so executed, two at a time (BOOK_JOBS) by sphinx-build -j:
# see book/_ext/build.py, the one build command (also used by the build tests).
export BOOK_JOBS ?= 2
book: $(STAMP) node
	$(BIN)/python book/_ext/build.py $(JB_FLAGS)
	$(BIN)/python book/_ext/bundle.py

pdf: book
	$(BIN)/python book/_ext/build.py --builder latex $(JB_FLAGS)

lint: $(STAMP)
	$(BIN)/ruff check code tests book/_ext benchmarks

# the quick loop: lint, then the package's tests without the slow ones
unit: lint
	$(BIN)/python -m pytest -m "not book and not slow" -n 2 -q

# The built book's tests, two files at a time: each file stays in one process, so
# its fixtures (the browser, the PDF build, the small copies of the book that the
# build tests build again and again) are made once.
BOOK_TESTS := -m book -n 2 --dist loadfile -q
test-book: $(STAMP)
	$(BIN)/python -m pytest $(BOOK_TESTS)

# everything: lint, every package test (slow ones too), the built book and its checks
test: lint book check-site
	$(BIN)/python -m pytest -m "not book" -n 2 -q
	$(BIN)/python -m pytest $(BOOK_TESTS)

# Page speed: Lighthouse in Debian's chromium, on the built site served with gzip.
bench: $(NODE_ALL) book
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/pagespeed.py

lock: $(STAMP)
	$(BIN)/python -m pip install --quiet -r requirements.in
	$(BIN)/python -m pip uninstall --quiet --yes $(LEFT_OUT)
	{ sed -n '1,3p' requirements.txt; \
	  $(BIN)/python -m pip freeze --exclude-editable \
	    | sed 's/^torch==\(.*\)+cpu$$/torch==\1/'; echo "-e ."; } > requirements.lock
	mv requirements.lock requirements.txt

clean:
	rm -rf _build .pytest_cache .hypothesis conf.py

distclean: clean
	rm -rf $(VENV) node_modules

# Run one chapter outside the book: make chapter CH=book/lecture1/perceptron
chapter: $(STAMP)
	@test -n "$(CH)" || { echo "usage: make chapter CH=book/lecture1/perceptron"; exit 2; }
	$(BIN)/python benchmarks/chapters.py $(CH)

# -- The site's checks (issue 19) ------------------------------------------------------
# Every HTML page passes the Nu HTML Checker (vnu.jar, pinned in package.json, run with
# Debian's Java); codespell finds no misspelling (word list: .codespellrc). Internal
# links and anchors are checked by tests/book/test_site.py.
VNU := node_modules/vnu-jar/build/dist/vnu.jar

$(VNU): $(NODE_ALL)
	touch $@

check-site: book $(VNU)
	find _build/html -name '*.html' -not -path '_build/html/_static/*' | sort \
	  | xargs java -jar $(VNU) --errors-only
	$(BIN)/codespell book code README.md
