"""The README and docs/ as tests: every example runs and shows its real output; links resolve.

`LRVIZ_DOCS_UPDATE=1 pytest tests/docs` rewrites the outputs of unabridged console blocks
that changed (review the diff); abridged ones are reported with their whole actual output.
"""

from __future__ import annotations

import importlib.util
import os
import re
from pathlib import Path

import pytest

from .markdown import (
    LINK,
    PAGES,
    REPO,
    DocError,
    PageRun,
    anchors,
    apply_updates,
    blocks,
    compare,
    prose,
)

UPDATE = os.environ.get("LRVIZ_DOCS_UPDATE") == "1"
IDS = [str(p.relative_to(REPO)) for p in PAGES]


@pytest.mark.parametrize("page", PAGES, ids=IDS)
def test_every_example_runs_and_shows_its_output(page: Path, tmp_path: Path):
    run = PageRun(page, tmp_path, update=UPDATE)
    try:
        outcome = run.run()
    finally:
        if run.outcome.updates:
            apply_updates(page, run.outcome.updates)
    assert not outcome.updates, f"updated {page.relative_to(REPO)}: review the diff"


def test_the_pages():
    names = {p.name for p in PAGES}
    assert names >= {"README.md", "spec.md", "check.md", "safety.md", "design.md"}
    assert not (REPO / "docs" / "sections").exists(), "one source of truth: docs/*.md"


# --- links and file references ----------------------------------------------------------------


@pytest.mark.parametrize("page", PAGES, ids=IDS)
def test_links_resolve(page: Path):
    broken = []
    for target in LINK.findall(prose(page)):
        if re.match(r"[a-z]+:", target):  # https:, mailto:
            continue
        path, _, fragment = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(f"{target}: no such file")
        elif fragment and file.suffix == ".md" and fragment not in anchors(file):
            broken.append(f"{target}: no heading with the anchor #{fragment}")
    assert not broken, f"{page.relative_to(REPO)}: " + "; ".join(broken)


# Paths of this repository quoted in `code` (in prose or code blocks): they must exist.
REPO_PATH = re.compile(
    r"(?<![\w./-])((?:lrviz|tests|docs|benchmarks|schedules|\.ci)/[\w./*-]*\w"
    r"|Makefile|pyproject\.toml|constraints\.txt|\.pre-commit-hooks\.yaml)(?![\w/-])"
)


@pytest.mark.parametrize("page", PAGES, ids=IDS)
def test_file_references_resolve(page: Path):
    text = page.read_text(encoding="utf-8")
    missing = sorted(
        ref
        for quoted in re.findall(r"`([^`\n]+)`", text)
        for ref in REPO_PATH.findall(quoted)
        if not list(REPO.glob(ref.rstrip("/")))
    )
    assert not missing, f"{page.relative_to(REPO)} names files that do not exist: {missing}"


# --- what the pages may say -------------------------------------------------------------------

# One machine's facts: its folders, its users, "this VM". Timings name the machine generically.
MACHINE = re.compile(r"(?<![\w.])/(?:opt|work|root|home|tmp)/|\bthis (?:VM|machine)\b|\bhere\)")


@pytest.mark.parametrize(
    "path",
    [*PAGES, REPO / "Makefile", REPO / "constraints.txt", REPO / "pyproject.toml"],
    ids=lambda p: str(p.relative_to(REPO)),
)
def test_no_fact_of_one_machine(path: Path):
    hits = [
        f"{n}: {line.strip()}"
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if MACHINE.search(line)
    ]
    assert not hits, f"{path.relative_to(REPO)}: {hits}"


def test_the_rule_list_is_generated_from_the_registry():
    spec = importlib.util.spec_from_file_location("docs_generate", REPO / "docs" / "generate.py")
    assert spec is not None and spec.loader is not None
    generate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generate)
    page = generate.PAGE.read_text(encoding="utf-8")
    assert page == generate.with_rules(page), "docs/check.md's rule list is stale: make docs"
    from lrviz.checks.registry import RULES

    assert all(f"#### {r.id} {r.name}" in page for r in RULES.values())


# --- the harness itself -----------------------------------------------------------------------


def test_compare_with_and_without_elisions():
    out = ["a", "b", "c", "d"]
    assert compare(["a", "b", "c", "d"], out) is None
    assert compare(["a", "b", "c"], out) is not None  # a whole output must be whole
    assert compare(["a", "...", "d"], out) is None
    assert compare(["...", "b", "c", "..."], out) is None
    assert compare(["a", "...", "c", "b", "..."], out) is not None  # in order
    assert compare(["a", "...", "b", "d", "..."], out) is not None  # a run is contiguous
    assert compare(["b", "..."], out) is not None  # anchored at the start
    assert compare(["...", "c"], out) is not None  # anchored at the end
    assert compare(["..."], out) is not None  # an elision alone shows nothing


def page_with(tmp_path: Path, text: str) -> Path:
    page = tmp_path / "page.md"
    page.write_text(text, encoding="utf-8")
    return page


def test_a_changed_output_fails(tmp_path: Path, monkeypatch):
    monkeypatch.setattr("tests.docs.markdown.REPO", tmp_path)
    right = "```console\n$ lrviz table steplr --epochs 2 -f csv\n" + (
        "step,epoch,iter,x,lr_group0,momentum_group0\n0,0,0,0.0,0.1,0.9\n1,1,0,1.0,0.1,0.9\n```\n"
    )
    folder = tmp_path / "run"
    folder.mkdir()
    assert PageRun(page_with(tmp_path, right), folder).run().compared == 1
    wrong = right.replace("1,1,0,1.0,0.1,0.9", "1,1,0,1.0,0.01,0.9")
    with pytest.raises(DocError, match=r"line 3 differs"):
        PageRun(page_with(tmp_path, wrong), folder).run()
    loose = right.replace(
        "```console", "<!-- test: not compared: a test of the marking -->\n```console"
    )
    outcome = PageRun(page_with(tmp_path, loose.replace("0.1,0.9", "0.5,0.9")), folder).run()
    assert (outcome.compared, len(outcome.uncompared)) == (0, 1)
    failing = "```console\n$ lrviz table nosuchspec\nerror: ...\n```\n"
    with pytest.raises(DocError, match="is not what the page shows"):
        PageRun(page_with(tmp_path, failing), folder).run()
    unmarked = "```sh\npip install lrviz\n```\n"
    with pytest.raises(DocError, match="not run by the docs tests"):
        PageRun(page_with(tmp_path, unmarked), folder).run()
    no_reason = "<!-- test: not run -->\n```sh\npip install lrviz\n```\n"
    with pytest.raises(DocError, match="needs a reason"):
        blocks(page_with(tmp_path, no_reason))
