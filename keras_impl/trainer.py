"""Training with ``model.fit``: Keras does the forward pass, the backprop and the update.

All ``cfg.steps`` updates run as one epoch of pre-arranged batches with
``steps_per_execution=cfg.steps``, so Keras enters its compiled loop once instead of paying its
per-epoch overhead on every step. The batches are the ones ``backprop_suite.core.step_batches``
gives every implementation, in the same order, with ``shuffle=False``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import keras
import numpy as np

from backprop_suite.core import (
    TrainConfig,
    TrainResult,
    check_inputs,
    check_params,
    check_x,
    step_batches,
)
from backprop_suite.core.batching import is_full_batch
from keras_impl import distributed
from keras_impl.data import training_data
from keras_impl.gradients import loss_and_gradients
from keras_impl.losses import keras_loss
from keras_impl.model import build_model, floatx, get_params, set_params
from keras_impl.optimizers import MAPPINGS, keras_optimizer

MODES = ("one_epoch", "epoch_per_step", "train_on_batch")


CACHED_MODELS = 32
# what each call gives the cached model: its weights and its batches
WEIGHTS_AND_BATCHES = ("init", "seed", "batch_size", "shuffle")
_models: dict[tuple, keras.Model] = {}


def jit_compile() -> bool:
    """XLA on JAX, where it is how JAX runs fast (500 seed steps: 15 s op by op); off on
    TensorFlow, where it would part from the TF1 graph (pitfall 10), and on torch.
    ``KERAS_JAX_JIT=0`` turns it off on JAX, to measure what it changes."""
    return keras.backend.backend() == "jax" and os.environ.get("KERAS_JAX_JIT", "1") != "0"


def compiled_model(
    params: Mapping[str, np.ndarray],
    cfg: TrainConfig,
    steps_per_execution: int = 1,
    mapping: str = "exact",
    strategy=None,
) -> keras.Model:
    """The model compiled with the config's optimizer (``keras_impl.optimizers``, under
    ``mapping``) and exact loss, holding ``params``. XLA stays off except on JAX
    (``jit_compile``): it fuses operations and so rounds differently from the TF1 graph
    (tests/migration/test_migration_pitfalls.py measures 2.2e-7 after 50 float32 steps).

    One model is kept per structure and optimizer: a later call sets its weights, rate, step
    counter, optimizer slots and recorded losses anew and so reuses the train function Keras
    traced, instead of building, compiling and tracing again (``scripts/bench.py`` measures the
    difference). A decaying rate is a schedule traced into that function, so it is part of the
    key.

    ``cfg.replicas`` > 1 (or a ``tf.distribute`` ``strategy``): built and compiled under the
    strategy's scope (``keras_impl.distributed``)."""
    xla = jit_compile()
    # the rate is set on the optimizer at every call, unless a decay schedule traced it in
    per_call = WEIGHTS_AND_BATCHES + (() if cfg.decay_steps else ("learning_rate",))
    key = (cfg.cache_key(per_call), steps_per_execution, mapping, xla, id(strategy))
    model = _models.get(key)
    if model is None:
        with floatx(cfg.dtype), distributed.scope(cfg, strategy):
            model = build_model(params, cfg)
            model.compile(
                optimizer=keras_optimizer(cfg, mapping),
                loss=keras_loss(cfg),
                steps_per_execution=steps_per_execution,
                jit_compile=xla,
            )
            model.optimizer.build(model.trainable_variables)
            outputs = keras.ops.zeros((1, cfg.layers[-1]), dtype=cfg.dtype)
            model.compute_loss(y=outputs, y_pred=outputs, training=False)  # builds the loss
        model.initial_optimizer_state = [v.numpy() for v in model.optimizer.variables]
        if len(_models) >= CACHED_MODELS:
            _models.pop(next(iter(_models)))
        _models[key] = model
    else:
        set_params(model, params, cfg)
        for variable, value in zip(model.optimizer.variables, model.initial_optimizer_state):
            variable.assign(value)
        if cfg.decay_steps is None:
            model.optimizer.learning_rate = cfg.learning_rate
    model.restart()
    return model


def forward(params: Mapping[str, object], x: object, cfg: TrainConfig) -> np.ndarray:
    """y_out for inputs ``x``, shape (n, layers[-1]), by calling the model."""
    params = check_params(params, cfg)
    x0 = check_x(x, cfg)
    return keras.ops.convert_to_numpy(compiled_model(params, cfg)(x0, training=False))


def loss_and_grads(
    params: Mapping[str, object], x: object, y: object, cfg: TrainConfig
) -> tuple[float, dict[str, np.ndarray]]:
    """The loss Keras computes for (x, y), and its gradient for every weight."""
    params, x0, y0 = check_inputs(params, x, y, cfg)
    model = compiled_model(params, cfg)
    with floatx(cfg.dtype):
        loss, grads = loss_and_gradients(model, x0, y0)
    return loss, dict(zip(cfg.param_shapes(), grads))


def train(
    params: Mapping[str, object],
    x: object,
    y: object,
    cfg: TrainConfig,
    mode: str = "one_epoch",
    mapping: str = "exact",
    strategy=None,
) -> TrainResult:
    """``cfg.steps`` updates, all made by Keras; ``losses`` are the losses Keras computed.

    ``mode="one_epoch"`` (default): one ``fit`` epoch of ``cfg.steps`` batches run by one compiled
    call (``steps_per_execution``). ``"epoch_per_step"``: ``fit(x, y, epochs=cfg.steps)`` on the
    full batch, as the seed's loop of ``sess.run(train)`` is often first ported; Keras then sets
    up its data iterator and callbacks again every epoch. ``"train_on_batch"``: one
    ``train_on_batch`` call per step. All three give the same numbers; only the speed differs.

    ``mapping`` chooses the Keras optimizer (``keras_impl.optimizers``): ``"exact"`` trains what
    TF1 trains; ``"closest"``, ``"matched"`` and ``"defaults"`` are Keras's built-ins, set as
    close to TF1 as they go, with TF1's arguments, and at Keras's defaults, kept to measure how
    far they part from TF1.

    ``cfg.replicas`` > 1: data-parallel, the model built and compiled under a MirroredStrategy
    over that many logical CPUs, or under ``strategy`` (``MultiWorkerMirroredStrategy`` across
    processes), then ``fit`` as above.
    """
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; expected one of {', '.join(MODES)}")
    if mapping not in MAPPINGS:
        raise ValueError(f"unknown mapping {mapping!r}; expected one of {', '.join(MAPPINGS)}")
    params, x0, y0 = check_inputs(params, x, y, cfg)
    distributed.require_tensorflow(cfg)
    if cfg.replicas > 1 and mode != "one_epoch":
        raise ValueError(f"replicas={cfg.replicas} trains in mode 'one_epoch' only, not {mode!r}")
    if mode == "epoch_per_step" and not is_full_batch(len(x0), cfg):
        raise ValueError("mode 'epoch_per_step' trains on the full batch, in order, as the seed")
    # torch takes 1 at most; so does a multi-worker strategy in Keras 3.15 (a longer execution
    # fails: "You must feed a value for placeholder tensor 'while/cond/Placeholder'")
    one_call = mode == "one_epoch" and keras.backend.backend() != "torch"
    one_call = one_call and not distributed.multi_worker(strategy)
    steps_per_execution = cfg.steps if one_call else 1
    model = compiled_model(params, cfg, steps_per_execution, mapping, strategy)
    with floatx(cfg.dtype):  # fit, train_on_batch and predict cast NumPy data to floatx
        if mode == "train_on_batch":
            for rows in step_batches(len(x0), cfg):
                model.train_on_batch(x0[rows], y0[rows])
        elif mode == "epoch_per_step":
            model.fit(x0, y0, batch_size=len(x0), epochs=cfg.steps, shuffle=False, verbose=0)
        else:
            model.fit(
                training_data(x0, y0, cfg),
                epochs=1,
                steps_per_epoch=cfg.steps,
                shuffle=False,
                verbose=0,
            )
        if cfg.replicas == 1:
            outputs = model.predict_on_batch(x0)
        else:  # predict_on_batch under a strategy gives every replica the whole batch
            outputs = distributed.outputs(model, x0)
    trained = get_params(model, cfg)
    losses = np.asarray(model.step_losses.numpy())
    return TrainResult(params=trained, losses=losses, outputs=keras.ops.convert_to_numpy(outputs))
