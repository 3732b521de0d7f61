"""``check_gradients.py MODEL.py`` on model files that go wrong in every way a user's can: each
run ends in exit 0, 1 (``DISAGREES:``) or 2 (one ``error:`` line naming the file and what
failed), never a traceback. Most run in this process, a fraction of a second each (a
``SystemExit`` that escaped would be their status); a ``KeyboardInterrupt`` the file raises, and
the transformer's error from inside TensorFlow, run the script as a user does."""

from __future__ import annotations

import pytest
from script_runner import load, one_error_line, run, run_in_process

RIGHT_DATA = """
def data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
"""

COMPILED = (
    """
import keras
import numpy as np


def model():
    keras.utils.set_random_seed(0)
    net = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, name="out")], name="net")
    net.compile(loss="mse")
    return net
"""
    + RIGHT_DATA
)

MODEL_ONLY = COMPILED.replace(RIGHT_DATA, "")

# a custom layer whose call (line 13 of the file) does what the case puts there, on data only
LAYER = (
    """import keras
import numpy as np
import tensorflow as tf


class Hostile(keras.layers.Layer):
    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], 2), name="kernel")

    def call(self, x):
        x = tf.matmul(x, self.kernel)
        if tf.executing_eagerly():  # called on data, not while the model is built
            {call}
        return x


def model():
    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input((3,)), Hostile(name="hostile")], name="net")


def loss():
    return keras.losses.MeanSquaredError()
"""
    + RIGHT_DATA
)

# a transformer block whose call flattens the attention's output with the wrong width
# (6 positions of 8 values, reshaped as if there were 7): built fine, fails when called
TRANSFORMER = """import keras
import numpy as np


class Block(keras.layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.attention = keras.layers.MultiHeadAttention(num_heads=2, key_dim=4)
        self.out = keras.layers.Dense(8)

    def call(self, x):
        h = self.attention(x, x) + x
        return self.out(keras.ops.reshape(h, (-1, 7 * 8)))


def model():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((6, 8))
    return keras.Model(inputs, Block(name="block")(inputs), name="transformer")


def data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(2, 6, 8)), rng.normal(size=(2, 8))


def loss():
    return keras.losses.MeanSquaredError()
"""

# the same block with a residual of the wrong width: Keras refuses it while model() builds
TRANSFORMER_THAT_DOES_NOT_BUILD = """import keras
import numpy as np


def model():
    inputs = keras.Input((6, 8))
    h = keras.layers.MultiHeadAttention(num_heads=2, key_dim=4)(inputs, inputs)
    return keras.Model(inputs, keras.layers.Add()([inputs, keras.layers.Dense(5)(h)]))
"""

check_gradients = load("check_gradients")

IN_PROCESS = {
    "syntax_error": ("def model(:\n", "does not import: SyntaxError: invalid syntax (line 1 of"),
    "missing_module": (
        "import keras\nimport no_such_module_of_yours\n",
        "does not import: ModuleNotFoundError: No module named 'no_such_module_of_yours' "
        "(line 2 of",
    ),
    "raises_at_import": (
        "x = 1\nraise RuntimeError('not today')\n",
        "does not import: RuntimeError: not today (line 2 of",
    ),
    "exits_at_import": ("import sys\nsys.exit(3)\n", "does not import: SystemExit: 3 (line 2 of"),
    "system_exit_at_import": ("raise SystemExit('bye')\n", "does not import: SystemExit: bye"),
    "model_raises": (
        "def model():\n    return {}['net']\n" + RIGHT_DATA,
        "model() raised KeyError: 'net' (line 2 of",
    ),
    "transformer_that_does_not_build": (
        TRANSFORMER_THAT_DOES_NOT_BUILD + RIGHT_DATA,
        "model() raised ValueError: Inputs have incompatible shapes. Received shapes (6, 8) and "
        "(6, 5) (line 8 of",
    ),
    "model_not_a_model": (
        "def model():\n    return 'net'\n" + RIGHT_DATA,
        "model() must return a keras.Model, got str",
    ),
    "data_none": (MODEL_ONLY + "\ndef data():\n    return None\n", "data() must return (x, y)"),
    "data_pair_of_none": (
        MODEL_ONLY + "\ndef data():\n    return None, None\n",
        (  # a counter follows the input's name
            "its check failed: ValueError: Exception encountered when calling Sequential.call()"
            ". The input 'keras_tensor",
            "is not optional, but None was passed. Please provide a valid tensor.",
        ),
    ),
    "data_strings": (
        MODEL_ONLY + "\ndef data():\n    return 'xxx', 'yy'\n",
        "its check failed: ValueError: Only input tensors may be passed as positional arguments",
    ),
    "data_wrong_width": (
        MODEL_ONLY + "\ndef data():\n    return np.ones((4, 5)), np.ones((4, 2))\n",
        "its check failed: ValueError: Exception encountered when calling Sequential.call(). "
        "Input 0 with name 'None' of layer 'out' is incompatible with the layer: expected axis "
        "-1 of input shape to have value 3, but received input with shape (4, 5)",
    ),
    "loss_raises_when_made": (
        COMPILED + "\ndef loss():\n    raise NotImplementedError('which loss?')\n",
        "loss() raised NotImplementedError: which loss?",
    ),
    "loss_raises_when_called": (
        COMPILED + "\ndef loss():\n    return broken\n\n\ndef broken(y, p):\n    return 1 / 0\n",
        "its check failed: ZeroDivisionError: division by zero (line 21 of",
    ),
    "loss_not_a_loss": (
        COMPILED + "\ndef loss():\n    return 3\n",
        "loss() must return a loss (a callable or a Keras loss's name), got int",
    ),
    "layer_raises": (
        LAYER.format(call="raise ArithmeticError('no')"),
        "its check failed: ArithmeticError: Exception encountered when calling Hostile.call(). "
        "no (line 13 of",
    ),
    "layer_exits": (
        LAYER.format(call="raise SystemExit(4)"),
        "its check failed: SystemExit: 4 (line 13 of",
    ),
    # an op TensorFlow has no gradient for: its tape fails inside TensorFlow's own code
    "no_gradient_inside_tensorflow": (
        LAYER.format(call="x = tf.raw_ops.Snapshot(input=x)"),
        "its check failed: LookupError: gradient registry has no entry for: Snapshot",
    ),
}


@pytest.mark.parametrize("case", IN_PROCESS)
def test_a_file_that_fails_is_one_error_line_naming_it_and_what_failed(case, tmp_path):
    source, expected = IN_PROCESS[case]
    path = tmp_path / f"{case}.py"
    path.write_text(source)
    line = one_error_line(run_in_process(check_gradients, path))
    assert line.startswith(f"error: {path}"), line
    for part in (expected,) if isinstance(expected, str) else expected:
        assert part in line, line


def test_a_transformer_with_a_shape_bug_in_its_call_is_one_error_line(tmp_path):
    (tmp_path / "transformer.py").write_text(TRANSFORMER)
    line = one_error_line(run("check_gradients", tmp_path / "transformer.py"))
    assert line.startswith(f"error: {tmp_path / 'transformer.py'}: its check failed: "), line
    # TensorFlow's own words, the layer Keras names, and the line of the call in the file
    assert "InvalidArgumentError: Exception encountered when calling Block.call()." in line
    assert (
        "Input to reshape is a tensor with 96 values, but the requested shape requires a "
        "multiple of 56 [Op:Reshape] (line 13 of transformer.py)"
    ) in line, line


@pytest.mark.parametrize(
    "source, expected",
    [
        ("import keras\nraise KeyboardInterrupt\n", "(line 2 of interrupting.py)"),
        (LAYER.format(call="raise KeyboardInterrupt"), "(line 13 of interrupting.py)"),
    ],
    ids=["at_import", "in_a_layers_call"],
)
def test_a_keyboard_interrupt_the_file_raises_is_an_error_not_a_ctrl_c(source, expected, tmp_path):
    (tmp_path / "interrupting.py").write_text(source)
    line = one_error_line(run("check_gradients", tmp_path / "interrupting.py"))
    assert line == (
        f"error: {tmp_path / 'interrupting.py'}: its code raised KeyboardInterrupt {expected}, "
        "no Ctrl-C"
    )


def test_a_file_that_prints_gets_its_lines_and_ours(tmp_path):
    printing = COMPILED.replace("def model():\n", "def model():\n    print('building the net')\n")
    (tmp_path / "printing.py").write_text("print('imported')\n" + printing)
    done = run_in_process(check_gradients, tmp_path / "printing.py")
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[:2] == ["imported", "building the net"], done.stdout
    assert lines[2].startswith("net/out/kernel: worst "), done.stdout
    assert lines[-1].startswith("float32 gradients within "), done.stdout
    assert "Traceback" not in done.stderr
