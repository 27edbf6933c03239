# Softmax Cross-Entropy, Executed — the two commands a reader needs are `make book` and `make test`.
# Every version is pinned in requirements.txt (the one place); environment.yml and CI use it too.

SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
.DEFAULT_GOAL := help

VENV    := .venv
PY      := $(VENV)/bin/python
JB      := $(VENV)/bin/jupyter-book
STAMP   := $(VENV)/.installed
PORT    ?= 8000
# One torch/BLAS thread per process: the same floating-point reduction order on every machine (so the
# book prints the same numbers), and no oversubscription when pytest runs two workers on two cores.
# `make bench` sets its own thread count.
export OMP_NUM_THREADS ?= 1
export MKL_NUM_THREADS ?= 1
BENCH_THREADS ?= $(shell nproc 2>/dev/null || echo 2)
# Notebooks executed at a time by make book / pdf / test (one kernel, one thread each): the cores.
JOBS    ?= $(shell nproc 2>/dev/null || echo 2)
# Python 3.11 (3.11.5 or newer: some pinned packages need it) is required; torch 2.13.0's wheel on the
# build machines is for 3.11. The first of python3.11 / python3 on PATH that qualifies is used.
PY311_OK := import sys; sys.exit(not (sys.version_info[:2] == (3, 11) and sys.version_info[2] >= 5))
PYTHON  ?= $(shell for c in python3.11 python3; do p=$$(command -v $$c 2>/dev/null) && "$$p" -c '$(PY311_OK)' 2>/dev/null && { echo "$$p"; break; }; done)

.PHONY: help book test bench mutation notebooks serve clean distclean venv browser check-python student reader pdf lab gpu-check

help:
	@echo "make book        build the executed book into _build/html (creates .venv on first use; JOBS=n chapters at a time, default: the cores)"
	@echo "make test        run every test: library, chapters (default seed and TEST_SEEDS=\"1\"), sources, strict build, headless browser"
	@echo "make bench       run the benchmarks (sce_lib vs PyTorch / autograd), print ratios, write benchmarks/results/ (ONLY=\"name ...\" for some)"
	@echo "make gpu-check   on a machine with an NVIDIA GPU: CUDA parity tests, GPU benches beside CPU ones, N = 200 000 estimator; _build/gpu-check/report.md"
	@echo "make mutation    mutation testing (mutmut) of the numerical core against the fast tests; prints the score"
	@echo "make notebooks   write the paired .ipynb next to each chapter (for Jupyter or download)"
	@echo "make lab         install JupyterLab into .venv (only when asked) and open the book: a chapter's .md opens as a notebook"
	@echo "make pdf         the whole book as one PDF, _build/pdf/book.pdf, and without solutions, book-student.pdf (headless Chromium)"
	@echo "make student     the student edition: every chapter as a notebook without solutions, in _build/student (+ a zip that runs alone)"
	@echo "make reader      every chapter as a notebook that reads like the site in any Jupyter (outputs kept), in _build/reader"
	@echo "make assignment  student notebooks with otter-grader check cells + autograder zips, in _build/assignment"
	@echo "make grade SUBMISSIONS=dir   grade a folder of student notebooks (no Docker): dir/grades.csv"
	@echo "make serve       serve _build/html on http://127.0.0.1:$(PORT)"
	@echo "make clean       remove _build, generated notebooks and caches (keeps .venv); distclean also removes .venv"

check-python:
	@if [ -z "$(PYTHON)" ] || ! "$(PYTHON)" -c '$(PY311_OK)' 2>/dev/null; then echo "make: Python 3.11 (>= 3.11.5) is required but was not found: neither python3.11 nor python3 on PATH is one (or set PYTHON=/path/to/python3.11)" >&2; exit 1; fi

venv: $(STAMP)

# Re-installs when requirements.txt or pyproject.toml change.
$(STAMP): requirements.txt pyproject.toml | check-python
	@if [ ! -x "$(PY)" ]; then echo "creating $(VENV) with $(PYTHON)"; "$(PYTHON)" -m venv $(VENV); fi
	@$(PY) -c '$(PY311_OK)' || { echo "make: $(VENV) is not Python >= 3.11.5; run 'make distclean' first" >&2; exit 1; }
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt 2>&1 | { grep -v 'is ignored: it is neither a file nor a directory' || true; }
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $(STAMP)

# Local build. First every notebook of _toc.yml whose code is not in the execution cache (jupyter-cache)
# is executed, JOBS at a time (default: the number of cores), by tools/execute_book.py; a failing cell
# stops the build there with the chapter's name and traceback. The cache is emptied when sce_lib,
# requirements.txt, SCE_SEED or SCE_FULL changed. Then the book build takes every output from the
# cache (it executes nothing); its warnings are errors.
book: $(STAMP)
	$(PY) tools/execute_book.py --jobs $(JOBS)
	$(JB) build . -W -n --keep-going
	@echo ""
	@echo "The book is in _build/html: open _build/html/index.html, or run 'make serve'."

# Headless Chromium for the browser test (Debian's package; never a downloaded browser build).
browser:
	@if command -v chromium >/dev/null 2>&1 && { ! command -v dpkg >/dev/null 2>&1 || dpkg -s fonts-noto-color-emoji >/dev/null 2>&1; }; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing Debian's chromium (and an emoji font for the screenshots) for the browser test"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-color-emoji >/dev/null; \
	elif command -v chromium >/dev/null 2>&1; then :; \
	else echo "make: chromium is not installed and cannot be installed here (needs apt-get as root): the browser test will be skipped"; fi

# tests/test_book.py executes every notebook under the default seed (the strict build) and under each
# offset of TEST_SEEDS, JOBS at a time; tests/test_grading.py executes them once more under the default
# seed (the graded solutions: reproducibility). The tests that read the built book wait for the strict
# build; --no-loadscope-reorder keeps the files in the order of collection (tests/conftest.py: FILE_ORDER),
# so tests/test_book.py, which starts that build and the runs under TEST_SEEDS, is the first file a
# worker runs (xdist would otherwise start with the largest files), the files that read the build come
# next, longest first, and tests/test_book_seeds.py, which waits for the TEST_SEEDS runs, comes last.
TEST_SEEDS ?= 1
test: $(STAMP) browser
	JOBS=$(JOBS) SCE_TEST_SEEDS="$(TEST_SEEDS)" SCE_TEST_WAIT_FOR_BUILD=1 $(PY) -m pytest -n 2 --dist loadfile --no-loadscope-reorder

bench: $(STAMP)
	OMP_NUM_THREADS=$(BENCH_THREADS) MKL_NUM_THREADS=$(BENCH_THREADS) $(PY) benchmarks/run_all.py $(ONLY)

# The GPU path, proved in one command (tools/gpu_check.py): without an NVIDIA driver it says so in one
# line and exits 0; with one, it finds (or makes, with `make venv`) a Python whose torch sees CUDA and
# writes _build/gpu-check/report.md. No dependency on the venv here: the no-GPU answer needs nothing.
gpu-check:
	@$(or $(wildcard $(PY)),$(PYTHON),python3) tools/gpu_check.py $(GPU_CHECK_ARGS)

# mutmut copies the project into mutants/, mutates the modules listed under [tool.mutmut] in
# pyproject.toml and runs the tests that cover each mutated function (about 15 min on 2 cores).
mutation: $(STAMP)
	rm -rf mutants
	$(VENV)/bin/mutmut run --max-children $(BENCH_THREADS) > mutants.log 2>&1 || { tail -40 mutants.log; exit 1; }
	$(PY) tests/mutation/score.py

# JupyterLab is not needed to build or test the book, so it is installed only when asked for. jupytext
# (pinned in requirements.txt) brings the server extension and JupyterLab's "Jupytext Notebook"
# viewer; the settings override makes it the default for .md files, so a chapter opens as a notebook.
LAB_ARGS ?=
$(VENV)/.lab-installed: requirements-lab.txt $(STAMP)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt -r requirements-lab.txt 2>&1 | { grep -v 'is ignored: it is neither a file nor a directory' || true; }
	@touch $@

lab: $(VENV)/.lab-installed
	@mkdir -p $(VENV)/share/jupyter/lab/settings
	@printf '%s\n' '{"@jupyterlab/docmanager-extension:plugin": {"defaultViewers": {"markdown": "Jupytext Notebook", "myst": "Jupytext Notebook"}}}' > $(VENV)/share/jupyter/lab/settings/overrides.json
	$(VENV)/bin/jupyter lab --notebook-dir=. $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS) book/01-softmax.md

# The PDF: the single-page HTML build (all cross-references within one document), printed by Debian's
# headless Chromium (tools/pdf.py says why not LaTeX; tests/test_pdf.py checks the result).
pdf: $(STAMP) browser
	$(PY) tools/execute_book.py --jobs $(JOBS)
	$(JB) build . --builder singlehtml -W -n --keep-going
	$(PY) tools/pdf.py _build/singlehtml _build/pdf/book.pdf
	$(PY) tools/pdf.py _build/singlehtml _build/pdf/book-student.pdf --student

# The student edition: reader notebooks without solutions, with answer cells, and a zip that runs alone
# (tools/student_edition.py; tests/test_student.py). Made from the built site: run `make book` first.
STUDENT_DIR ?= _build/student
student: $(STAMP)
	@test -d _build/html || { echo "make: the student edition is made from the built book; run 'make book' first" >&2; exit 1; }
	$(PY) tools/student_edition.py $(STUDENT_DIR)

# Reader notebooks: every chapter as an .ipynb that reads like the site in any Jupyter, with the build's
# outputs (tools/reader_notebooks.py; tests/test_reader_notebooks.py). The site offers the same files.
READER_DIR ?= _build/reader
reader: $(STAMP)
	@test -d _build/html || { echo "make: reader notebooks are made from the built book; run 'make book' first" >&2; exit 1; }
	$(PY) tools/reader_notebooks.py $(READER_DIR)

# Assignments for a course (otter-grader; tools/assignment.py, tools/grade.py, book/grading.md): the
# student notebooks with check cells and otter's autograder zips; then grade a folder of submissions
# without Docker into SUBMISSIONS/grades.csv (GRADE_ARGS="--jobs 2 --cell-timeout 600 --timeout 3600").
.PHONY: assignment grade
ASSIGNMENT_DIR ?= _build/assignment
assignment: $(STAMP)
	@test -d _build/html || { echo "make: assignments are made from the built book; run 'make book' first" >&2; exit 1; }
	$(PY) tools/assignment.py $(ASSIGNMENT_DIR)

grade: $(STAMP)
	@test -n "$(SUBMISSIONS)" || { echo "make: usage: make grade SUBMISSIONS=folder-of-notebooks" >&2; exit 1; }
	@test -d $(ASSIGNMENT_DIR)/autograder || $(MAKE) --no-print-directory assignment
	$(PY) tools/grade.py $(SUBMISSIONS) --autograder $(ASSIGNMENT_DIR)/autograder $(GRADE_ARGS)

notebooks: $(STAMP)
	$(VENV)/bin/jupytext --sync book/*.md

serve:
	@test -d _build/html || { echo "make: _build/html does not exist; run 'make book' first" >&2; exit 1; }
	@echo "serving http://127.0.0.1:$(PORT)/ (Ctrl-C to stop)"
	$(or $(wildcard $(PY)),$(PYTHON)) -m http.server $(PORT) --bind 127.0.0.1 --directory _build/html

clean:
	rm -rf _build .pytest_cache .hypothesis benchmarks/results mutants mutants.log
	find book -name '*.ipynb' -delete
	find . -name __pycache__ -not -path './$(VENV)/*' -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV)
