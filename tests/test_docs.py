"""The documentation stays true to the code: the API reference is current, links resolve, snippets match examples."""

from __future__ import annotations

import ast
import difflib
import importlib.util
import os
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
PAGES = sorted(DOCS.glob("*.md")) + [REPO / "README.md"]

_FENCE = re.compile(r"^(```|~~~).*?^\1[ \t]*$", re.MULTILINE | re.DOTALL)
_INLINE_CODE = re.compile(r"`[^`\n]*`")
_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$", re.MULTILINE)
_EXAMPLE_MARK = re.compile(r"<!--\s*example:\s*(\S+?)\s*-->\s*\n```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def _load_generator():
    spec = importlib.util.spec_from_file_location("make_api_docs", REPO / "scripts" / "make_api_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _prose(text: str) -> str:
    """Markdown without fenced code blocks and inline code (links there are not links)."""
    return _INLINE_CODE.sub("", _FENCE.sub("", text))


def github_slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped (except - and _), spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link in a heading anchors on its text
    text = text.strip().lower()
    kept = "".join(ch for ch in text if ch in " -_" or unicodedata.category(ch)[0] in "LN")
    return kept.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    out = set()
    for heading in _HEADING.findall(_FENCE.sub("", path.read_text(encoding="utf-8"))):
        slug = github_slug(heading)
        n = seen.get(slug, 0)
        out.add(slug if n == 0 else f"{slug}-{n}")
        seen[slug] = n + 1
    return out


def test_github_slug_follows_githubs_rules():
    assert github_slug("Agreement with DeepOF") == "agreement-with-deepof"
    assert github_slug("`deepof_sk.io`") == "deepof_skio"
    assert github_slug("Time budgets and bouts (`compute_occupancy`, `find_bouts`)") == (
        "time-budgets-and-bouts-compute_occupancy-find_bouts")


def test_api_reference_is_up_to_date():
    """docs/api.md is exactly what scripts/make_api_docs.py generates from the code as it is now."""
    expected = _load_generator().render()
    current = (DOCS / "api.md").read_text(encoding="utf-8")
    if current != expected:
        diff = "".join(list(difflib.unified_diff(current.splitlines(True), expected.splitlines(True),
                                                 "docs/api.md", "generated", n=0))[:40])
        pytest.fail("docs/api.md is out of date with the code; run `python scripts/make_api_docs.py`.\n" + diff)


def test_api_reference_names_every_public_name():
    """Independently of the generator's code: each name of each public module's __all__ has an entry."""
    generator = _load_generator()
    text = (DOCS / "api.md").read_text(encoding="utf-8")
    missing = []
    for module in generator._public_modules():
        section = text.split(f"## `{module.__name__}`\n", 1)
        if len(section) < 2:
            missing.append(module.__name__)
            continue
        body = section[1].split("\n## ", 1)[0]
        missing += [f"{module.__name__}.{name}" for name in module.__all__ if f"- **`{name}`**" not in body]
    assert not missing, f"docs/api.md lacks entries for {sorted(missing)}; run `python scripts/make_api_docs.py`."


def test_summary_line_and_signature_formatting():
    generator = _load_generator()

    def f(a, /, b: int = 1, *args, c: str | None = None, **kw) -> list[int]:
        """Do one thing
        on two lines.

        Notes
        -----
        Nothing else.
        """

    assert generator.summary_line(f) == "Do one thing on two lines."
    assert generator.format_signature(f) == "(a, /, b: int = 1, *args, c: str | None = None, **kw) -> list[int]"


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_relative_links_resolve(page):
    """Every relative link of docs/*.md and README.md names an existing file (and an existing heading)."""
    broken = []
    for target in _LINK.findall(_prose(page.read_text(encoding="utf-8"))):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
            continue
        path_part, _, fragment = target.partition("#")
        dest = (page.parent / path_part).resolve() if path_part else page
        if not dest.exists():
            broken.append(f"{target} (no file {dest})")
        elif fragment and dest.suffix == ".md" and fragment not in anchors(dest):
            broken.append(f"{target} (no heading with anchor #{fragment} in {dest.name})")
    assert not broken, f"{page.name}: broken links: {broken}"


def test_every_doc_page_is_reachable_from_the_index():
    index = _prose((DOCS / "index.md").read_text(encoding="utf-8"))
    linked = {Path(t.partition("#")[0]).name for t in _LINK.findall(index)}
    orphans = [p.name for p in DOCS.glob("*.md") if p.name != "index.md" and p.name not in linked]
    assert not orphans, f"docs/index.md does not link to {orphans}"


def _code_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]


def _imports(source: str) -> set[tuple[str, str]]:
    """(module, name) of every ``import``/``from ... import`` in ``source``."""
    out = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            out |= {(node.module or "", alias.name) for alias in node.names}
        elif isinstance(node, ast.Import):
            out |= {(alias.name, "") for alias in node.names}
    return out


def _without_comment(line: str) -> str:
    return line.split("  #")[0].rstrip()


def test_marked_snippets_are_taken_from_examples_that_run():
    """A ```python block preceded by ``<!-- example: examples/x.py -->`` shows lines of that example, which
    tests/test_examples.py runs: every code line of the snippet occurs in the example (comments and indentation
    aside), and everything it imports, the example imports from the same module."""
    n_checked = 0
    problems = []
    for page in sorted(DOCS.glob("*.md")):
        for source, code in _EXAMPLE_MARK.findall(page.read_text(encoding="utf-8")):
            example = REPO / source
            if not example.exists():
                problems.append(f"{page.name}: {source} does not exist")
                continue
            text = example.read_text(encoding="utf-8")
            have = {_without_comment(line.strip()) for line in text.splitlines()}
            lines = [line for line in _code_lines(code) if not line.startswith(("from ", "import "))]
            absent = [line for line in lines if _without_comment(line) not in have]
            imports = "\n".join(line for line in _code_lines(code) if line.startswith(("from ", "import ")))
            absent += [f"import {name or module}" for module, name in sorted(_imports(imports) - _imports(text))]
            if absent:
                problems.append(f"{page.name} snippet from {source}: not in the example: {absent[:5]}")
            n_checked += 1
    assert n_checked >= 3, "getting-started.md should show snippets marked with their example"
    assert not problems, "\n".join(problems)


_RUNNABLE = re.compile(r"<!--\s*runnable\s*-->\s*\n```python\n(.*?)^```", re.MULTILINE | re.DOTALL)
RUNNABLE = [(page, code) for page in sorted(DOCS.glob("*.md"))
            for code in _RUNNABLE.findall(page.read_text(encoding="utf-8"))]


def test_there_are_runnable_snippets():
    assert any(page.name == "getting-started.md" for page, _ in RUNNABLE)
    for _, code in RUNNABLE:
        compile(code, "<snippet>", "exec")  # at least valid Python in the default run


@pytest.mark.slow
@pytest.mark.parametrize("page, code", RUNNABLE, ids=[f"{p.stem}-{i}" for i, (p, _) in enumerate(RUNNABLE)])
def test_runnable_snippets_run(page, code, tmp_path):
    """Snippets marked ``<!-- runnable -->`` are complete programs: they run as they are (in a fresh process)."""
    env = {**os.environ, "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, f"{page.name}: snippet failed:\n{result.stderr[-3000:]}"
