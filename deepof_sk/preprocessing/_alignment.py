"""Egocentric alignment: centre each animal on a keypoint (or the arena centre) and rotate it to face +y."""

from __future__ import annotations

import json
import warnings
from numbers import Integral

import numpy as np
import xarray as xr
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import check_is_fitted

from .. import schema as S
from ..base import BasePosesTransformer, map_recordings
from ..exceptions import MissingDataWarning
from ..utils._blocks import time_blocks
from ..utils._memory import empty_result
from ..utils._xr import with_variables
from ..validation import append_log, check_recordings, return_like
from ._arena import Arena, _recording_label, resolve_arena

__all__ = ["EgocentricAligner"]

#: Per-frame rotation (radians, counter-clockwise) applied to each animal.
ALIGNMENT_ANGLE = "alignment_angle"
#: Per-frame point moved to the origin for each animal.
ALIGNMENT_CENTER = "alignment_center"
#: Polar coordinates of the aligned positions.
POSITION_POLAR = "position_polar"
#: Dimension of polar coordinates (movement's name), coordinate ``["rho", "phi"]``.
SPACE_POL = "space_pol"


def _rotate(x: np.ndarray, y: np.ndarray, cos: np.ndarray, sin: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return cos * x - sin * y, sin * x + cos * y


class EgocentricAligner(BasePosesTransformer):
    """Express every animal in its own body frame: centred on a keypoint, rotated so it faces +y.

    Each frame, the ``center`` point is moved to the origin and the positions are rotated counter-clockwise so the
    vector from ``center`` to ``align`` points along +y. This is DeepOF's ``get_coords(center="Center",
    align="Spine_1")``: the centre keypoint ends at (0, 0) (it is kept, as zeros) and the align keypoint at
    (0, distance).

    Parameters
    ----------
    center : str or None, default "Center"
        Keypoint to move to the origin, ``"arena"`` for the arena centre (from ``arena``), or None (no translation).
    align : str or None, default "Spine_1"
        Keypoint that defines the +y direction, or None (no rotation).
    align_group : bool, default False
        If True, every animal is expressed in the frame of the first individual (its centre and rotation), so
        relative positions between animals are kept; if False each animal gets its own frame.
    polar : bool, default False
        Also add ``position_polar`` (dims ``time, space_pol, keypoint, individual``, ``space_pol = ["rho",
        "phi"]``): distance to the origin and angle ``arctan2(y, x)`` of the aligned positions (the align keypoint
        has phi = pi/2).
    arena : Arena, dict or "from_attrs", default "from_attrs"
        Arena used when ``center="arena"``.
    copy : bool, default True
        False: :meth:`transform` writes the aligned coordinates into the input's own ``position`` array where it is
        a writeable float array of the result's dtype (no new array; the input recording is modified, as
        scikit-learn's ``copy=False``). For a pipeline that owns its recordings.
    n_jobs : int, optional
        Recordings processed in parallel with joblib.

    Attributes
    ----------
    keypoints_, individuals_, n_recordings_
        As for every poses transformer.

    Notes
    -----
    Output: ``position`` is replaced by the aligned coordinates (same unit); ``alignment_angle`` (time, individual;
    radians, the counter-clockwise rotation applied) and ``alignment_center`` (time, space, individual; the point
    subtracted) are added so :meth:`inverse_transform` restores the input coordinates (to rounding, ~1e-12
    relative). Only 2-D data are supported.

    NaN handling: a frame where the centre or the align keypoint of an animal is missing (or where both coincide,
    leaving the direction undefined) has NaN aligned coordinates for that animal, and cannot be restored by
    :meth:`inverse_transform`. An animal with no usable frame at all triggers a
    :class:`~deepof_sk.exceptions.MissingDataWarning`.

    Examples
    --------
    >>> from deepof_sk.datasets import make_synthetic_poses
    >>> ds = make_synthetic_poses(100, scenario="turn", random_state=0)
    >>> ego = EgocentricAligner(center="Center", align="Spine_1").fit_transform(ds)
    >>> ego.position.sel(keypoint="Spine_1").isel(time=-1, individual=0).round(9).values.tolist()
    [0.0, 22.0]
    """

    _parameter_constraints = {
        "center": [str, None],
        "align": [str, None],
        "align_group": ["boolean"],
        "polar": ["boolean"],
        "arena": [Arena, dict, StrOptions({"from_attrs"})],
        "copy": ["boolean"],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self,
        *,
        center="Center",
        align="Spine_1",
        align_group=False,
        polar=False,
        arena="from_attrs",
        copy=True,
        n_jobs=None,
    ):
        self.center = center
        self.align = align
        self.align_group = align_group
        self.polar = polar
        self.arena = arena
        self.copy = copy
        self.n_jobs = n_jobs

    def _fit_recordings(self, recordings, y=None):
        wanted = {"align": self.align, "center": None if self.center == "arena" else self.center}
        missing = {p: k for p, k in wanted.items() if k is not None and k not in set(self.keypoints_)}
        if missing:
            listed = ", ".join(f"`{p}`={k!r}" for p, k in sorted(missing.items()))
            raise ValueError(
                f"EgocentricAligner: {listed} is not a keypoint of the data; available keypoints: "
                f"{sorted(self.keypoints_)}. Pass one of them (or None)."
            )
        space = [str(s) for s in recordings[0][S.SPACE].values]
        if space != list(S.SPACE_2D):
            raise ValueError(
                f"EgocentricAligner: only 2-D (x, y) positions can be aligned; got space {space}."
            )

    def _centre_of(self, ds):
        """How to get the point moved to the origin for a block of positions: a function of the block returning x
        and y as two contiguous (T, I) arrays (copies, no view of the input)."""
        if self.center is None:
            return lambda block: (np.zeros(block.shape[::3]), np.zeros(block.shape[::3]))
        if self.center == "arena":
            x, y = (float(v) for v in resolve_arena(self.arena, ds, "EgocentricAligner").center)
            return lambda block: (np.full(block.shape[::3], x), np.full(block.shape[::3], y))
        k = self._index(ds, self.center)
        return lambda block: _keypoint_xy(block, k)

    @staticmethod
    def _index(ds, name: str) -> int:
        return [str(k) for k in ds[S.KEYPOINT].values].index(name)

    def _transform_recording(self, ds):
        where = "EgocentricAligner"
        if ALIGNMENT_ANGLE in ds or ALIGNMENT_CENTER in ds:
            raise ValueError(
                f"{where}: recording {_recording_label(ds)} is already aligned (it has `{ALIGNMENT_ANGLE}`); "
                "call inverse_transform first or align the original coordinates."
            )
        da = ds[S.POSITION].transpose(*S.POSITION_DIMS)
        pos = da.values  # (T, 2, K, I)
        # everything by time blocks, per-frame quantities included: contiguous (block, I) arrays of about a MiB
        # (numpy's loops over a (T, I) column of the (T, 2, K, I) array would run 2 values at a time, ~10x slower
        # per value, and whole-recording temporaries are new memory: 5.8 MB each for 360,000 frames)
        centre_of = self._centre_of(ds)
        k_align = None if self.align is None else self._index(ds, self.align)
        n_t, _, _, n_i = pos.shape
        # a keypoint centre keeps the positions' dtype, the arena's (or none) is float64; no direction: angle 0.0
        centre_dtype = pos.dtype if self.center not in (None, "arena") else np.dtype(np.float64)
        angle = empty_result((n_t, n_i), centre_dtype if self.align is not None else np.float64)
        centre = empty_result((n_t, 2, n_i), centre_dtype)
        dtype = np.result_type(pos.dtype, centre_dtype, angle.dtype)
        if not self.copy and pos.dtype == dtype and pos.flags.writeable:
            aligned = pos  # each block is read into temporaries before it is written (see _rotate_block)
        else:
            aligned = empty_result(pos.shape, dtype)  # (T, 2, K, I)
        for sl in time_blocks(n_t, aligned[:1].nbytes):
            block = pos[sl]
            cx, cy = centre_of(block)
            if self.align_group:
                cx, cy = _first_individual(cx), _first_individual(cy)
            centre[sl, 0], centre[sl, 1] = cx, cy
            if k_align is None:
                angle[sl] = 0.0
                cos, sin = np.ones(cx.shape), np.zeros(cx.shape)
            else:
                ax, ay = _keypoint_xy(block, k_align)
                vx, vy = ax - cx, ay - cy
                if self.align_group:
                    vx, vy = _first_individual(vx), _first_individual(vy)
                # counter-clockwise rotation that maps vec onto +y (DeepOF: arctan2(x, y))
                np.arctan2(vx, vy, out=angle[sl])
                with np.errstate(invalid="ignore"):
                    # its cosine and sine straight from the vector (no trigonometric calls): y / |vec|, x / |vec|;
                    # coincident points (|vec| = 0) have no direction: 0 / 0 = NaN, and NaN angle
                    length = np.sqrt(vx * vx + vy * vy)
                    cos, sin = vy / length, vx / length
                angle[sl][length == 0] = np.nan
            # a frame without a usable centre or direction has NaN in the centre or the angle (so in cos/sin):
            # the rotation itself makes all its aligned coordinates NaN
            _rotate_block(block, cx, cy, cos, sin, aligned[sl])
        usable = np.isfinite(angle)  # NaN wherever the centre is (the direction is measured from it)
        if self.align is None:
            usable &= np.isfinite(centre[:, 0]) & np.isfinite(centre[:, 1])
        # per individual over its strided column: a few frames settle it (a reduction along axis 0 of a (T, 2)
        # array walks inner loops of 2 values, ~1 ms here)
        empty = [str(name) for i, name in enumerate(ds[S.INDIVIDUAL].values) if not usable[:, i].any()]
        if empty:
            warnings.warn(
                f"{where}: in recording {_recording_label(ds)}, individual(s) {empty} have no frame with both "
                f"center={self.center!r} and align={self.align!r} present; their aligned positions are all NaN.",
                MissingDataWarning,
                stacklevel=2,
            )
        unit = ds[S.POSITION].attrs.get("units", ds.attrs.get(S.SPACE_UNIT))
        out = with_variables(ds, {
            S.POSITION: da.variable.copy(deep=False, data=aligned).transpose(*ds[S.POSITION].dims),
            ALIGNMENT_ANGLE: xr.Variable(
                (S.TIME, S.INDIVIDUAL), angle,
                attrs={"long_name": "counter-clockwise rotation applied by EgocentricAligner", "units": "radians"},
            ),
            ALIGNMENT_CENTER: xr.Variable(
                (S.TIME, S.SPACE, S.INDIVIDUAL), centre,
                attrs={"long_name": "point moved to the origin by EgocentricAligner", "units": unit},
            ),
        })
        if self.polar:
            x, y = aligned[:, 0], aligned[:, 1]
            rho, phi = np.hypot(x, y), np.arctan2(y, x)
            out[POSITION_POLAR] = xr.DataArray(
                np.stack([rho, phi], axis=1),
                dims=(S.TIME, SPACE_POL, S.KEYPOINT, S.INDIVIDUAL),
                coords={SPACE_POL: ["rho", "phi"]},
                attrs={
                    "long_name": "aligned position in polar coordinates",
                    "units": json.dumps({"rho": unit, "phi": "radians"}),
                },
            )
        return out

    def inverse_transform(self, X):
        """Undo the alignment with the stored ``alignment_angle`` and ``alignment_center``.

        Parameters
        ----------
        X : xarray.Dataset or sequence of xarray.Dataset
            Output of :meth:`transform`.

        Returns
        -------
        xarray.Dataset or list of xarray.Dataset
            Original coordinates (NaN where the alignment was undefined); the alignment variables are dropped.
        """
        check_is_fitted(self)
        where = "EgocentricAligner.inverse_transform"
        recordings, single = check_recordings(X, where=where)
        return return_like(map_recordings(self._inverse_one, recordings, self.n_jobs), single)

    def _inverse_one(self, ds):
        missing = [v for v in (ALIGNMENT_ANGLE, ALIGNMENT_CENTER) if v not in ds]
        if missing:
            raise ValueError(
                f"EgocentricAligner.inverse_transform: recording {_recording_label(ds)} lacks {missing}; only the "
                "output of EgocentricAligner.transform can be inverted."
            )
        da = ds[S.POSITION].transpose(*S.POSITION_DIMS)
        pos = da.values
        angle = ds[ALIGNMENT_ANGLE].transpose(S.TIME, S.INDIVIDUAL).values
        centre = ds[ALIGNMENT_CENTER].transpose(S.TIME, S.SPACE, S.INDIVIDUAL).values
        cos, sin = np.cos(angle)[:, None, :], np.sin(angle)[:, None, :]
        x, y = _rotate(pos[:, 0], pos[:, 1], cos, -sin)
        original = np.stack([x, y], axis=1) + centre[:, :, None, :]
        out = ds.drop_vars([ALIGNMENT_ANGLE, ALIGNMENT_CENTER, POSITION_POLAR, SPACE_POL], errors="ignore")
        out[S.POSITION] = da.copy(data=original).transpose(*ds[S.POSITION].dims)
        append_log(out, "EgocentricAligner.inverse_transform")
        return out


def _keypoint_xy(pos: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """x and y of keypoint ``k`` of positions (T, 2, K, I): two contiguous (T, I) arrays (copies).

    A C-contiguous array is read as (T, 2 * K * I) rows, where coordinate ``s`` of keypoint ``k`` of individual
    ``i`` is column ``(s * K + k) * I + i``: one gather per coordinate, 2x faster than copying the strided view.
    """
    n_t, n_s, n_k, n_i = pos.shape
    if pos.flags.c_contiguous:
        flat = pos.reshape(n_t, n_s * n_k * n_i)
        return tuple(np.take(flat, (s * n_k + k) * n_i + np.arange(n_i), axis=1) for s in range(2))
    return tuple(np.ascontiguousarray(pos[:, s, k, :]) for s in range(2))


def _first_individual(a: np.ndarray) -> np.ndarray:
    """(T, I) -> (T, I) with every column equal to the first (``align_group``: all animals moved as the first)."""
    return np.repeat(a[:, :1], a.shape[1], axis=1)


def _rotate_block(pos, cx, cy, cos, sin, out) -> None:
    """Positions (T, 2, K, I) moved by ``-(cx, cy)`` (T, I) and rotated by the angle of ``cos``/``sin`` (T, I).

    The per-frame factors are repeated over keypoints: same-shape operands keep numpy's inner loops long (a
    (T, 1, I) operand broadcast against (T, K, I) makes the inner loop run over the 1-2 individuals only, ~8x
    slower).
    """
    n_k = pos.shape[2]

    def per_keypoint(a):  # (T, I) -> (T, K, I), contiguous
        return np.repeat(a[:, None, :], n_k, axis=1)

    c, s = per_keypoint(cos), per_keypoint(sin)
    x, y = out[:, 0], out[:, 1]
    rel_x = np.subtract(pos[:, 0], per_keypoint(cx))
    rel_y = np.subtract(pos[:, 1], per_keypoint(cy))
    # x' = cos x - sin y, y' = sin x + cos y, written into the output
    tmp = np.empty_like(rel_x)
    np.multiply(c, rel_x, out=x)
    x -= np.multiply(s, rel_y, out=tmp)
    np.multiply(s, rel_x, out=y)
    y += np.multiply(c, rel_y, out=tmp)
