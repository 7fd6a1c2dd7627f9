"""import_optional: the optional dependency, or an ImportError naming the extra that provides it."""

import sys

import pytest

from deepof_sk.utils._optional import OPTIONAL, import_optional


@pytest.mark.parametrize("module", sorted(OPTIONAL))
def test_missing_optional_dependency_names_the_extra(module, monkeypatch):
    monkeypatch.setitem(sys.modules, module, None)  # as if not installed
    extra, pip_name, _ = OPTIONAL[module]
    with pytest.raises(ImportError, match=rf'MyStep needs .*pip install "deepof-sk\[{extra}\]".*{pip_name}'):
        import_optional(module, "MyStep")


def test_installed_optional_dependency_is_returned():
    pytest.importorskip("shap")
    assert import_optional("shap", "MyStep").__name__ == "shap"
