"""Generate docs/api.md, the API reference of every public name of deepof_sk, from the code itself.

For each public module (the names in ``deepof_sk.__all__`` that are modules, plus ``validation``, ``exceptions``
and ``project`` when present), every name in its ``__all__`` is listed with its signature and the summary line of
its numpydoc docstring; classes also list the public methods and properties they define (the scikit-learn verbs
every estimator has, ``fit``, ``transform``, ``predict``, ..., are left out). Constants show their value (shortened)
and the ``#:`` comment or attribute docstring that documents them in the source. The sub-commands of the
``deepof-sk`` command line are listed from its argparse parser.

The output depends only on the code, not on the machine (memory addresses and absolute paths are removed), so
``tests/test_docs.py`` regenerates it and fails when docs/api.md is out of date.

Usage::

    python scripts/make_api_docs.py            # write docs/api.md
    python scripts/make_api_docs.py --check    # exit 1 if docs/api.md is out of date
"""

from __future__ import annotations

import argparse
import ast
import enum
import importlib
import inspect
import re
import sys
import types
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
API_MD = REPO / "docs" / "api.md"

#: Modules documented after those listed in ``deepof_sk.__all__`` (when they exist and define ``__all__``).
EXTRA_MODULES = ("project", "validation", "exceptions")
#: Methods every poses estimator has through scikit-learn's contract; not repeated for each class.
SKLEARN_VERBS = frozenset({
    "fit", "transform", "fit_transform", "inverse_transform", "predict", "predict_proba", "predict_log_proba",
    "decision_function", "score", "fit_predict", "partial_fit", "get_params", "set_params", "set_output",
    "get_feature_names_out", "get_metadata_routing", "set_fit_request", "set_transform_request",
    "set_predict_request", "set_score_request", "set_inverse_transform_request", "set_predict_proba_request",
})
MAX_VALUE_CHARS = 90

_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def _clean(text: str) -> str:
    """Remove what differs between runs or machines: memory addresses and the repository path."""
    text = _ADDRESS.sub("", text)
    return text.replace(str(REPO) + "/", "").replace(str(REPO), ".")


def summary_line(obj) -> str:
    """The numpydoc summary of ``obj``'s docstring: its first paragraph, on one line ('' if none)."""
    doc = inspect.getdoc(obj) if not isinstance(obj, str) else inspect.cleandoc(obj)
    if not doc:
        return ""
    first = doc.strip().split("\n\n", 1)[0]
    return _clean(" ".join(line.strip() for line in first.splitlines()))


def _annotation(ann) -> str:
    if isinstance(ann, str):
        return ann
    return inspect.formatannotation(ann)


def format_signature(obj, *, drop_first: bool = False) -> str:
    """``(a, b=1, *, c: int = 2) -> T`` without quoted string annotations; '' when there is no signature."""
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return ""
    params = list(sig.parameters.values())
    if drop_first and params and params[0].name in ("self", "cls"):
        params = params[1:]
    parts: list[str] = []
    star_done = False
    slash_needed = False
    for p in params:
        if p.kind is p.POSITIONAL_ONLY:
            slash_needed = True
        elif slash_needed:
            parts.append("/")
            slash_needed = False
        if p.kind is p.KEYWORD_ONLY and not star_done:
            parts.append("*")
            star_done = True
        text = p.name
        if p.kind is p.VAR_POSITIONAL:
            text, star_done = "*" + p.name, True
        elif p.kind is p.VAR_KEYWORD:
            text = "**" + p.name
        if p.annotation is not p.empty:
            text += f": {_annotation(p.annotation)}"
        if p.default is not p.empty:
            default = repr(p.default)
            text += f" = {default}" if p.annotation is not p.empty else f"={default}"
        parts.append(text)
    if slash_needed:
        parts.append("/")
    out = f"({', '.join(parts)})"
    if sig.return_annotation is not sig.empty and not inspect.isclass(obj):
        out += f" -> {_annotation(sig.return_annotation)}"
    return _clean(out)


def _constant_docs(package: types.ModuleType) -> dict[str, str]:
    """``#:`` comments and attribute docstrings of module-level assignments in a module or package's files."""
    files: list[Path] = []
    origin = getattr(package, "__file__", None)
    if origin is None:
        return {}
    origin = Path(origin)
    files = sorted(origin.parent.glob("*.py")) if origin.name == "__init__.py" else [origin]
    docs: dict[str, str] = {}
    for path in files:
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        tree = ast.parse(source)
        body = tree.body
        for i, node in enumerate(body):
            if isinstance(node, ast.Assign):
                names = [t.id for t in node.targets if isinstance(t, ast.Name)]
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                names = [node.target.id]
            else:
                continue
            text = ""
            nxt = body[i + 1] if i + 1 < len(body) else None
            if (isinstance(nxt, ast.Expr) and isinstance(nxt.value, ast.Constant)
                    and isinstance(nxt.value.value, str)):
                text = nxt.value.value
            else:
                comment: list[str] = []
                j = node.lineno - 2
                while j >= 0 and lines[j].lstrip().startswith("#:"):
                    comment.insert(0, lines[j].lstrip()[2:].strip())
                    j -= 1
                text = " ".join(comment)
            for name in names:
                if text and name not in docs:
                    docs[name] = summary_line(text)
    return docs


def _value(obj) -> str:
    text = _clean(repr(obj)).replace("`", "'")
    text = " ".join(text.split())
    if len(text) > MAX_VALUE_CHARS:
        text = text[: MAX_VALUE_CHARS - 3].rstrip() + "..."
    return text


def _kind(obj) -> str:
    if inspect.isclass(obj):
        if issubclass(obj, BaseException):
            return "exception" if not issubclass(obj, Warning) else "warning"
        if issubclass(obj, enum.Enum):
            return "enum"
        try:
            from sklearn.base import BaseEstimator
        except ImportError:  # pragma: no cover - sklearn is a core dependency
            BaseEstimator = ()  # noqa: N806
        return "estimator" if BaseEstimator and issubclass(obj, BaseEstimator) else "class"
    if inspect.isroutine(obj):
        return "function"
    if isinstance(obj, types.ModuleType):
        return "module"
    return "constant"


def _own_members(cls) -> dict:
    """Public attributes defined by ``cls`` or by its deepof_sk base classes (mixins), most derived first."""
    members: dict = {}
    for klass in cls.__mro__:
        if klass is not cls and not klass.__module__.startswith("deepof_sk"):
            continue
        if klass is not cls and klass.__name__.startswith("Base"):  # the contract's base classes: sklearn verbs
            continue
        for name, member in klass.__dict__.items():
            if not name.startswith("_") and name not in SKLEARN_VERBS:
                members.setdefault(name, member)
    return members


def _class_members(cls) -> list[str]:
    """Bullets for the public methods and properties of a class: its own and those of deepof_sk mixins."""
    out = []
    for name, member in _own_members(cls).items():
        if isinstance(member, property):
            out.append(f"  - `.{name}` (property): {summary_line(member.fget)}".rstrip(": "))
            continue
        if isinstance(member, (classmethod, staticmethod)):
            func = member.__func__
            label = "classmethod" if isinstance(member, classmethod) else "staticmethod"
            sig = format_signature(func, drop_first=isinstance(member, classmethod))
            out.append(f"  - `{cls.__name__}.{name}{sig}` ({label}): {summary_line(func)}".rstrip(": "))
            continue
        if inspect.isfunction(member):
            sig = format_signature(member, drop_first=True)
            out.append(f"  - `.{name}{sig}`: {summary_line(member)}".rstrip(": "))
    return out


def _entry(name: str, obj, constant_docs: dict[str, str]) -> list[str]:
    kind = _kind(obj)
    if kind == "module":
        return [f"- **`{name}`** (module): {summary_line(obj)}"]
    if kind == "constant":
        doc = constant_docs.get(name, "")
        line = f"- **`{name}`** = `{_value(obj)}`"
        return [line + (f": {doc}" if doc else "")]
    sig = format_signature(obj)
    line = f"- **`{name}`**`{sig}`" if sig else f"- **`{name}`**"
    tag = "" if kind == "function" else f" *({kind})*"
    summary = summary_line(obj)
    lines = [f"{line}{tag}" + (f": {summary}" if summary else "")]
    if inspect.isclass(obj):
        lines.extend(_class_members(obj))
    return lines


def _public_modules():
    import deepof_sk

    modules = []
    for name in deepof_sk.__all__:
        if name.startswith("_"):
            continue
        obj = getattr(deepof_sk, name)
        if isinstance(obj, types.ModuleType):
            modules.append(obj)
    for name in EXTRA_MODULES:
        try:
            mod = importlib.import_module(f"deepof_sk.{name}")
        except ImportError:
            continue
        if mod not in modules:
            modules.append(mod)
    return [m for m in modules if hasattr(m, "__all__")]


def _anchor(module_name: str) -> str:
    return module_name.replace(".", "").lower()


def _cli_lines() -> list[str]:
    try:
        from deepof_sk.cli import build_parser
    except ImportError:  # pragma: no cover
        return []
    parser = build_parser()
    lines = ["", "## The `deepof-sk` command line", "",
             "Sub-commands of `deepof-sk` (`deepof-sk COMMAND --help` prints each one's options); see "
             "[cli.md](cli.md).", ""]
    for action in parser._actions:  # argparse keeps sub-commands in a private action; stable since Python 3.2
        if isinstance(action, argparse._SubParsersAction):
            for choice in action._choices_actions:
                lines.append(f"- **`deepof-sk {choice.dest}`**: {' '.join((choice.help or '').split())}")
    return lines


def render() -> str:
    """The text of docs/api.md for the code as it is now."""
    import deepof_sk

    modules = _public_modules()
    out = [
        "# API reference",
        "",
        "<!-- Generated by scripts/make_api_docs.py from the code; do not edit by hand. "
        "tests/test_docs.py fails when this page is out of date: run `python scripts/make_api_docs.py`. -->",
        "",
        "Every public name of deepof_sk (each module's `__all__`) with its signature and the first line of its "
        "docstring; `help(name)` in Python shows the whole docstring (parameters, NaN handling, units, an example). "
        "Every estimator also has scikit-learn's methods (`fit`, `transform` or `predict`, `fit_transform`, "
        "`get_params`, `set_params`, ...), which are not repeated below. The guides in [index.md](index.md) "
        "show how the pieces fit together.",
        "",
        "Modules:",
        "",
    ]
    top = [n for n in deepof_sk.__all__
           if not n.startswith("_") and not isinstance(getattr(deepof_sk, n), types.ModuleType)]
    if top:
        out.append("- [`deepof_sk`](#deepof_sk) (top level)")
    for mod in modules:
        out.append(f"- [`{mod.__name__}`](#{_anchor(mod.__name__)}): {summary_line(mod)}")
    if top:
        out += ["", "## `deepof_sk`", "", summary_line(deepof_sk), ""]
        docs = _constant_docs(deepof_sk)
        for name in top:
            out.extend(_entry(name, getattr(deepof_sk, name), docs))
    for mod in modules:
        out += ["", f"## `{mod.__name__}`", "", summary_line(mod), ""]
        docs = _constant_docs(mod)
        for name in mod.__all__:
            out.extend(_entry(name, getattr(mod, name), docs))
    out.extend(_cli_lines())
    return "\n".join(out).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/api.md is out of date")
    parser.add_argument("--output", type=Path, default=API_MD, help="where to write (default docs/api.md)")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is out of date: run `python scripts/make_api_docs.py`", file=sys.stderr)
            return 1
        print(f"{args.output} is up to date")
        return 0
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output} ({text.count(chr(10))} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
