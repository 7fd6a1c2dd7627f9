"""DeepOF's ``Project.create()`` preprocessing, rebuilt as a scikit-learn Pipeline of deepof_sk steps."""

from __future__ import annotations

from sklearn.pipeline import Pipeline

from ._cleaning import OutlierFilter, PresenceMasker
from ._imputation import KeypointImputer
from ._interpolation import Interpolator
from ._smoothing import SavgolSmoother

__all__ = ["make_deepof_preprocessor"]

_IMPUTATION = ("partial", "full", None)


def make_deepof_preprocessor(
    *,
    smooth_alpha: int | None = 1,
    remove_outliers: bool = True,
    likelihood_tol: float = 0.75,
    interpolation_std: float = 3,
    iterative_imputation: str | None = "partial",
    presence_threshold: float = 0.5,
    random_state=0,
    copy: bool = True,
    n_jobs: int | None = None,
) -> Pipeline:
    """Build the preprocessing that DeepOF 0.9.0 runs in ``Project.create()``, with its defaults.

    The steps, in DeepOF's order:

    1. ``smooth``: :class:`SavgolSmoother` with a 15-frame window and ``polyorder = 15 - smooth_alpha`` (DeepOF's
       default ``smooth_alpha=1`` gives polyorder 14, an exact fit of 15 points: no smoothing at all). Applied
       **before** outlier removal, as DeepOF does.
    2. ``outliers``: :class:`OutlierFilter` with DeepOF's rule: residual from a 5-frame centred moving average
       with zero padding at the ends (so the first and last 2 frames are always masked), ``mean + 3 std`` in x or
       y, and confidence below ``likelihood_tol`` (NaN confidence counting as 0).
    3. ``interpolate``: :class:`Interpolator`, linear, up to 3 frames from each side of every gap including the
       recording's ends (pandas' ``interpolate(limit=3, limit_direction="both")``, DeepOF's "partial" imputation).
    4. ``impute`` (only with ``iterative_imputation="full"``): :class:`KeypointImputer` ("both" strategy,
       skeleton lengths within 10 %), this package's counterpart of DeepOF's full imputation.
    5. ``presence``: :class:`PresenceMasker`, an animal is absent where its median confidence is ``<= 0.5``.

    Steps switched off (``smooth_alpha=None``, ``remove_outliers=False``, ``iterative_imputation=None``) are left
    out. Scaling to mm (DeepOF multiplies by ``arena_mm / arena_px``, without moving the origin) is a separate
    step.

    Parameters
    ----------
    smooth_alpha : int or None, default 1
        DeepOF's smoothing parameter, ``1 <= smooth_alpha <= 14``; None disables smoothing.
    remove_outliers : bool, default True
        Whether to run the outlier step.
    likelihood_tol : float, default 0.75
        Confidence below which a point is an outlier.
    interpolation_std : float, default 3
        Number of standard deviations of the moving-average residuals that make an outlier.
    iterative_imputation : {"partial", "full", None}, default "partial"
        DeepOF's imputation mode.
    presence_threshold : float, default 0.5
        Median confidence an animal needs to be present in a frame.
    random_state : int, RandomState instance or None, default 0
        Passed to :class:`KeypointImputer` (``"full"`` mode only).
    copy : bool, default True
        Passed to the steps that can work in place (smoothing, outliers, gap filling, presence): False for a
        pipeline that owns its recordings (read from files and not used again), which then needs no new position
        array per step; the input recordings are modified.
    n_jobs : int, optional
        Passed to every step (recordings in parallel).

    Returns
    -------
    sklearn.pipeline.Pipeline
        Unfitted pipeline of poses transformers.

    Notes
    -----
    NaN handling, and where the result departs from DeepOF on data with NaNs: the smoother bridges NaNs
    instead of spreading them over its window; the outlier step still tests the neighbours of a NaN; the gap
    filling runs over all frames, whereas DeepOF runs it over the frames where the animal is present, stitched
    together; the presence median is taken over the keypoints kept, whereas DeepOF includes excluded body parts. On
    tracking without NaNs (DeepLabCut's usual output) the pipeline reproduces DeepOF to rounding error.

    Examples
    --------
    >>> from deepof_sk.datasets import make_synthetic_poses
    >>> pipe = make_deepof_preprocessor()
    >>> [name for name, _ in pipe.steps]
    ['smooth', 'outliers', 'interpolate', 'presence']
    >>> out = pipe.fit_transform(make_synthetic_poses(200, noise=0.5, random_state=0))
    >>> out.sizes["time"]
    200
    """
    where = "make_deepof_preprocessor"
    if iterative_imputation not in _IMPUTATION:
        raise ValueError(f"{where}: `iterative_imputation` must be one of {list(_IMPUTATION)}; got "
                         f"{iterative_imputation!r}.")
    if smooth_alpha is not None and not (1 <= int(smooth_alpha) <= 14):
        raise ValueError(f"{where}: `smooth_alpha` must be an integer in [1, 14] (polyorder = 15 - smooth_alpha) "
                         f"or None; got {smooth_alpha!r}.")
    steps = []
    if smooth_alpha is not None:
        steps.append(("smooth", SavgolSmoother(window=15, polyorder=15 - int(smooth_alpha), copy=copy,
                                                   n_jobs=n_jobs)))
    if remove_outliers:
        steps.append(("outliers", OutlierFilter(
            method="deepof", window=5, n_std=interpolation_std, combine="any", reference="mean",
            edge_mode="zeros", likelihood_tol=likelihood_tol, nan_confidence="zero", copy=copy, n_jobs=n_jobs,
        )))
    if iterative_imputation is not None:
        steps.append(("interpolate", Interpolator(method="linear", max_gap=3, gap_policy="ends", fill_edges=True,
                                                  copy=copy, n_jobs=n_jobs)))
    if iterative_imputation == "full":
        steps.append(("impute", KeypointImputer(strategy="both", length_tolerance=0.1, random_state=random_state,
                                                n_jobs=n_jobs)))
    steps.append(("presence", PresenceMasker(threshold=presence_threshold, nan_confidence="zero", copy=copy,
                                             n_jobs=n_jobs)))
    return Pipeline(steps)
