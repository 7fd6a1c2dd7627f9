"""Keep OpenMP to one thread: the surrogate's gradient boosting oversubscribes a small, shared test machine."""

import pytest
from threadpoolctl import threadpool_limits


@pytest.fixture(autouse=True)
def _one_thread():
    with threadpool_limits(limits=1):
        yield
