"""Arrays the steps return are allocated without numpy's transparent-huge-page request (deepof_sk.utils._memory)."""

from __future__ import annotations

import sys
import threading

import numpy as np
import pytest

from deepof_sk.utils import _memory
from deepof_sk.utils._memory import empty_result, full_result

BIG = (1 << 22) // 8 + 1  # float64 values: just over numpy's 4 MiB huge-page threshold


@pytest.fixture
def recorder(monkeypatch):
    """numpy's switch replaced by a recording stand-in (starts on, as numpy's default on Linux)."""
    state = {"on": True, "calls": [], "seen": []}

    def switch(flag):
        previous, state["on"] = state["on"], bool(flag)
        state["calls"].append(bool(flag))
        return previous

    real_empty = np.empty

    def empty(*args, **kwargs):
        state["seen"].append(state["on"])  # the switch as numpy would read it at this allocation
        return real_empty(*args, **kwargs)

    monkeypatch.delenv("NUMPY_MADVISE_HUGEPAGE", raising=False)
    monkeypatch.setattr(_memory, "_set_madvise_hugepage", switch)
    monkeypatch.setattr(_memory.np, "empty", empty)
    return state


def test_large_result_allocated_with_the_request_off_and_switch_restored(recorder):
    out = empty_result((BIG,), "float64")
    assert out.shape == (BIG,) and out.dtype == np.float64 and out.flags.c_contiguous and out.flags.writeable
    assert recorder["seen"] == [False]  # off while numpy allocated
    assert recorder["calls"] == [False, True] and recorder["on"]  # and numpy's own setting back


def test_switch_left_off_when_the_process_had_it_off(recorder):
    recorder["on"] = False
    empty_result((BIG,))
    assert recorder["calls"] == [False, False] and not recorder["on"]


def test_small_results_and_user_choice_leave_numpy_alone(recorder, monkeypatch):
    empty_result((1000, 3), "float32")  # below numpy's threshold: no request either way
    assert recorder["calls"] == [] and recorder["seen"] == [True]
    monkeypatch.setenv("NUMPY_MADVISE_HUGEPAGE", "1")  # the user's explicit choice is followed
    empty_result((BIG,))
    assert recorder["calls"] == [] and recorder["seen"] == [True, True]


def test_switch_restored_when_allocation_fails(recorder):
    with pytest.raises((MemoryError, ValueError)):
        empty_result((1 << 62,), "float64")
    assert recorder["on"]


def test_concurrent_allocations_restore_numpy_setting(recorder):
    errors = []

    def work():
        try:
            for _ in range(50):
                empty_result((BIG,), "float64")
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and recorder["on"]
    assert recorder["seen"] == [False] * 200  # under the lock, no allocation saw another thread's restore


def test_full_result_fills():
    out = full_result((3, 2), np.nan, "float32")
    assert out.dtype == np.float32 and np.isnan(out).all()
    np.testing.assert_array_equal(full_result(4, 7), [7.0] * 4)


def _huge_page_advised(arr: np.ndarray) -> bool:
    """Whether the kernel mapping holding ``arr`` carries the huge-page advice (VmFlags ``hg``), from smaps."""
    addr = arr.ctypes.data + arr.nbytes // 2  # numpy advises from the first whole page on: look inside
    with open("/proc/self/smaps") as fh:
        inside = False
        for line in fh:
            head = line.split()[0]
            if "-" in head and not head.endswith(":"):
                lo, hi = (int(x, 16) for x in head.split("-"))
                inside = lo <= addr < hi
            elif inside and line.startswith("VmFlags:"):
                return "hg" in line.split()[1:]
    raise AssertionError("array's mapping not found in /proc/self/smaps")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the kernel's mappings (/proc/self/smaps)")
def test_kernel_mapping_of_a_result_has_no_huge_page_advice(monkeypatch):
    """End to end on Linux: numpy's own array of 64 MiB is advised (the control), a result is not."""
    monkeypatch.delenv("NUMPY_MADVISE_HUGEPAGE", raising=False)
    previous = _memory._set_madvise_hugepage(True)
    try:
        control = np.empty(1 << 23)  # 64 MiB: its own mapping (above glibc's largest mmap threshold)
        if not _huge_page_advised(control):
            pytest.skip("this kernel takes no transparent-huge-page advice (built without THP)")
        result = empty_result(1 << 23)
        assert not _huge_page_advised(result)
    finally:
        _memory._set_madvise_hugepage(previous)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the kernel's mappings (/proc/self/smaps)")
def test_feature_arrays_of_a_step_have_no_huge_page_advice(monkeypatch):
    """A step's returned feature array (36 MiB of speeds: a mapping of its own) carries no huge-page advice."""
    from deepof_sk.datasets import make_synthetic_poses
    from deepof_sk.features import KinematicsExtractor

    monkeypatch.delenv("NUMPY_MADVISE_HUGEPAGE", raising=False)
    template = make_synthetic_poses(4, n_individuals=2, random_state=0)
    n_t = 160_000
    ds = template.isel(time=np.zeros(n_t, dtype=int)).assign_coords(time=np.arange(n_t) / 25.0)
    ds["position"] = ds["position"].copy(data=np.random.default_rng(0).random(ds["position"].shape))
    previous = _memory._set_madvise_hugepage(True)  # numpy's default on Linux, whatever this process had
    try:
        if not _huge_page_advised(np.empty(1 << 23)):
            pytest.skip("this kernel takes no transparent-huge-page advice (built without THP)")
        speed = KinematicsExtractor(order=(1,)).fit_transform(ds)["speed"].values
        assert speed.nbytes > 32 << 20 and not _huge_page_advised(speed)
    finally:
        _memory._set_madvise_hugepage(previous)


_HEAP_PROBE = """
import numpy as np
from deepof_sk.utils._memory import settle_allocator

def in_heap(a):  # whether the array's memory lies in the main heap (brk) rather than a mapping of its own
    addr = a.ctypes.data
    for line in open("/proc/self/maps"):
        if line.rstrip().endswith("[heap]"):
            lo, hi = (int(x, 16) for x in line.split()[0].split("-"))
            if lo <= addr < hi:
                return True
    return False

before = in_heap(np.empty(4 << 20, np.uint8))  # freeing it moves glibc's threshold to 4 MiB, no further
acted = settle_allocator()
print(before, acted, settle_allocator(), in_heap(np.empty(6 << 20, np.uint8)))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux") or not _memory._glibc(), reason="glibc's malloc thresholds")
@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "False True False True"),  # 6 MiB now comes from the heap, and the call acts once
        ({"DEEPOF_SK_SETTLE_MALLOC": "0"}, "False False False False"),  # opted out: glibc's own thresholds
        ({"MALLOC_TRIM_THRESHOLD_": str(1 << 20)}, "False False False False"),  # the user's glibc settings stand
        ({"GLIBC_TUNABLES": "glibc.malloc.trim_threshold=1048576"}, "False False False False"),
    ],
)
def test_settle_allocator_serves_temporaries_from_the_heap(env, expected):
    """In a fresh process: a 6 MiB array is mapped on its own before, and served from glibc's heap after."""
    import os
    import subprocess

    full_env = {k: v for k, v in os.environ.items()
                if k not in ("DEEPOF_SK_SETTLE_MALLOC", "MALLOC_TRIM_THRESHOLD_", "GLIBC_TUNABLES")}
    full_env.update(env)
    out = subprocess.run([sys.executable, "-c", _HEAP_PROBE], capture_output=True, text=True, env=full_env,
                         check=True)
    assert out.stdout.split() == expected.split()


def test_settle_allocator_does_nothing_without_glibc(monkeypatch):
    monkeypatch.setattr(_memory, "_SETTLED", [])
    monkeypatch.delenv("DEEPOF_SK_SETTLE_MALLOC", raising=False)
    monkeypatch.setattr(_memory.os, "confstr", lambda name: (_ for _ in ()).throw(ValueError(name)))
    freed = []
    monkeypatch.setattr(_memory.np, "empty", lambda *a, **k: freed.append(a))
    assert not _memory.settle_allocator() and freed == []
    assert _memory._SETTLED  # decided once


def test_steps_settle_the_allocator_once(monkeypatch):
    from deepof_sk.datasets import make_synthetic_poses
    from deepof_sk.preprocessing import ConfidenceFilter

    calls = []
    monkeypatch.setattr("deepof_sk.base.settle_allocator", lambda: calls.append(1))
    ConfidenceFilter().fit_transform(make_synthetic_poses(10, random_state=0))
    assert calls  # every transform asks; settle_allocator acts on the first call of the process only
