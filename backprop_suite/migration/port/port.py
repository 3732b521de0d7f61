"""The new program behind one interface, whether it is a compiled Keras model or hand-written TF2.

``tf2_program()`` returns ``{"model": compiled keras.Model}`` (with ``"inputs"`` and ``"targets"``,
the batch entries that are its x and y, by default ``"x"`` and ``"y"``), or
``{"variables": [...], "loss": f(batch), "train_step": f(batch) -> loss, "outputs": f(batch)}``.
Either way the check sees named variables, the outputs and the loss of a batch, the gradients by
``tf.GradientTape``, and one training step.

A TF1 script that trains several train ops in turn (a GAN's discriminator, then its generator)
is matched by a hand-written port that gives one step and one loss per train op, in the order the
script first ran them: ``"train_steps": [d_step, g_step]`` and ``"losses": [d_loss, g_loss]``
(``"loss"`` and ``"train_step"`` are then the first's).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import tensorflow as tf

FUNCTION_KEYS = ("variables", "loss", "train_step")


class PortSetupError(ValueError):
    """What ``tf2_program()``'s dict names does not fit the TF1 program (an ``"inputs"`` that is
    no batch entry): the port's setup, not its code, so it is said as it is."""


def tensors(batch: dict) -> dict:
    """NumPy values become tensors, so that a new batch of the same shapes is not a new trace."""
    return {name: tf.convert_to_tensor(value) for name, value in batch.items()}


def per_sample(value):
    """A scalar fed as one sample (a classic per-sample loop) as a batch of one."""
    return tf.reshape(value, [1]) if len(value.shape) == 0 else value


def variable_name(variable) -> str:
    """A Keras variable's path (``sequential/dense/kernel``), a ``tf.Variable``'s name without
    ``:0``."""
    return getattr(variable, "path", None) or variable.name.split(":")[0]


class Port:
    """``variables``: what it trains; ``state``: what it keeps but does not train (moving
    statistics, the optimizer's iteration count), compared where ``WEIGHT_MAP`` names it."""

    variables: list
    state: list
    updated: list = []  # the state that a forward pass in training mode moves
    has_outputs: bool
    path: str
    turns: int = 1  # the train steps it gives, one per TF1 train op that the script turns to

    def train_step_of(self, kind: int) -> Callable:
        return self.train_step

    def turn_loss_of(self, kind: int) -> Callable:
        """The loss of turn ``kind`` in a ``tf.function``, without state updates."""
        return self.loss_of

    @property
    def names(self) -> list[str]:
        return [variable_name(v) for v in self.variables]

    @property
    def state_names(self) -> list[str]:
        return [variable_name(v) for v in self.state]

    def assign(self, values: list[np.ndarray]) -> None:
        for variable, value in zip(self.variables, values):
            variable.assign(value)

    def assign_state(self, indices: list[int], values: list[np.ndarray]) -> None:
        for i, value in zip(indices, values):
            dtype = getattr(self.state[i].dtype, "name", self.state[i].dtype)
            self.state[i].assign(np.asarray(value).astype(dtype))

    def values(self) -> list[np.ndarray]:
        return [np.asarray(v.numpy()) for v in self.variables]

    def state_values(self) -> list[np.ndarray]:
        return [np.asarray(v.numpy()) for v in self.state]

    def compiled(self) -> None:
        """Outputs, loss and gradients in ``tf.function``s, as the old graph and the port's own
        training step run them: eager float32 rounds differently (the guide's pitfall 9)."""
        # Fresh closures: TensorFlow's retracing warning counts traces per Python function.
        outputs_of = tf.function(lambda batch: self.forward(batch))
        loss_of = tf.function(lambda batch: self.loss(batch))
        grads_of = tf.function(lambda batch: self.gradients(batch))
        self.outputs_of = self.without_updates(lambda batch: outputs_of(tensors(batch)))
        self.loss_of = self.without_updates(lambda batch: loss_of(tensors(batch)))
        self.grads_of = self.without_updates(lambda batch: grads_of(tensors(batch)))

    def without_updates(self, compute: Callable) -> Callable:
        """``compute``, with the state that a call in training mode updates (BatchNorm's moving
        statistics) put back after it: only the port's training step may move it, as only TF1's
        train_op moves TF1's."""

        def computed(batch: dict):
            before = [v.numpy() for v in self.updated]
            try:
                return compute(batch)
            finally:
                for variable, value in zip(self.updated, before):
                    variable.assign(value)

        return computed

    def check_batch(self, batch: dict) -> None:
        """Nothing for a port that reads its batch itself."""

    def gradients(self, batch: dict) -> list:
        with tf.GradientTape() as tape:
            loss = self.loss(batch)
        grads = tape.gradient(loss, self.variables)
        return [
            tf.zeros_like(v) if g is None else tf.convert_to_tensor(g)
            for v, g in zip(self.variables, grads)
        ]


class KerasPort(Port):
    def __init__(self, built: dict, path: str) -> None:
        import keras

        self.model = built["model"]
        if not isinstance(self.model, keras.Model) or self.model.optimizer is None:
            raise ValueError(f"{path}: tf2_program()['model'] must be a compiled keras.Model")
        self.inputs = built.get("inputs", "x")
        self.targets = built.get("targets", "y")
        self.variables = list(self.model.trainable_variables)
        optimizer = self.model.optimizer
        if not optimizer.built:  # its slots exist from here on, as train_on_batch would make them
            optimizer.build(self.variables)
        self.updated = list(self.model.non_trainable_variables)
        self.state = self.updated + list(optimizer.variables)
        self.has_outputs = True
        self.path = path

    def check_batch(self, batch: dict) -> None:
        """A ``PortSetupError`` where ``"inputs"`` or ``"targets"`` name no entry of ``batch``."""
        names = [self.inputs] if isinstance(self.inputs, str) else list(self.inputs)
        missing = [n for n in [*names, self.targets] if n not in batch]
        if missing:
            raise PortSetupError(
                f"{self.path}: the model's inputs/targets name {missing}, not among the batch's "
                f"{sorted(batch)}; set 'inputs' and 'targets' in tf2_program()'s dict"
            )

    def _xy(self, batch: dict):
        names = [self.inputs] if isinstance(self.inputs, str) else list(self.inputs)
        batch = {name: per_sample(value) for name, value in batch.items()}
        x = batch[names[0]] if isinstance(self.inputs, str) else [batch[n] for n in names]
        return x, batch[self.targets]

    def forward(self, batch: dict):
        return self.model(self._xy(batch)[0], training=True)

    def loss(self, batch: dict):
        x, y = self._xy(batch)
        return self.model.compute_loss(x=x, y=y, y_pred=self.model(x, training=True))

    def train_step(self, batch: dict) -> None:
        x, y = self._xy(batch)
        self.model.train_on_batch(x, y)


class FunctionPort(Port):
    def __init__(self, built: dict, path: str) -> None:
        plural = {"loss": "losses", "train_step": "train_steps"}
        missing = [k for k in FUNCTION_KEYS if k not in built and plural.get(k) not in built]
        if missing:
            raise ValueError(
                f"{path}: tf2_program() must return {{'model': ...}} or a dict with "
                f"{FUNCTION_KEYS}, missing {missing}"
            )
        self.variables = list(built["variables"])
        self.state = list(built.get("state", []))
        self.path = path
        self.train_steps = list(built.get("train_steps") or [built["train_step"]])
        self.losses = list(built.get("losses") or [built["loss"]])
        if len(self.train_steps) != len(self.losses):
            raise ValueError(
                f"{path}: tf2_program() gives {len(self.train_steps)} train_steps and "
                f"{len(self.losses)} losses; give one loss per train step, in the same order"
            )
        self.turns = len(self.train_steps)
        self.loss: Callable = self.losses[0]
        self.train_step: Callable = self.train_steps[0]
        self.forward = built.get("outputs")
        self.has_outputs = self.forward is not None
        self.turn_losses: dict[int, Callable] = {}

    def train_step_of(self, kind: int) -> Callable:
        return self.train_steps[kind]

    def turn_loss_of(self, kind: int) -> Callable:
        if kind == 0:
            return self.loss_of
        if kind not in self.turn_losses:
            traced = tf.function(lambda batch: self.losses[kind](batch))
            self.turn_losses[kind] = self.without_updates(lambda batch: traced(tensors(batch)))
        return self.turn_losses[kind]


def make_port(built, path: str) -> Port:
    if not isinstance(built, dict):
        raise ValueError(f"{path}: tf2_program() must return a dict, got {type(built).__name__}")
    port = KerasPort(built, path) if "model" in built else FunctionPort(built, path)
    port.compiled()
    return port
