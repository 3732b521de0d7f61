"""The benchmarks ``backprop-bench`` runs: execution modes, scaling, data-parallel replicas, many
nets at once and other Keras backends, timed as medians in one process."""
