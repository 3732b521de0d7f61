"""The data-parallel tests train on logical CPU devices, which TensorFlow fixes when it starts,
so the CPU is split before any test of this folder (or any other, in the same run) runs
TensorFlow: conftest files are read while the tests are collected, before the first one runs.
It changes no single-device number: every bit-for-bit test of the suite runs with it."""

from backprop_suite.distribute.devices import split_cpu

split_cpu(4)
