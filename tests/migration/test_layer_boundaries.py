"""The TF1 tensors between a port's layers, found from the graph alone
(``backprop_suite.migration.tf1.boundaries``): on graphs built here, where the tensor between two
layers is known by construction."""

from __future__ import annotations

import pytest

tf = pytest.importorskip("tensorflow")
v1 = tf.compat.v1


def names(found: list) -> list[str]:
    return [t.op.name for t in found]


def dense(x, units: int, name: str, activation=None):
    w = v1.get_variable(f"{name}_w", [x.shape[-1], units])
    b = v1.get_variable(f"{name}_b", [units], initializer=v1.zeros_initializer())
    out = tf.add(tf.matmul(x, w), b, name=f"{name}_sum")
    return (out if activation is None else activation(out, name=f"{name}_act")), [w, b]


def test_the_tensor_between_two_dense_layers_is_the_first_ones_activation():
    from backprop_suite.migration.tf1.boundaries import boundary_candidates

    with tf.Graph().as_default() as graph:
        x = v1.placeholder(tf.float32, [None, 3], name="x")
        h, first = dense(x, 4, "hidden", tf.nn.relu)
        dropped = tf.multiply(h, 2.0, name="scaled")
        y, second = dense(dropped, 2, "out")
        loss = tf.reduce_sum(tf.square(y))
        found, _ = boundary_candidates(graph, [x], [first, second], [loss, y])
    assert names(found[0]) == ["x"]
    # furthest down first: the op without variables after the activation belongs to the layer
    assert names(found[1]) == ["scaled", "hidden_act", "hidden_sum", "MatMul"]


def test_a_decoder_that_reads_the_encoders_kernel_starts_where_the_encoder_ends():
    from backprop_suite.migration.tf1.boundaries import boundary_candidates

    with tf.Graph().as_default() as graph:
        x = v1.placeholder(tf.float32, [None, 6], name="x")
        w = v1.get_variable("w", [6, 2])
        b = v1.get_variable("b", [2])
        b_prime = v1.get_variable("b_prime", [6])
        h = tf.sigmoid(tf.matmul(x, w) + b, name="code")
        back = tf.matmul(h, tf.transpose(w), name="back")
        y = tf.sigmoid(back + b_prime, name="decoded")
        loss = tf.reduce_sum(tf.square(y - x))
        found, _ = boundary_candidates(graph, [x], [[w, b], [b_prime]], [loss, y])
    # the tied matmul is computed from the encoder's kernel: the sizes pick "code" among these
    assert names(found[1])[:2] == ["back", "code"]


def test_no_tensor_lies_between_layers_where_the_input_bypasses_the_first():
    from backprop_suite.migration.tf1.boundaries import boundary_candidates

    with tf.Graph().as_default() as graph:
        x = v1.placeholder(tf.float32, [None, 3], name="x")
        h, first = dense(x, 3, "hidden", tf.nn.relu)
        w2 = v1.get_variable("w2", [3, 1])
        v2 = v1.get_variable("v2", [3, 1])
        y = tf.matmul(h, w2) + tf.matmul(x, v2)  # the second layer also reads the input itself
        loss = tf.reduce_sum(y)
        found, _ = boundary_candidates(graph, [x], [first, [w2, v2]], [loss, y])
    assert found[1] == []


def test_a_recurrent_kernels_later_steps_do_not_end_the_layer_before():
    from backprop_suite.migration.tf1.boundaries import boundary_candidates

    with tf.Graph().as_default() as graph:
        x = v1.placeholder(tf.float32, [None, 4, 2], name="x")
        h0, first = dense(tf.reshape(x, [-1, 2]), 2, "embed", tf.tanh)
        steps = tf.unstack(tf.reshape(h0, [-1, 4, 2], name="embedded"), axis=1)
        kernel = v1.get_variable("kernel", [4, 3])
        state = tf.zeros_like(steps[0][:, :1]) + tf.zeros([1, 3])
        for step in steps:
            state = tf.tanh(tf.matmul(tf.concat([step, state[:, :2]], 1), kernel))
        loss = tf.reduce_sum(state)
        found, _ = boundary_candidates(graph, [x], [first, [kernel]], [loss])
    assert names(found[1])[0] == "embedded"


def test_an_input_that_is_also_the_target_reaches_the_loss_round_the_first_layer():
    from backprop_suite.migration.tf1.boundaries import ancestors, boundary_candidates, bypasses

    with tf.Graph().as_default() as graph:
        x = v1.placeholder(tf.float32, [None, 3], name="x")
        h, first = dense(x, 2, "code", tf.sigmoid)
        y, second = dense(h, 3, "decoded", tf.sigmoid)
        loss = tf.reduce_sum(tf.square(y - x))  # an autoencoder's
        found, entries = boundary_candidates(graph, [x], [first, second], [loss, y])
        within = ancestors([loss])
        assert bypasses(found[0][0], entries[0], loss, within)
        assert not bypasses(found[1][0], entries[1], loss, within)


def test_a_skip_connection_is_seen_in_the_ports_trace():
    import keras

    from backprop_suite.migration.port.blocks import Block, Crossing

    x = keras.Input((3,))
    h1 = keras.layers.Dense(3, name="h1")(x)
    h2 = keras.layers.Add()([keras.layers.Dense(3, name="h2")(h1), h1])
    model = keras.Model(x, keras.layers.Dense(1, name="out")(h2))
    blocks = [Block(name, model.get_layer(name), []) for name in ("h1", "h2", "out")]
    probes = {i: tf.zeros((4, 3), tf.float64) for i in range(3)}

    found = set()

    def traced(batch):
        crossing = Crossing(blocks, probes=probes)
        with crossing.watching():
            model(batch)
        found.update(crossing.read_elsewhere())
        return batch

    tf.function(traced)(tf.ones((4, 3), tf.float32))
    assert found == {1}  # h1's output, which the Add reads too
