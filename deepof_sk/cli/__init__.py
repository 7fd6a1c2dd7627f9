"""The ``deepof-sk`` command line.

Sub-commands
------------
``deepof-sk demo``
    The main job on the bundled sample data (DeepOF's test tables): quality summary, DeepOF's rule-based
    behaviours, an ethogram and the smoothed recordings as netCDF.
``deepof-sk annotate INPUT ...``
    DeepOF's preprocessing and every rule-based behaviour on your tracking files: DeepOF-layout tables, netCDF,
    bouts and a behaviour summary.
``deepof-sk train INPUT ... --labels LABELS ...``
    Train a frame classifier on tracking files and per-frame labels; cross-validated scores by recording.
``deepof-sk predict MODEL INPUT ...``
    Apply a trained (or the shipped ``freezing``) classifier: per-frame predictions and bouts.
``deepof-sk cluster INPUT ...``
    Deep clustering of behaviour (needs the ``deep`` extra): a cluster per frame, the model, occupancy.
``deepof-sk report RESULTS_DIR``
    Statistics across experimental conditions of an annotate / predict / cluster output folder, with figures.
``deepof-sk summarize PATH ...``, ``deepof-sk convert IN OUT``, ``deepof-sk samples``
    Quality summary of your files, format conversion, the list of bundled samples.

Every verb that writes results leaves a ``results.json`` (what ran, on which files, what was written) and a
``behavior_summary.csv`` (time, fraction and bouts per recording, animal and behaviour) that ``report`` reads.

Exit codes: 0 success; 1 failure while processing (the message names the file and what to do; ``--verbose`` adds
the traceback); 2 bad command line.
"""

from ._parser import build_parser, main

__all__ = ["main", "build_parser"]
