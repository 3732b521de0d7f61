"""``WarmStartSettings``: the variables an ``Estimator`` takes from another checkpoint before
its first step (when its ``model_dir`` has none), through TensorFlow's own
``tf.compat.v1.train.warm_start``. A path is a checkpoint, or a SavedModel's folder whose
variables are read."""

from __future__ import annotations

import collections
import os

import tensorflow as tf

VocabInfo = tf.compat.v1.train.VocabInfo


class WarmStartSettings(
    collections.namedtuple(
        "WarmStartSettings",
        [
            "ckpt_to_initialize_from",
            "vars_to_warm_start",
            "var_name_to_vocab_info",
            "var_name_to_prev_var_name",
        ],
    )
):
    """Where to warm-start from, which variables (a regex or a list), their vocabularies and
    their names in that checkpoint."""

    def __new__(
        cls,
        ckpt_to_initialize_from,
        vars_to_warm_start=".*",
        var_name_to_vocab_info=None,
        var_name_to_prev_var_name=None,
    ):
        if not ckpt_to_initialize_from:
            raise ValueError("`ckpt_to_initialize_from` MUST be set in WarmStartSettings")
        return super().__new__(
            cls,
            ckpt_to_initialize_from,
            vars_to_warm_start,
            var_name_to_vocab_info or {},
            var_name_to_prev_var_name or {},
        )


def variables_of(path: str) -> str:
    """``path``, or the variables' prefix where ``path`` is a SavedModel's folder."""
    saved = os.path.join(path, "variables", "variables")
    return saved if tf.io.gfile.exists(saved + ".index") else path


def settings(warm_start_from) -> WarmStartSettings | None:
    """The ``Estimator``'s ``warm_start_from`` as settings (None: no warm start)."""
    if warm_start_from is None:
        return None
    if isinstance(warm_start_from, str | bytes | os.PathLike):
        return WarmStartSettings(variables_of(tf.compat.as_str_any(os.fspath(warm_start_from))))
    if isinstance(warm_start_from, WarmStartSettings):
        path = variables_of(tf.compat.as_str_any(warm_start_from.ckpt_to_initialize_from))
        return warm_start_from._replace(ckpt_to_initialize_from=path)
    raise ValueError(
        "warm_start_from must be a string or a WarmStartSettings, instead got "
        f"{type(warm_start_from)}"
    )


def warm_start(found: WarmStartSettings | None) -> None:
    if found is not None:
        tf.compat.v1.logging.info("Warm-starting with WarmStartSettings: %s", found)
        tf.compat.v1.train.warm_start(*found)
