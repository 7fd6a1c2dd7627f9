"""Import an optional dependency, or raise an ImportError that names the extra to install."""

from __future__ import annotations

import importlib

#: module -> (deepof_sk extra, pip name, name in messages)
OPTIONAL = {
    "cv2": ("video", "opencv-python-headless", "OpenCV"),
    "matplotlib.pyplot": ("plots", "matplotlib", "matplotlib"),
    "shap": ("explain", "shap", "SHAP"),
}


def import_optional(module: str, where: str):
    """``importlib.import_module(module)``, or an ImportError saying which extra (``pip install "deepof-sk[...]"``)
    provides it; ``where`` names the caller in the message."""
    extra, pip_name, label = OPTIONAL[module]
    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            f'{where} needs {label}, an optional dependency: pip install "deepof-sk[{extra}]" '
            f"(or pip install {pip_name})."
        ) from exc
