"""How often a net learns XOR: ``backprop-sweep``'s grid, vectorised runs, reports, shards and
cross-check (``docs/sweep.md``)."""
