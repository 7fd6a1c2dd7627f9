"""Speed, acceleration and jerk of every keypoint: plain finite differences, or DeepOF's ``rolling_speed``."""

from __future__ import annotations

from numbers import Integral

import numpy as np
import pandas as pd
import xarray as xr
from sklearn.utils._param_validation import StrOptions

from .. import schema as S
from ..base import BasePosesTransformer
from ..utils._blocks import halo_blocks
from ..utils._memory import empty_result, full_result
from ..utils._params import as_float
from ._geometry import assign_feature, space_unit

__all__ = ["KinematicsExtractor", "KINEMATIC_NAMES"]

#: Variable name of each derivative order.
KINEMATIC_NAMES = {1: "speed", 2: "acceleration", 3: "jerk"}
_LONG_NAMES = {1: "speed (magnitude of velocity)", 2: "magnitude of acceleration", 3: "magnitude of jerk"}
_MIN_FRAMES = {1: 2, 2: 3, 3: 5}
_POWER = {1: "", 2: "^2", 3: "^3"}


def _central_differences(p: np.ndarray, orders, doubled: bool = False) -> dict[int, np.ndarray]:
    """Derivatives of ``orders`` (1, 2, 3) per frame along axis 0 (frames): compact central stencils, one-sided at
    the edges. Returns ``{order: array like p}``.

    Interior: (p[t+1] - p[t-1]) / 2; p[t+1] - 2 p[t] + p[t-1]; (p[t+2] - 2 p[t+1] + 2 p[t-1] - p[t-2]) / 2.
    Edges (1 frame each side for orders 1-2, 2 frames for order 3): forward differences at the start, backward
    at the end, of the same order (first-order accurate). Units: position unit per frame**order.

    ``doubled=True``: orders 1 and 3 are returned times 2 (the interior's halving is left out and the edges are
    doubled; both exact in floating point), for a caller that scales the result anyway and folds the 1/2 into
    its own factor, one pass fewer per order.

    The stencils are built from successive first differences (one pass over the data each), so all three orders
    cost about as much as one stencil evaluated term by term.
    """
    orders = set(orders)
    out: dict[int, np.ndarray] = {}
    d1 = np.subtract(p[1:], p[:-1])  # d1[t] = p[t+1] - p[t]
    if 1 in orders:
        v = np.empty_like(p)
        np.add(d1[1:], d1[:-1], out=v[1:-1])
        if doubled:
            np.multiply(d1[0], 2, out=v[0])
            np.multiply(d1[-1], 2, out=v[-1])
        else:
            v[1:-1] *= 0.5
            v[0] = d1[0]
            v[-1] = d1[-1]
        out[1] = v
    if orders & {2, 3}:
        a = np.empty_like(p)  # a[t] = p[t+1] - 2 p[t] + p[t-1]
        np.subtract(d1[1:], d1[:-1], out=a[1:-1])
        a[0] = a[1]
        a[-1] = a[-2]
        if 3 in orders:
            j = np.empty_like(p)
            np.subtract(a[3:-1], a[1:-3], out=j[2:-2])
            edge = 2 if doubled else 1
            if not doubled:
                j[2:-2] *= 0.5
            for t in (0, 1):  # forward third differences from t
                np.multiply(np.subtract(a[t + 2], a[t + 1]), edge, out=j[t])
            for t in (-1, -2):  # backward third differences ending at t
                end = p.shape[0] + t
                np.multiply(np.subtract(a[end - 1], a[end - 2]), edge, out=j[t])
            out[3] = j
        if 2 in orders:
            out[2] = a
    return out


#: The factor ``_central_differences(..., doubled=True)`` leaves in each order.
_DOUBLED = {1: 2.0, 2: 1.0, 3: 2.0}


def deepof_speed(pos: np.ndarray, fps: float) -> np.ndarray:
    """DeepOF's ``rolling_speed`` of positions ``(time, 2, ...)``: ``|p[t] - p[t-2]| / 2``, trailing mean over 3
    frames, rounded to 3 decimals, times fps. Returns ``(time, ...)``; the first 4 frames are NaN.

    The trailing mean is ``(d[t-2] + d[t-1] + d[t]) / 3``; pandas' rolling mean (DeepOF's) can differ from it in
    the last bit, which changes the 3-decimal rounding only for values within one ulp of a rounding boundary.
    """
    n_t = pos.shape[0]
    out = full_result((n_t,) + pos.shape[2:], np.nan)
    if n_t > 4:
        d = pos[2:] - pos[:-2]
        d *= d
        disp = d[:, 0]
        disp += d[:, 1]
        np.sqrt(disp, out=disp)  # 2 x DeepOF's displacement, frames 2 .. T-1
        mean = out[4:]
        np.add(disp[:-2], disp[1:-1], out=mean)
        mean += disp[2:]
        mean /= 6  # halving is exact in binary floating point, so /2 then /3 equals /6 bit for bit
        np.round(mean, 3, out=mean)
        mean *= float(fps)
    return out


def _deepof_step(values: np.ndarray, vector: bool) -> np.ndarray:
    """One application of DeepOF's rolling speed operator along axis 0 (frames).

    Displacement between frame t and t-2 divided by 2 (Euclidean over axis 1 when ``vector``, i.e. for positions of
    shape (time, space, ...); absolute otherwise), then a trailing mean over 3 frames (NaN unless all 3 are
    defined), rounded to 3 decimals. The result has the shape of ``values`` without the space axis.
    """
    if vector and values.shape[1] == 2:  # positions: the in-place numpy kernel, same bits as pandas
        return deepof_speed(values, 1.0)
    n_t = values.shape[0]
    shape = (n_t,) + values.shape[2:] if vector else values.shape
    disp = np.full(shape, np.nan)
    if n_t > 2:
        delta = (values[2:] - values[:-2]) / 2
        disp[2:] = np.sqrt(np.sum(delta * delta, axis=1)) if vector else np.abs(delta)
    # pandas' rolling mean, as DeepOF uses it, so the 3-decimal rounding agrees bit for bit
    rolled = pd.DataFrame(disp.reshape(n_t, -1)).rolling(3).mean().to_numpy()
    return np.round(rolled, 3).reshape(shape)


class KinematicsExtractor(BasePosesTransformer):
    """Speed, acceleration and jerk of each keypoint of each animal.

    Parameters
    ----------
    order : int or tuple of int, default (1,)
        Derivative orders to add: 1 -> ``speed``, 2 -> ``acceleration``, 3 -> ``jerk``.
    keypoints : list of str, optional
        Keypoints to compute; default all. The variables keep the dataset's full ``keypoint`` axis, the others are
        NaN there (so ``ds.speed.sel(keypoint=...)`` keeps working).
    method : {"gradient", "deepof"}, default "gradient"
        ``"gradient"``: magnitude of the derivative vectors from compact central finite differences (see Notes),
        in position unit per second**order. ``"deepof"``: DeepOF's ``rolling_speed``, reproduced exactly.
    velocity : bool, default False
        Also add the velocity vector ``velocity`` (dims time, space, keypoint, individual), by central
        differences (``method="gradient"`` only).
    variables : str or list of str, optional
        Other variables to differentiate along time (e.g. ``"distance"``, ``"angle"``, ``"area"`` from the geometry
        extractors; DeepOF's ``get_distances(speed=1)``). Each adds ``<variable>_<speed|acceleration|jerk>`` with
        the variable's dims: the absolute rate of change (``method="gradient"``: absolute central difference;
        ``"deepof"``: DeepOF's rolling speed with absolute differences). ``"position"`` in the list stands for the
        keypoint kinematics above; default: position only.
    n_jobs : int, optional
        Recordings processed in parallel with joblib.

    Attributes
    ----------
    keypoints_, individuals_, n_recordings_
        As for every poses transformer.
    orders_ : tuple of int
        Orders computed, sorted.

    Notes
    -----
    ``method="gradient"``: central differences (p[t+1] - p[t-1]) / 2, p[t+1] - 2 p[t] + p[t-1] and
    (p[t+2] - 2 p[t+1] + 2 p[t-1] - p[t-2]) / 2, times fps**order; at the first and last frame (two frames for
    jerk) one-sided forward / backward differences of the same order, so every frame gets a value. ``speed`` is
    the norm of the velocity; ``acceleration`` and ``jerk`` are norms of the derivative vectors (an animal
    turning at constant speed has a non-zero acceleration).

    ``method="deepof"`` (DeepOF's ``utils.rolling_speed`` with its defaults): d[t] = |p[t] - p[t-2]| / 2,
    trailing mean over 3 frames, rounded to 3 decimals (in position unit per frame), times fps. Higher orders
    apply the same operator to the previous (rounded, per-frame) result with an absolute difference, and DeepOF
    multiplies by fps only once, so its "acceleration" is in position unit / s / frame and its "jerk" in
    position unit / s / frame^2 (the ``units`` attrs say so). The first 4 * order frames are NaN.

    Without a frame rate (``attrs['fps']`` None) the time unit is the frame: units are ``unit/frame**order``.
    NaN handling: a derivative is NaN where its stencil touches a NaN position, and always where the position
    itself is NaN; nothing is interpolated (interpolate gaps first for continuous features).

    Examples
    --------
    >>> from deepof_sk.datasets import make_synthetic_poses
    >>> ds = make_synthetic_poses(100, scenario="walk", speed=120.0, fps=25, random_state=0)
    >>> out = KinematicsExtractor(order=(1, 2)).fit_transform(ds)
    >>> round(float(out.speed.sel(keypoint="Center").mean()), 6), out.speed.attrs["units"]
    (120.0, 'pixels/s')
    """

    _parameter_constraints = {
        "order": [Integral, list, tuple],
        "keypoints": [list, tuple, None],
        "method": [StrOptions({"gradient", "deepof"})],
        "velocity": ["boolean"],
        "variables": [str, list, tuple, None],
        "n_jobs": [Integral, None],
    }

    def __init__(self, *, order=(1,), keypoints=None, method="gradient", velocity=False, variables=None,
                 n_jobs=None):
        self.order = order
        self.keypoints = keypoints
        self.method = method
        self.velocity = velocity
        self.variables = variables
        self.n_jobs = n_jobs

    def _variables(self) -> list[str]:
        if self.variables is None:
            return [S.POSITION]
        return [self.variables] if isinstance(self.variables, str) else [str(v) for v in self.variables]

    def _scalar_kinematics(self, ds: xr.Dataset, name: str, rate: float, t_unit: str, where: str) -> xr.Dataset:
        """``<name>_speed`` etc.: absolute rates of change of a scalar variable along time."""
        if name not in ds.data_vars or S.TIME not in ds[name].dims:
            have = sorted(str(v) for v in ds.data_vars if S.TIME in ds[v].dims)
            raise ValueError(
                f"{where}: `variables` names {name!r}, which recording {ds.attrs.get(S.SOURCE_FILE) or ''} does not "
                f"have as a variable over time (it has {have}); add it first, e.g. with DistanceExtractor."
            )
        da = ds[name]
        axis = da.get_axis_num(S.TIME)
        values = np.moveaxis(as_float(da.values), axis, 0)
        unit = da.attrs.get("units", "")
        out = ds
        if self.method == "gradient":
            derivatives = _central_differences(values, self.orders_)
        else:
            derivatives, current = {}, values
            for order in range(1, max(self.orders_) + 1):
                current = _deepof_step(current, vector=False)
                if order in self.orders_:
                    derivatives[order] = current
        for order in self.orders_:
            d = np.abs(derivatives[order])
            d *= rate**order if self.method == "gradient" else rate
            if self.method == "gradient":
                d[np.isnan(values)] = np.nan
            extra = _POWER[order] if self.method == "gradient" else (
                "" if order == 1 else "/frame" + ("" if order == 2 else f"^{order - 1}"))
            out = assign_feature(
                out, f"{name}_{KINEMATIC_NAMES[order]}", np.moveaxis(d, 0, axis), da.dims,
                units=f"{unit}/{t_unit}{extra}" if unit else f"1/{t_unit}{extra}",
                long_name=f"absolute rate of change of {name} (order {order})",
                method="central differences" if self.method == "gradient" else "deepof rolling_speed", where=where,
            )
        return out

    def _fit_recordings(self, recordings, y=None):
        where = type(self).__name__
        orders = [self.order] if isinstance(self.order, Integral) else list(self.order)
        bad = [o for o in orders if not isinstance(o, Integral) or o not in KINEMATIC_NAMES]
        if bad or not orders:
            raise ValueError(
                f"{where}: `order` must be 1, 2 or 3 or a tuple of them (1 speed, 2 acceleration, 3 jerk); got "
                f"{self.order!r}."
            )
        if self.velocity and self.method != "gradient":
            raise ValueError(f"{where}: velocity=True needs method='gradient' (DeepOF's speed has no direction).")
        if self.keypoints is not None:
            names = [str(k) for k in self.keypoints]
            unknown = sorted(set(names) - set(map(str, self.keypoints_)))
            if unknown:
                raise ValueError(
                    f"{where}: `keypoints` names {unknown}, which the dataset does not have (it has "
                    f"{sorted(map(str, self.keypoints_))})."
                )
        self.orders_ = tuple(sorted({int(o) for o in orders}))

    def _gradient_kinematics(self, pos: np.ndarray, keep, rate: float):
        """Speed, acceleration and jerk magnitudes (and the velocity) of positions (T, S, K, I), by time blocks.

        Each block is extended by the stencils' reach (2 frames) so that its frames get exactly the values of a
        whole-recording evaluation; the temporaries stay about a MiB however long the recording.
        """
        n_t, n_s = pos.shape[:2]
        orders = self.orders_ + ((1,) if self.velocity and 1 not in self.orders_ else ())
        magnitudes = {order: empty_result((n_t,) + pos.shape[2:], pos.dtype) for order in self.orders_}
        velocity = empty_result(pos.shape, pos.dtype) if self.velocity else None
        with np.errstate(invalid="ignore"):
            for kept, extended, inner in halo_blocks(n_t, pos[:1].nbytes, halo=2):
                block = pos[extended] if keep is None else np.where(keep, pos[extended], np.nan)
                sums: dict[int, np.ndarray] = {}
                for s in range(n_s):
                    for order, d in _central_differences(block[:, s], orders, doubled=True).items():
                        d = d[inner]
                        if order == 1 and velocity is not None:
                            np.multiply(d, rate / _DOUBLED[1], out=velocity[kept, s])
                        if order not in self.orders_:
                            continue
                        np.multiply(d, d, out=d)
                        if order in sums:
                            sums[order] += d
                        else:
                            sums[order] = d
                for order, total in sums.items():
                    # |rate**order * stencil| = rate**order / doubling * sqrt(sum of squared doubled stencils)
                    # no NaN mask needed: every stencil is built from differences that include p[t] itself, so
                    # a missing point is NaN in all orders (the frame-by-frame test checks this)
                    magnitude = np.sqrt(total, out=magnitudes[order][kept])
                    magnitude *= rate**order / _DOUBLED[order]
                if velocity is not None:  # a point with one coordinate missing has no velocity vector
                    missing = np.isnan(block[inner, 0])  # (B, K, I); per axis: long inner loops
                    for s in range(1, n_s):
                        missing |= np.isnan(block[inner, s])
                    np.copyto(velocity[kept], np.nan, where=missing[:, None])
        return magnitudes, velocity

    def _transform_recording(self, ds: xr.Dataset) -> xr.Dataset:
        where = type(self).__name__
        n_t = ds.sizes[S.TIME]
        need = _MIN_FRAMES[max(self.orders_)]
        if n_t < need:
            raise ValueError(
                f"{where}: order {max(self.orders_)} needs at least {need} frames; the recording "
                f"{ds.attrs.get(S.SOURCE_FILE) or ''} has {n_t}."
            )
        fps = ds.attrs.get(S.FPS)
        rate = 1.0 if fps is None else float(fps)
        t_unit = "frame" if fps is None else "s"
        variables = self._variables()
        for name in variables:
            if name != S.POSITION:
                ds = self._scalar_kinematics(ds, name, rate, t_unit, where)
        if S.POSITION not in variables:
            return ds
        unit = space_unit(ds)
        da = ds[S.POSITION].transpose(S.TIME, S.SPACE, S.KEYPOINT, S.INDIVIDUAL)
        pos = as_float(da.values)
        keep = None
        if self.keypoints is not None:
            keep = np.isin(ds[S.KEYPOINT].values.astype(str), [str(k) for k in self.keypoints])[None, None, :, None]
        dims = (S.TIME, S.KEYPOINT, S.INDIVIDUAL)
        out = ds
        if self.method == "gradient":
            magnitudes, velocity = self._gradient_kinematics(pos, keep, rate)
            for order in self.orders_:
                out = assign_feature(
                    out, KINEMATIC_NAMES[order], magnitudes[order], dims, units=f"{unit}/{t_unit}{_POWER[order]}",
                    long_name=_LONG_NAMES[order], method="central differences", where=where,
                )
            if velocity is not None:
                out = assign_feature(
                    out, "velocity", velocity, (S.TIME, S.SPACE, S.KEYPOINT, S.INDIVIDUAL), units=f"{unit}/{t_unit}",
                    long_name="velocity vector", method="central differences", where=where,
                )
        else:
            if keep is not None:
                pos = np.where(keep, pos, np.nan)
            missing = np.isnan(pos).any(axis=1)  # (T, K, I)
            current = pos
            for order in range(1, max(self.orders_) + 1):
                current = _deepof_step(current, vector=order == 1)
                if order in self.orders_:
                    extra = "" if order == 1 else "/frame" + ("" if order == 2 else f"^{order - 1}")
                    values = current * rate
                    values[missing] = np.nan
                    out = assign_feature(
                        out, KINEMATIC_NAMES[order], values, dims, units=f"{unit}/{t_unit}{extra}",
                        long_name=f"DeepOF rolling {KINEMATIC_NAMES[order]}", method="deepof rolling_speed",
                        where=where,
                    )
        return out
