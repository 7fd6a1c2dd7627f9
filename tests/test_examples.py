"""Every script in examples/ runs to completion (each tells one story on real or synthetic data)."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*.py"))
#: Optional packages an example may need beyond the core install; its test is skipped when one is absent.
_OPTIONAL_IMPORT = re.compile(r"^\s*(?:from|import)\s+(movement|matplotlib|keras|shap|cv2|dask)\b", re.MULTILINE)


def test_there_are_examples():
    assert EXAMPLES


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs(script, tmp_path):
    text = script.read_text(encoding="utf-8")
    assert text.startswith('"""') and "Run:" in text, f"{script.name}: start with a docstring that says how to run it"
    for package in sorted(set(_OPTIONAL_IMPORT.findall(text))):
        if importlib.util.find_spec(package) is None:
            pytest.skip(f"{script.name} needs {package}, which is not installed")
    # DEEPOF_SK_QUICK asks the examples that support it for a smaller run (same code path, fewer frames)
    env = {**os.environ, "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1", "DEEPOF_SK_QUICK": "1"}
    result = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip(), "an example should print what it found"
