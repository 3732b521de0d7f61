"""Whether a job's arrays can fit in this machine's memory, asked before any is allocated.

The estimates are lower bounds (the arrays a job cannot do without), so a refusal is certain
and a job that passes may still need more."""

from __future__ import annotations

import os

SMALL = 1 << 26  # 64 MiB: below this no job is refused, and the memory is not looked up


def available_bytes() -> int:
    """The memory the kernel could give a new process now (``MemAvailable``), or all of it where
    that is not reported."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def describe_bytes(count: int | float) -> str:
    """``3.6 TiB``, ``512 MiB``, ``12 bytes``."""
    for unit, size in (("EiB", 1 << 60), ("PiB", 1 << 50), ("TiB", 1 << 40), ("GiB", 1 << 30)):
        if count >= size:
            return f"{count / size:,.1f} {unit}"
    if count >= 1 << 20:
        return f"{count / (1 << 20):.1f} MiB"
    return f"{int(count)} bytes"


def require_fits(what: str, needed: int) -> None:
    """A ``ValueError`` naming ``what``, the memory it would take and the memory this machine
    has, when ``needed`` bytes are more than it has."""
    if needed <= SMALL:
        return
    available = available_bytes()
    if needed > available:
        raise ValueError(
            f"{what} would take at least {describe_bytes(needed)} of memory; this machine has "
            f"{describe_bytes(available)} available"
        )
