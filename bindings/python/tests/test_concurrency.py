"""Threads and processes: one model shared by 8 threads gives identical results, the GIL is
released during native calls, and a forked child can score."""

from __future__ import annotations

import ctypes
import os
import threading
import time
from typing import Any, List

import numpy as np
import pytest

import kiln
from kiln import _native
from conftest import local_columns, to_arrow, to_numpy, to_pandas


def test_native_calls_are_bound_without_the_gil() -> None:
    # CDLL functions drop the GIL for the call; PyDLL ones (FUNCFLAG_PYTHONAPI) keep it.
    for name in _native.PROTOTYPES:
        fn = getattr(_native.lib, name)
        assert not fn._flags_ & ctypes._FUNCFLAG_PYTHONAPI, name


def test_python_runs_while_a_thread_is_inside_kiln(artifact_bytes: bytes) -> None:
    n = 1_000_000
    rng = np.random.default_rng(30)
    data = {
        "age": rng.uniform(18, 90, n),
        "income": rng.lognormal(8, 1, n),
        "kids": rng.integers(0, 5, n).astype(np.int32),
        "member": rng.integers(0, 2, n).astype(bool),
        "province": np.array(["MADRID", "BARCELONA"], dtype=object)[rng.integers(0, 2, n)],
        "signup": rng.integers(15000, 19000, n).astype("datetime64[D]"),
    }
    with kiln.load(artifact_bytes) as m:
        inside: List[float] = []
        ticks: List[float] = []
        done = threading.Event()
        real_score = _native.lib.kiln_model_score

        def timed_score(*args: Any) -> int:
            inside.append(time.perf_counter())
            try:
                return real_score(*args)
            finally:
                inside.append(time.perf_counter())

        def worker() -> None:
            try:
                m.score(data, n_threads=1)
            finally:
                done.set()

        _native.lib.kiln_model_score = timed_score
        try:
            t = threading.Thread(target=worker)
            t.start()
            while not done.is_set():
                ticks.append(time.perf_counter())
                time.sleep(0.0005)
            t.join()
        finally:
            _native.lib.kiln_model_score = real_score
        start, end = inside
        middle = [x for x in ticks if start + 0.1 * (end - start) < x < end - 0.1 * (end - start)]
        # Were the GIL held for the native call, this thread could not tick at all inside it.
        assert len(middle) >= 3, f"{len(middle)} ticks during a {end - start:.3f}s native call"


def test_eight_threads_share_one_model(artifact_bytes: bytes) -> None:
    cols = local_columns(20_000, seed=31)
    inputs = [
        {c["name"]: to_numpy(c) for c in cols},
        to_pandas(cols),
        to_arrow(cols),
    ]
    with kiln.load(artifact_bytes) as m:
        expected = m.score(inputs[0])
        errors: List[str] = []
        rounds = [0] * 8
        deadline = time.monotonic() + 3.0

        def worker(k: int) -> None:
            try:
                while time.monotonic() < deadline:
                    data = inputs[(k + rounds[k]) % len(inputs)]
                    out = m.score(data, n_threads=1 + k % 2)
                    got = out["risk"] if not hasattr(out, "column") else out.column("risk").to_numpy()
                    got = np.asarray(got)
                    if not np.array_equal(got, expected["risk"], equal_nan=True):
                        errors.append(f"thread {k} round {rounds[k]} differs")
                    rounds[k] += 1
            except Exception as e:  # pragma: no cover - reported below
                errors.append(f"thread {k}: {e!r}")

        threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert not any(t.is_alive() for t in threads), "a scoring thread hung"
        assert not errors, errors[:5]
        assert all(r > 0 for r in rounds)


def test_close_while_other_threads_score(artifact_bytes: bytes) -> None:
    data = {c["name"]: to_numpy(c) for c in local_columns(50_000, seed=32)}
    m = kiln.load(artifact_bytes)
    outcomes: List[str] = []

    def worker() -> None:
        for _ in range(400):
            try:
                m.score(data, n_threads=1)
                outcomes.append("ok")
            except kiln.ModelClosedError:
                outcomes.append("closed")
                return

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.05)
    m.close()
    for t in threads:
        t.join(timeout=60)
    assert outcomes.count("closed") == 4


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_forked_child_scores(artifact_bytes: bytes) -> None:
    data = {c["name"]: to_numpy(c) for c in local_columns(100_000, seed=33)}
    with kiln.load(artifact_bytes) as m:
        expected = m.score(data, n_threads=2)  # the parent's thread pool now exists
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # child: score with threads (fresh pool) and a fresh load
            code = 1
            try:
                got = m.score(data, n_threads=2)
                with kiln.load(artifact_bytes) as m2:
                    again = m2.score(data, n_threads=0)
                same = all(np.array_equal(x[k], expected[k], equal_nan=True) for x in (got, again) for k in ("risk", "value"))
                os.write(write_fd, b"same" if same else b"diff")
                code = 0
            finally:
                os._exit(code)
        os.close(write_fd)
        deadline = time.monotonic() + 60
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if time.monotonic() > deadline:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
                pytest.fail("forked child hung")
            time.sleep(0.01)
        message = os.read(read_fd, 16)
        os.close(read_fd)
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
        assert message == b"same"
