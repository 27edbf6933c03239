"""The library's documentation is checked like its code.

* every doctest example in sce_lib runs and prints what its docstring says;
* every public function and class says where the book derives it ("Derived in: book/<file>.md,
  §<section>"), and that file and section exist — so a reader can go from code to proof.
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import re

import pytest

from _paths import BOOK

MODULES = ["sce_lib.functional", "sce_lib.derivatives", "sce_lib.device", "sce_lib.convexity",
           "sce_lib.hidden_layer", "sce_lib.linear", "sce_lib.reference", "sce_lib.data",
           "sce_lib.symbolic.engine", "sce_lib.symbolic.softmax", "sce_lib.symbolic.cross_entropy",
           "sce_lib.symbolic.certificate", "sce_lib.symbolic.linear", "sce_lib._validate.core", "sce_lib._validate.convert",
           "sce_lib._validate.scalars", "sce_lib._validate.arrays", "sce_lib._validate.convexity",
           "sce_lib._validate.hidden_layer", "sce_lib._validate.linear", "sce_lib._validate.symbolic",
           "sce_lib._validate.data", "sce_lib._validate.reference", "sce_lib.optim.fit", "sce_lib.optim.result",
           "sce_lib.optim.certify", "sce_lib.optim.estimator",
           "sce_lib._validate.optim", "sce_lib.separability.theory", "sce_lib.separability.bounds",
           "sce_lib.separability.estimator", "sce_lib.separability.diagnostics",
           "sce_lib._validate.separability", "sce_lib.training", "sce_lib._validate.training", "sce_lib.seeds",
           "sce_lib.separability.pairs", "sce_lib.separability.attribution",
           "sce_lib.separability.collapse", "sce_lib._validate.collapse", "sce_lib.objectives"]
DERIVED = re.compile(r"Derived in:\s*book/([\w.-]+\.md),\s*(.+)", re.S)


@pytest.mark.parametrize("name", MODULES)
def test_doctests_pass(name: str) -> None:
    module = importlib.import_module(name)
    failures, attempted = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    assert failures == 0, f"{name}: {failures} of {attempted} doctest examples failed"


# Infrastructure, not mathematics: no chapter derives these, so they need not name one.
NO_DERIVATION = {"sce_lib.device.default_device", "sce_lib.symbolic.engine.is_zero",
                 "sce_lib.convexity.default_psd_tolerance", "sce_lib.hidden_layer.unpack_one_hidden_layer",
                 "sce_lib.data.standardize_columns", "sce_lib.reference.ulp", "sce_lib.reference.ulp_distance",
                 *(f"sce_lib.seeds.{n}" for n in ("seed_offset", "seed", "torch_generator", "numpy_rng", "full_run"))}
def _public_objects():
    for name in MODULES:
        if name.startswith("sce_lib._validate"):
            continue
        module = importlib.import_module(name)
        for attr in getattr(module, "__all__", []):
            obj = getattr(module, attr)
            if inspect.isfunction(obj) or inspect.isclass(obj):
                yield f"{name}.{attr}", obj


def _headings(path) -> set[str]:
    """Section titles of a chapter, outside code cells, each in two spellings: with its inline math
    removed ("The gradient") and with the math kept, dollars dropped ("The gradient p - y")."""
    text = re.sub(r"^```.*?^```", "", path.read_text(encoding="utf-8"), flags=re.S | re.M)
    titles = re.findall(r"^#{1,6}\s+(.+)$", text, flags=re.M)
    squash = lambda t: re.sub(r"\s+", " ", t).strip()  # noqa: E731
    return {squash(re.sub(r"\$[^$]*\$", "", t)) for t in titles} | {squash(t.replace("$", "")) for t in titles}


PUBLIC = sorted(_public_objects(), key=lambda item: item[0])


def test_public_api_is_documented() -> None:
    import sce_lib

    missing = [name for name in sce_lib.__all__ if not inspect.getdoc(getattr(sce_lib, name))]
    assert missing == [], f"public names without a docstring: {missing}"


@pytest.mark.parametrize("qualname,obj", PUBLIC, ids=[q for q, _ in PUBLIC])
def test_docstring_names_an_existing_section(qualname: str, obj) -> None:
    doc = inspect.getdoc(obj) or ""
    if inspect.isclass(obj) and "Derived in:" not in doc:
        pytest.skip(f"{qualname}: a result type; its constructor function carries the reference")
    if qualname in NO_DERIVATION and "Derived in:" not in doc:
        pytest.skip(f"{qualname}: infrastructure, derived nowhere")
    match = DERIVED.search(doc)
    assert match, f"{qualname}: docstring lacks 'Derived in: book/<chapter>.md, §<section>'"
    chapter = BOOK / match.group(1)
    assert chapter.exists(), f"{qualname}: 'Derived in' names {chapter.name}, which does not exist"
    headings = _headings(chapter)
    # "§A, §B." -> ["A", "B"]: sections are separated by their § marks (titles may hold commas)
    text = match.group(2).split("\n\n")[0]
    sections = [re.sub(r"[\s,;.]+$", "", part) for part in text.split("§")[1:]]
    assert sections, f"{qualname}: 'Derived in' names no section (§...)"
    for section in sections:
        section = re.sub(r"\s+", " ", section.strip().rstrip("."))
        assert section in headings, f"{qualname}: {chapter.name} has no section titled exactly {section!r}"
