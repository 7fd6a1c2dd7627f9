"""Warning and error classes of deepof_sk.

Data-quality problems warn with a specific class so users can filter them (``warnings.simplefilter("ignore",
LowConfidenceWarning)``) or escalate them to errors in tests.
"""

from __future__ import annotations


class DeepOFSKWarning(UserWarning):
    """Base class of every warning deepof_sk emits."""


class DataQualityWarning(DeepOFSKWarning):
    """The data are valid but of doubtful quality (many NaNs, low confidence, implausible sizes)."""


class MissingDataWarning(DataQualityWarning):
    """A large share of an individual or keypoint is missing (NaN)."""


class PosesFormatError(ValueError):
    """A tracking file cannot be read: wrong header, truncated, empty, non-numeric content, ...

    The message always names the file and says what was expected.
    """


class PosesSchemaError(ValueError):
    """A dataset does not follow the poses schema; the message lists every problem found."""


__all__ = [
    "DeepOFSKWarning",
    "DataQualityWarning",
    "MissingDataWarning",
    "PosesFormatError",
    "PosesSchemaError",
]
