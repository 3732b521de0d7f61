"""The processes that run TF1 programs for the check, each kept warm for the next job.

A TF1 program runs in a process of its own (``tf1_run``): under v1 behaviour, with legacy Keras
where it is installed, and for the envelope with oneDNN switched or on one thread. Importing
TensorFlow there takes some 4 of the 4.5 CPU seconds such a process costs for a small program
(AMD EPYC, TF 2.21), and a check needs four of them: the record and three envelope runs. So
each process stays up and takes the next job of its kind: ``python -m
backprop_suite.children.migration serve`` reads one job a line (the child command line's
arguments and the folder to run in), runs it as a fresh child would, and answers its exit status
and what it wrote to stderr.

A job goes to the process of its ``lane`` and its environment: the records and the nudged runs
to the main lane, the oneDNN-switched runs and the one-thread runs each to a lane of their own
(TensorFlow fixes both settings when a process starts). A job that asks for another environment
than a lane's process started with (pytest's ``PYTEST_CURRENT_TEST`` aside) gets a process of
its own, and the one it did not take stays warm for the jobs that come back to that
environment: ``KEPT`` processes at most (more only while more have a job), the idle one unused
longest ended first. A process that
dies with its job (a program that calls ``os._exit``, a crash) answers with its exit status and
the end of its stderr, and the next job starts a new one. All of them end when this process
exits, Ctrl-C included.
"""

from __future__ import annotations

import atexit
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass

COMMAND = [sys.executable, "-m", "backprop_suite.children.migration", "serve"]
STDERR_KEPT = 4000  # of a process that died: the end of what it wrote


@dataclass(frozen=True)
class Done:
    returncode: int
    stderr: str

    def error(self, kept: int | None = None) -> str:
        """The job's last ``error:`` line without the prefix; where it wrote none, its stderr
        (the last ``kept`` characters of it, when given)."""
        lines = [line for line in self.stderr.splitlines() if line.startswith("error: ")]
        if lines:
            return lines[-1][len("error: ") :]
        return self.stderr.strip()[-kept:] if kept else self.stderr.strip()

    def last_line(self) -> str | None:
        """The last line of ``error()`` that says something (a traceback ends in its cause);
        None where the job wrote nothing."""
        lines = [line.strip() for line in self.error(STDERR_KEPT).splitlines() if line.strip()]
        return lines[-1] if lines else None


class Server:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            COMMAND,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )
        self.busy = False

    def alive(self) -> bool:
        return self.process.poll() is None

    def send(self, argv: list[str]) -> None:
        self.busy = True
        try:
            self.process.stdin.write(json.dumps({"argv": argv, "cwd": os.getcwd()}) + "\n")
            self.process.stdin.flush()
        except BrokenPipeError:
            pass

    def receive(self) -> Done:
        line = self.process.stdout.readline()
        self.busy = False
        if line:
            reply = json.loads(line)
            if reply.get("last"):  # it ends after this job: not alive for the next
                self.process.wait()
            return Done(reply["status"], reply["stderr"])
        returncode = self.process.wait()
        self.log.seek(0)
        ended = self.log.read().decode(errors="replace")[-STDERR_KEPT:]
        return Done(returncode if returncode != 0 else 1, ended)

    def stop(self) -> None:
        if self.alive():
            self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout, self.log):
            stream.close()


# (lane, environment) -> its process, the one used last at the end
_servers: dict[tuple[str, tuple[tuple[str, str], ...]], Server] = {}
KEPT = 4  # processes kept warm at most (0.78 GiB each after a gallery check, mlp_adam)
# what pytest sets anew for every test phase: a process that differs only in it serves alike
VOLATILE = ("PYTEST_CURRENT_TEST",)


class Job:
    """A job sent to its warm process; ``wait`` gives its ``Done``."""

    def __init__(self, argv: list[str], env: dict[str, str], lane: str = "") -> None:
        env = {k: v for k, v in env.items() if k not in VOLATILE}
        self.key = (lane, tuple(sorted(env.items())))
        server = _servers.pop(self.key, None)
        if server is not None and (server.busy or not server.alive()):
            server.stop()  # dead, or left with a job nobody waited for (an interrupted wait)
            server = None
        if server is None:
            idle = [key for key, kept in _servers.items() if not kept.busy]  # the oldest first
            for key in idle[: max(0, len(_servers) - KEPT + 1)]:
                _servers.pop(key).stop()
            server = Server(env)
        _servers[self.key] = server
        self.server = server
        server.send(argv)  # a process that died before it read the job answers at receive

    def wait(self) -> Done:
        done = self.server.receive()
        if not self.server.alive():
            if _servers.get(self.key) is self.server:
                del _servers[self.key]
            self.server.stop()
        return done


def run_job(argv: list[str], env: dict[str, str], lane: str = "") -> Done:
    return Job(argv, env, lane).wait()


@atexit.register
def stop_all() -> None:
    for server in _servers.values():
        server.stop()
    _servers.clear()


def child_environment() -> dict[str, str]:
    """This process's environment for a child that runs the TF1 program: legacy Keras where it
    is installed, TensorFlow's C++ log lines off unless asked for."""
    env = dict(os.environ)
    if importlib.util.find_spec("tf_keras") is not None:
        env["TF_USE_LEGACY_KERAS"] = "1"
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return env
