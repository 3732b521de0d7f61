"""Data parallelism on one CPU machine: the CPU split into logical devices (``devices``) and the
multi-worker cluster of local processes (``multi_worker``)."""
