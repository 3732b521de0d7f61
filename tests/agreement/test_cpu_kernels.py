"""The claims whose numbers depend on the CPU's kernels, held on the other kernel path too.

TensorFlow runs its float32 graphs on oneDNN's kernels or on Eigen's. On Linux it picks oneDNN by
default only on a CPU with AVX512_VNNI, AVX512_BF16, AVX_VNNI or AMX (``DefaultOneDnnPolicy`` in
tensorflow/core/util/port.cc), so an AMD EPYC with AVX-512 runs oneDNN and one with AVX2 runs
Eigen; ``TF_ENABLE_ONEDNN_OPTS`` chooses either on any CPU. Under oneDNN, Grappler's remapper
fuses a layer's matmul, bias and sigmoid into one oneDNN inner product with a logistic post-op,
which rounds apart from Eigen's sigmoid by one float32 ulp (5.96e-8 on the seed net's outputs).
TensorFlow's matmuls call oneDNN's sgemm on either path, JIT-compiled for the CPU's ISA. NumPy
picks its loops by the CPU too (AVX-512 ones where it finds them), and OpenBLAS its matrix
kernels (SkylakeX ones on the AVX-512 EPYC, Haswell ones on the AVX2 EPYC).

The tests marked ``cpu_kernels`` run in this process on this CPU's path; the test below runs them
again in a child process on the other path, so that a developer on either CPU sees both. NumPy's
AVX-512 loops cannot be had on an AVX2 CPU: there the child changes TensorFlow's path only.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tensorflow.python.util import _pywrap_util_port

TESTS = Path(__file__).resolve().parents[1]
MARKED = 6  # the tests marked cpu_kernels in CI's selection
ONEDNN = {"TF_ENABLE_ONEDNN_OPTS": "1"}
# what the AVX2 EPYC runs by default: Eigen's ops with oneDNN's AVX2 matmul kernels (Eigen's
# contractions call oneDNN's sgemm), NumPy's AVX2 loops, OpenBLAS's Haswell kernels. With these
# the AVX-512 EPYC prints the AVX2 EPYC's figures bit for bit (docs/cpus.md)
EIGEN_AVX2 = {
    "TF_ENABLE_ONEDNN_OPTS": "0",
    "ONEDNN_MAX_CPU_ISA": "AVX2",
    "NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR",
    "OPENBLAS_CORETYPE": "Haswell",
}


def other_path() -> dict[str, str]:
    """The settings of the kernel path this process is not on. An ``OPENBLAS_CORETYPE`` that the
    machine already sets stays: it guards against OpenBLAS kernels that are wrong on its CPU."""
    if not _pywrap_util_port.IsMklEnabled():
        return ONEDNN
    return {
        k: v for k, v in EIGEN_AVX2.items() if not (k == "OPENBLAS_CORETYPE" and k in os.environ)
    }


def marked_files() -> list[str]:
    """The test files that mark a test ``cpu_kernels``: the child collects only those (collecting
    every file would import JAX and PyTorch for nothing)."""
    this = Path(__file__).resolve()
    return [
        str(path)
        for path in sorted(TESTS.rglob("test_*.py"))
        if path != this and "fixtures" not in path.parts and "mark.cpu_kernels" in path.read_text()
    ]


def test_the_kernel_dependent_claims_hold_on_the_other_kernel_path():
    path = other_path()
    child = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-m",
            "cpu_kernels",
            "-p",
            "no:xdist",
            "-p",
            "no:cacheprovider",
            "-q",
            *marked_files(),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, **path, "TF_CPP_MIN_LOG_LEVEL": "3"},
        cwd=TESTS.parent,
    )
    assert child.returncode == 0, f"on {path}:\n{child.stdout[-6000:]}\n{child.stderr[-2000:]}"
    summary = child.stdout.strip().splitlines()[-1]
    assert re.match(rf"{MARKED} passed, \d+ deselected in ", summary), summary
