"""Read and write pose-tracking files as poses datasets (movement's xarray schema).

One entry point, :func:`read_poses`, reads any supported file and picks the reader from the extension and the
content; :func:`read_recordings` reads a folder (or list) of files plus a table of experimental conditions. The
per-format readers are public too, for their format-specific options.

=============  =======================  ==========================================================
Format         Extensions               Reader
=============  =======================  ==========================================================
DeepLabCut     ``.h5``, ``.csv``        :func:`read_dlc` (single/multi-animal, 3-D, DeepOF prefixes)
LightningPose  ``.csv``                 :func:`read_dlc` (``source_software="LightningPose"``)
SLEAP          ``.slp``, ``.h5``        :func:`read_sleap` (labels/predictions and analysis files)
movement       ``.nc``                  :func:`read_netcdf` / :func:`write_netcdf`
NWB ndx-pose   ``.nwb`` (``.h5``)       :func:`read_nwb`
JABS           ``.h5``                  :func:`read_jabs` (pose_est v2-v6)
SimBA          ``.csv``                 :func:`read_simba`, :func:`read_simba_labels`
=============  =======================  ==========================================================
"""

from ._common import infer_recording_id
from ._dispatch import SUPPORTED_EXTENSIONS, SUPPORTED_FORMATS, detect_source_software, read_poses
from ._dlc import read_dlc, split_animal_prefixes
from ._dlc_writer import write_dlc
from ._jabs import JABS_KEYPOINTS, read_jabs
from ._netcdf import read_netcdf, write_netcdf
from ._nwb import read_nwb
from ._recordings import read_conditions, read_recordings
from ._simba import read_simba, read_simba_labels
from ._sleap import read_sleap

__all__ = [
    "JABS_KEYPOINTS",
    "SUPPORTED_EXTENSIONS",
    "SUPPORTED_FORMATS",
    "detect_source_software",
    "infer_recording_id",
    "read_conditions",
    "read_dlc",
    "read_jabs",
    "read_netcdf",
    "read_nwb",
    "read_poses",
    "read_recordings",
    "read_simba",
    "read_simba_labels",
    "read_sleap",
    "split_animal_prefixes",
    "write_dlc",
    "write_netcdf",
]
