"""How often a net learns XOR: ``scripts/sweep.py``'s grid, vectorised runs, reports, shards and
cross-check (``docs/sweep.md``)."""
