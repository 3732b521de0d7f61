import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from hypothesis import settings

# CI replays the same examples on every run; locally each run explores new ones
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

# The data-parallel tests train on logical CPU devices, which TensorFlow fixes when it starts, so
# the CPU is split before any test runs TensorFlow. It changes no single-device number: every
# bit-for-bit test of the suite runs with it.
from tf_impl.devices import split_cpu  # noqa: E402

split_cpu(4)
