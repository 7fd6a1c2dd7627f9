"""Explain behaviour labels (clusters or behaviours) with SHAP values of a surrogate classifier.

:class:`ShapExplainer` summarises interpretable features over windows, fits a fast surrogate (grouped
cross-validation by recording) and returns SHAP values as an :class:`xarray.DataArray` with feature names;
:func:`compute_shap_importance` ranks features globally or per cluster. shap is an optional dependency
(``pip install "deepof-sk[explain]"``), imported only when SHAP values are computed.
"""

from ._shap import ShapExplainer, compute_shap_importance, compute_shap_values, make_interpretable_featurizer
from ._windows import WINDOW_STATISTICS, aggregate_windows

__all__ = [
    "ShapExplainer",
    "WINDOW_STATISTICS",
    "aggregate_windows",
    "compute_shap_importance",
    "compute_shap_values",
    "make_interpretable_featurizer",
]
