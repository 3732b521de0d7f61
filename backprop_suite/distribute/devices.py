"""N replicas on one CPU machine: the CPU split into logical devices, one MirroredStrategy each.

TensorFlow fixes its devices when it runs its first operation, so the split has to come first:
``split_cpu`` before anything else, or ``replica_devices``, which splits when it still can and
otherwise says how to. Splitting changes no single-device number
(``tests/distributed/test_distributed.py`` trains the seed net bit for bit as TF1 with the CPU split
in four).
"""

from __future__ import annotations

import tensorflow as tf


def _cpu() -> tf.config.PhysicalDevice:
    return tf.config.list_physical_devices("CPU")[0]


def logical_cpu_count() -> int:
    """How many logical CPU devices TensorFlow has or will have, without starting it."""
    configured = tf.config.get_logical_device_configuration(_cpu())
    return len(configured) if configured else 1


def split_cpu(count: int) -> None:
    """Split the CPU into ``count`` logical devices ``/cpu:0`` … ; a ``ValueError`` once
    TensorFlow has started with fewer."""
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"the CPU splits into a positive number of devices, got {count!r}")
    if logical_cpu_count() >= count:
        return
    try:
        tf.config.set_logical_device_configuration(
            _cpu(), [tf.config.LogicalDeviceConfiguration()] * count
        )
    except RuntimeError:
        raise ValueError(
            f"{count} replicas need {count} logical CPU devices, but TensorFlow has started with "
            f"{logical_cpu_count()}: call backprop_suite.distribute.devices.split_cpu({count}) "
            "before TensorFlow runs its first operation, or train in a fresh process "
            "(backprop-compare does)"
        ) from None


def replica_devices(replicas: int) -> list[str]:
    """The names of ``replicas`` CPU devices, splitting the CPU first if it has to."""
    split_cpu(replicas)
    return [f"/cpu:{index}" for index in range(replicas)]


_strategies: dict[int, tf.distribute.Strategy] = {}


def mirrored_strategy(replicas: int) -> tf.distribute.Strategy:
    """One ``MirroredStrategy`` per replica count, kept for the process.

    Its all-reduce is ``ReductionToOneDevice`` (an ``add_n`` of the replicas' values on
    ``/cpu:0``, then a copy to each). The default picks collective ops, and with those, a second
    strategy of another size in the same process fails: "Device CPU:2 is joining a group with
    size 4, but that group has size 2" (TF 2.21)."""
    if replicas not in _strategies:
        _strategies[replicas] = tf.distribute.MirroredStrategy(
            replica_devices(replicas), cross_device_ops=tf.distribute.ReductionToOneDevice()
        )
    return _strategies[replicas]


def strategy_for(replicas: int, strategy: tf.distribute.Strategy | None = None):
    """``strategy``, checked to have ``replicas`` replicas in sync; by default the
    ``mirrored_strategy`` of that many logical CPUs."""
    if strategy is None:
        strategy = mirrored_strategy(replicas)
    if strategy.num_replicas_in_sync != replicas:
        raise ValueError(
            f"cfg.replicas is {replicas} but the strategy has "
            f"{strategy.num_replicas_in_sync} replicas in sync"
        )
    return strategy
