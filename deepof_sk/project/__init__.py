"""DeepOF's few-lines workflow on deepof_sk's estimators: ``Project(...).create()``, getters, annotation, embedding.

:class:`Project` reads a folder of tracking tables and runs, verb by verb, the same public estimators you would put
in a scikit-learn Pipeline (each verb's docstring shows that code, and :meth:`Project.pipeline` returns it).
:class:`TableDict` is DeepOF's dict of per-recording tables with its helpers; :func:`load_project` restores a saved
project.

Examples
--------
>>> import deepof_sk
>>> from deepof_sk.datasets import load_sample
>>> proj = deepof_sk.Project({"m1": load_sample("deepof_single")}, px_per_mm=252 / 380).create()
>>> tables = proj.supervised_annotation()
>>> list(tables["m1"].columns[:3])
['climb-arena', 'sniff-arena', 'immobility']
"""

from ._persist import load_project
from ._project import Project
from ._tables import PreprocessedTables, TableDict

__all__ = ["Project", "TableDict", "PreprocessedTables", "load_project"]
