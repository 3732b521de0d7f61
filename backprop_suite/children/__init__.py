"""The suite's own child processes, one module each, run as ``python -m
backprop_suite.children.NAME`` by the code that needs a fresh process (another Keras backend, a
TF1 program under v1 behaviour, a multi-worker cluster). Each reads its arguments, runs its work
and writes its result; none is a user's command (those are the ``backprop-*`` commands)."""
