"""Keep TensorFlow's start-up chatter off a script's stderr, and off a user's when the library
imports TensorFlow, and nothing else.

TensorFlow 2.21 writes its start-up lines (the absl pre-initialisation warning, "Could not find
cuda drivers", the CPU-instructions notice, the failed ``cuInit`` probe) from C++, some before its
logging is set up, so ``TF_CPP_MIN_LOG_LEVEL`` cannot stop all of them. ``filter_stderr`` puts a
pipe behind file descriptor 2 and a thread that passes every line on except the ones
``is_tensorflow_noise`` recognises: Python's warnings and tracebacks and any other C++ message
still reach the user. A script filters until it exits; the library filters only while it imports
TensorFlow (``import_tensorflow``), and puts the environment and stderr back after.
"""

from __future__ import annotations

import atexit
import functools
import os
import re
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import TextIO

LEVEL_VARIABLE = "TF_CPP_MIN_LOG_LEVEL"
LOG_LEVEL = "2"  # TensorFlow's C++ INFO and WARNING lines off, ERROR lines on
_user_stderr: int | None = None  # the user's stderr, while filter_stderr stands in front of it
_shown = False  # a script's --verbose: TensorFlow's lines are shown

NOISE = re.compile(
    rb"^(WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    rb"|[IWE]\d{4} [\d:.]+ +\d+ (cudart_stub|cuda_platform|cuda_executor|cuda_diagnostics"
    rb"|cuda_dnn|cuda_fft|cuda_blas|cpu_feature_guard|port)\.cc:\d+\] "
    rb"|To enable the following instructions: .* rebuild TensorFlow with the appropriate compiler"
    rb"|W\d{4} [\d:.]+ +\d+ util\.cc:\d+\] Not handling type DT_DOUBLE$"
    rb"|E\d{4} [\d:.]+ +\d+ util\.cc:\d+\] oneDNN supports DT_(HALF|BFLOAT16) only on "
    rb")"
)


def is_tensorflow_noise(line: bytes) -> bool:
    """True for one of TensorFlow's start-up or CUDA-probe lines, or the remapper's warning
    about a float64 graph (``Not handling type DT_DOUBLE``, at every trace of one), or oneDNN's
    that it leaves float16 or bfloat16 to Eigen (at a mixed-precision model's first op)."""
    return NOISE.match(line) is not None


def pumped_to(real_stderr: int, drop: Callable[[bytes], bool]) -> tuple[int, threading.Thread]:
    """A pipe's write end, and a thread started that passes each line written into it on to
    ``real_stderr`` unless ``drop(line)``."""
    read_end, write_end = os.pipe()

    def pump() -> None:
        with os.fdopen(read_end, "rb") as pipe:
            for line in pipe:
                if not drop(line):
                    os.write(real_stderr, line)

    thread = threading.Thread(target=pump, name="stderr-filter", daemon=True)
    thread.start()
    return write_end, thread


def put_back(real_stderr: int, thread: threading.Thread) -> None:
    """File descriptor 2 is ``real_stderr`` again, once the pump has passed on every line."""
    sys.stderr.flush()
    os.dup2(real_stderr, 2)  # closes the pipe's last write end: the pump reads to the end
    thread.join(timeout=10)


def filter_stderr(drop: Callable[[bytes], bool] = is_tensorflow_noise) -> None:
    """From now until the process exits, pass each line written to file descriptor 2 on to the
    real stderr unless ``drop(line)``."""
    global _user_stderr
    # Ctrl-C waits until the filter stands whole: one in between would leave stderr on a pipe
    # that nothing reads, and its message would be lost (the pump thread keeps SIGINT blocked)
    masked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        real_stderr = os.dup(2)
        write_end, thread = pumped_to(real_stderr, drop)
        atexit.register(put_back, real_stderr, thread)
        os.dup2(write_end, 2)
        os.close(write_end)
        _user_stderr = real_stderr
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, masked)


def user_stderr() -> TextIO:
    """A stream to the user's own stderr, past the filter, which passes whole lines only: a
    progress bar's carriage returns would wait there for a newline, and the bar would see a pipe,
    not the user's terminal."""
    if _user_stderr is None:
        return sys.stderr
    return os.fdopen(os.dup(_user_stderr), "w", buffering=1)


def quiet_tensorflow(verbose: bool) -> None:
    """What a script does before TensorFlow is imported: unless ``verbose`` or the user has set
    ``TF_CPP_MIN_LOG_LEVEL``, set that level and filter the start-up lines it does not stop."""
    global _shown
    _shown = verbose
    if verbose or LEVEL_VARIABLE in os.environ:
        return
    os.environ[LEVEL_VARIABLE] = LOG_LEVEL
    filter_stderr()


@contextmanager
def tensorflow_noise_dropped() -> Iterator[None]:
    """While inside, file descriptor 2 passes every line on but TensorFlow's start-up ones; after,
    it is the stream it was, every line passed on first."""
    sys.stderr.flush()
    real_stderr = os.dup(2)
    write_end, thread = pumped_to(real_stderr, is_tensorflow_noise)
    try:
        os.dup2(write_end, 2)
        os.close(write_end)
        yield
    finally:
        put_back(real_stderr, thread)
        os.close(real_stderr)


def noise_dropped(fn: Callable) -> Callable:
    """``fn``, its calls run inside ``tensorflow_noise_dropped`` unless the user asked for every
    line (``TF_CPP_MIN_LOG_LEVEL=0``; TensorFlow's own import sets 1 where nothing is set) or a
    script filters or shows TensorFlow's lines already."""

    @functools.wraps(fn)
    def quietly(*args, **kwargs):
        if os.environ.get(LEVEL_VARIABLE) == "0" or _shown or _user_stderr is not None:
            return fn(*args, **kwargs)
        with tensorflow_noise_dropped():
            return fn(*args, **kwargs)

    return quietly


def import_tensorflow() -> ModuleType:
    """TensorFlow. The library's first import of it is quiet as a script is (its start-up lines
    and the CUDA probe's kept off stderr, its C++ INFO and WARNING lines off for the process),
    unless the user has set ``TF_CPP_MIN_LOG_LEVEL``, a script filters already or was asked to
    show them (``--verbose``); after it, the environment and stderr are as they were."""
    if "tensorflow" in sys.modules or LEVEL_VARIABLE in os.environ or _shown:
        import tensorflow

        return tensorflow
    os.environ[LEVEL_VARIABLE] = LOG_LEVEL
    try:
        with tensorflow_noise_dropped():
            import tensorflow

            tensorflow.config.list_physical_devices()  # the CUDA probe, without starting devices
    finally:
        del os.environ[LEVEL_VARIABLE]
    return tensorflow
