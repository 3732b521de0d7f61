"""The seed article's TensorFlow 1 program, runnable on Python 3 and TensorFlow 2.

``seed_program`` is the article's program line for line. It changes only what Python 3, the
``tf.compat.v1`` API and injected weights require:

- ``import tensorflow.compat.v1 as tf``, so every ``tf.`` line of the seed stays as it was;
- the program builds its own ``tf.Graph`` (eager stays on for the rest of the process);
- ``tf.Variable(weights[...])`` instead of ``tf.Variable(tf.random_uniform(...))``;
- ``print(...)`` for the Python 2 ``print`` statement.

``tests/agreement/test_tf1_reference.py`` diffs it against the article's program to hold that
promise. ``train`` is the same program generalised the TF1 way: any depth, activation and loss,
batches fed through ``tf.placeholder`` and ``feed_dict``.

    python -m backprop_suite.reference.tf1 [--seed N]    # run the seed program as the article did
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

if __name__ == "__main__":  # run as the article's program: TensorFlow's INFO lines off
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow.compat.v1 as tf  # noqa: E402

from backprop_suite.cli.script import ArgumentParser  # noqa: E402
from backprop_suite.core import (  # noqa: E402
    TrainConfig,
    TrainResult,
    check_inputs,
    check_params,
    check_x,
    init_params,
    require_one_device,
    step_batches,
)
from backprop_suite.core.config import choice  # noqa: E402
from backprop_suite.core.init import UNIFORM_HIGH, UNIFORM_LOW, per_weight_seeds  # noqa: E402
from backprop_suite.core.optimizers import OPTIMIZERS  # noqa: E402

ACTIVATIONS = {"sigmoid": tf.sigmoid, "tanh": tf.tanh, "relu": tf.nn.relu}


# fmt: off
def seed_program(weights):
  """The seed program with ``weights`` (m1, b1, m2, b2) in place of its random draw."""
  with tf.Graph().as_default():

    ### constant data
    x  = [[0.,0.],[1.,1.],[1.,0.],[0.,1.]]
    y_ = [[0.],[0.],[1.],[1.]]

    ### induction
    # 1x2 input -> 2x3 hidden sigmoid -> 3x1 sigmoid output

    # Layer 0 = the x2 inputs
    x0 = tf.constant( x  , dtype=tf.float32 )
    y0 = tf.constant( y_ , dtype=tf.float32 )

    # Layer 1 = the 2x3 hidden sigmoid
    m1 = tf.Variable( weights["m1"] , dtype=tf.float32 )
    b1 = tf.Variable( weights["b1"] , dtype=tf.float32 )
    h1 = tf.sigmoid( tf.matmul( x0,m1 ) + b1 )

    # Layer 2 = the 3x1 sigmoid output
    m2 = tf.Variable( weights["m2"] , dtype=tf.float32 )
    b2 = tf.Variable( weights["b2"] , dtype=tf.float32 )
    y_out = tf.sigmoid( tf.matmul( h1,m2 ) + b2 )


    ### loss
    # loss : sum of the squares of y0 - y_out
    loss = tf.reduce_sum( tf.square( y0 - y_out ) )

    # training step : gradient decent (1.0) to minimize loss
    train = tf.train.GradientDescentOptimizer(1.0).minimize(loss)


    ### training
    # run 500 times using all the X and Y
    # print out the loss and any other interesting info
    with tf.Session() as sess:
      sess.run( tf.global_variables_initializer() )
      for step in range(500) :
        sess.run(train)

      results = sess.run([m1,b1,m2,b2,y_out,loss])
      labels  = "m1,b1,m2,b2,y_out,loss".split(",")
      for label,result in zip(*(labels,results)) :
        print("")
        print(label)
        print(result)

  print("")
  return dict(zip(labels, results))
# fmt: on


def draw_weights(
    cfg: TrainConfig, graph_seed: int, op_seeds: Sequence[int] | None = None
) -> dict[str, np.ndarray]:
    """m1, b1, … drawn in a TF1 graph as the seed does, after ``tf.set_random_seed(graph_seed)``;
    ``op_seeds`` gives each ``random_uniform`` its own seed, in the order m1, b1, m2, b2, …"""
    shapes = cfg.param_shapes()
    seeds = per_weight_seeds(cfg, op_seeds)
    with tf.Graph().as_default():
        tf.set_random_seed(graph_seed)
        draws = [
            tf.random_uniform(
                shape, minval=UNIFORM_LOW, maxval=UNIFORM_HIGH, dtype=cfg.dtype, seed=seed
            )
            for shape, seed in zip(shapes.values(), seeds)
        ]
        with tf.Session() as sess:
            return dict(zip(shapes, sess.run(draws)))


@contextmanager
def tf_warnings_off() -> Iterator[None]:
    """TensorFlow's logger at ERROR for a moment: TF 2.21's own RMSPropOptimizer and
    AdagradOptimizer log a deprecation warning about how they call their slot initializers,
    which says nothing about the program being run."""
    logger = tf.get_logger()
    level = logger.level
    logger.setLevel("ERROR")
    try:
        yield
    finally:
        logger.setLevel(level)


def global_step(cfg: TrainConfig) -> tf.Variable | None:
    """The step counter ``minimize`` increments, where the rate decays with it."""
    return None if cfg.decay_steps is None else tf.train.get_or_create_global_step()


def optimizer(cfg: TrainConfig, dtype: tf.DType) -> tf.train.Optimizer:
    """``cfg.optimizer`` as the TF1 program builds it, its rate decayed by ``exponential_decay``.

    A Python float hyperparameter becomes a float32 tensor and is then cast to the variable's
    dtype: in float64 that would train at float32(rate), so every number is given as a tensor of
    the model's dtype."""
    choice("optimizer", cfg.optimizer, OPTIMIZERS)
    args = cfg.optimizer_args

    def constant(value: float) -> tf.Tensor:
        return tf.constant(value, dtype=dtype)

    rate = constant(cfg.learning_rate)
    if cfg.decay_steps is not None:
        rate = tf.train.exponential_decay(
            rate,
            tf.train.get_or_create_global_step(),
            cfg.decay_steps,
            constant(cfg.decay_rate),
            staircase=cfg.staircase,
        )
    if cfg.optimizer == "momentum":
        return tf.train.MomentumOptimizer(
            rate, constant(args["momentum"]), use_nesterov=args["use_nesterov"]
        )
    if cfg.optimizer == "adam":
        return tf.train.AdamOptimizer(
            rate,
            beta1=constant(args["beta1"]),
            beta2=constant(args["beta2"]),
            epsilon=constant(args["epsilon"]),
        )
    if cfg.optimizer == "rmsprop":
        return tf.train.RMSPropOptimizer(
            rate,
            decay=constant(args["decay"]),
            momentum=constant(args["momentum"]),
            epsilon=constant(args["epsilon"]),
            centered=args["centered"],
        )
    if cfg.optimizer == "adagrad":
        return tf.train.AdagradOptimizer(
            rate, initial_accumulator_value=args["initial_accumulator_value"]
        )
    return tf.train.GradientDescentOptimizer(rate)


# TF1's own table of the losses, written apart from the port's (tf_impl.losses) so that the
# reference shares no code with what it judges
LOSSES = {
    "sum_squares": tf.reduce_sum,
    "half_sum_squares": lambda squares: 0.5 * tf.reduce_sum(squares),
    "mean_squares": tf.reduce_mean,
}


def build_graph(cfg: TrainConfig) -> dict:
    """The seed's graph for any ``cfg``: placeholders for the batch and for each weight's initial
    value, one Variable per weight, the loss and the training op."""
    dtype = tf.as_dtype(cfg.dtype)
    x0 = tf.placeholder(dtype, [None, cfg.layers[0]], name="x0")
    y0 = tf.placeholder(dtype, [None, cfg.layers[-1]], name="y0")
    initial = {key: tf.placeholder(dtype, shape) for key, shape in cfg.param_shapes().items()}
    weights = [tf.Variable(initial[key], name=key) for key in cfg.param_shapes()]
    activation = choice("activation", cfg.activation, ACTIVATIONS)
    h = x0
    for m, b in zip(weights[0::2], weights[1::2]):
        h = activation(tf.matmul(h, m) + b)
    y_out = h
    loss = choice("loss", cfg.loss, LOSSES)(tf.square(y0 - y_out))
    with tf_warnings_off():
        train = optimizer(cfg, dtype).minimize(loss, global_step=global_step(cfg))
    return {
        "x0": x0,
        "y0": y0,
        "initial": initial,
        "init": tf.global_variables_initializer(),
        "weights": weights,
        "y_out": y_out,
        "loss": loss,
        "gradients": tf.gradients(loss, weights),
        "train": train,
        "saver": tf.train.Saver(),
    }


class SessionTrainer:
    """One TF1 graph and Session for ``cfg``. ``run`` trains from new weights and data in the same
    Session, as a TF1 program calling ``sess.run(train)`` in a loop does, without building again."""

    def __init__(self, cfg: TrainConfig) -> None:
        self.cfg = cfg
        graph = tf.Graph()
        with graph.as_default():
            self.nodes = build_graph(cfg)
        self.sess = tf.Session(graph=graph)

    def __enter__(self) -> SessionTrainer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.sess.close()

    def initialise(self, params: Mapping[str, np.ndarray]) -> None:
        """``global_variables_initializer`` with ``params`` fed as the initial values."""
        initial = self.nodes["initial"]
        self.sess.run(self.nodes["init"], feed_dict={initial[k]: params[k] for k in initial})

    def run(
        self,
        params: Mapping[str, np.ndarray],
        x_value: np.ndarray,
        y_value: np.ndarray,
        checkpoint: str | os.PathLike | None = None,
    ) -> TrainResult:
        """Train from checked ``params`` on checked data; see ``train``."""
        nodes, sess = self.nodes, self.sess
        self.initialise(params)
        losses = np.empty(self.cfg.steps, dtype=self.cfg.dtype)
        for step, rows in enumerate(step_batches(len(x_value), self.cfg)):
            feed = {nodes["x0"]: x_value[rows], nodes["y0"]: y_value[rows]}
            losses[step], _ = sess.run([nodes["loss"], nodes["train"]], feed_dict=feed)
        trained = sess.run(nodes["weights"])
        y_out = sess.run(nodes["y_out"], feed_dict={nodes["x0"]: x_value})
        if checkpoint is not None:
            with sess.graph.as_default():
                nodes["saver"].save(sess, os.fspath(checkpoint))
        return TrainResult(
            params=dict(zip(self.cfg.param_shapes(), trained)), losses=losses, outputs=y_out
        )


def forward(params: Mapping[str, object], x: object, cfg: TrainConfig) -> np.ndarray:
    """y_out for inputs ``x``, by ``sess.run`` on the TF1 graph."""
    params = check_params(params, cfg)
    x_value = check_x(x, cfg)
    with SessionTrainer(cfg) as session:
        session.initialise(params)
        return session.sess.run(session.nodes["y_out"], feed_dict={session.nodes["x0"]: x_value})


def loss_and_grads(
    params: Mapping[str, object], x: object, y: object, cfg: TrainConfig
) -> tuple[float, dict[str, np.ndarray]]:
    """The loss on (x, y) and its gradient for every weight, by ``tf.gradients`` in a graph."""
    params, x_value, y_value = check_inputs(params, x, y, cfg)
    with SessionTrainer(cfg) as session:
        session.initialise(params)
        nodes = session.nodes
        feed = {nodes["x0"]: x_value, nodes["y0"]: y_value}
        loss, grads = session.sess.run([nodes["loss"], nodes["gradients"]], feed_dict=feed)
    return float(loss), dict(zip(cfg.param_shapes(), grads))


def train(
    params: Mapping[str, object],
    x: object,
    y: object,
    cfg: TrainConfig,
    checkpoint: str | os.PathLike | None = None,
) -> TrainResult:
    """``cfg.steps`` updates in a new TF1 graph and Session, each batch fed through ``feed_dict``.

    With ``checkpoint``, the trained variables are saved there by ``tf.train.Saver`` under the
    names m1, b1, m2, b2, … (read them back with
    ``backprop_suite.reference.checkpoint.load_tf1_checkpoint``).
    """
    params, x_value, y_value = check_inputs(params, x, y, cfg)
    require_one_device(cfg, "tf1")
    with SessionTrainer(cfg) as session:
        return session.run(params, x_value, y_value, checkpoint)


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(description="Run the seed article's TF1 program.")
    parser.add_argument("--seed", type=int, default=0, help="seed of the injected weights (0)")
    args = parser.parse_args(argv)
    try:
        weights = init_params(TrainConfig(), seed=args.seed)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    seed_program(weights)
    return 0


if __name__ == "__main__":
    sys.exit(main())
