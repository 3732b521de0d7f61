"""The gallery's expectations (examples/migrations/) and the check of one of its programs,
shared by tests/migration/test_migration_check.py and, for the data-parallel towers, by
tests/distributed/test_towers_migration.py, where the CPU is split."""

from __future__ import annotations

from pathlib import Path

from backprop_suite.migration import STAGES, Options, check_port, run_tf1
from backprop_suite.verify.rounding import MARGIN

ROOT = Path(__file__).resolve().parent.parent
GALLERY = ROOT / "examples" / "migrations"
WRONG = ROOT / "tests" / "fixtures" / "wrong_ports"
STEPS = 10
F32 = 1.2e-7  # one float32 rounding of values near 1: the bound where "not bit for bit" is asserted

# program -> {stage: largest difference allowed over 10 steps}; a stage not named is bit for bit.
NOT_BIT_FOR_BIT = {
    "seed_xor": {},
    "softmax_regression": {},
    # The steps after the first part in the last bit (2.4e-7 after 50 steps); the first is exact.
    "linear_regression": {"many steps": 3 * F32},
    # The gradients of the ReLU layers' biases part by up to 3e-8 (the kernels' are exact), in
    # eager and with Grappler off on either side alike: TF1's gradient graph sums the batch
    # otherwise. Everything after carries that difference.
    "mlp_adam": {"gradients": F32, "one step": F32, "many steps": 3 * F32},
    "autoencoder_rmsprop": {"gradients": F32, "many steps": F32},
    # Also the forward pass, but only inside tf.function (eager Keras gives TF1's outputs exactly).
    "conv_net": {"forward": F32, "gradients": F32, "one step": F32, "many steps": 3 * F32},
    # BasicLSTMCell multiplies concat([x, h]) by one kernel and adds forget_bias at every step;
    # Keras's LSTM sums x @ kernel and h @ recurrent_kernel and holds the forget bias in bias.
    "lstm": {"forward": 2 * F32, "gradients": F32, "one step": F32, "many steps": 6 * F32},
    # Each TF1 tower runs the net on 4 rows, the port's forward and loss on all 8: one function
    # on 8 rows and on two halves of 4 differs by 6e-8 (Eigen's matmul takes another path).
    "towers": {"forward": F32, "loss": F32, "gradients": F32, "one step": F32, "many steps": F32},
}

# program -> [(wrong port, the stage it fails at, words its location or hint must hold)]
MISTAKES = {
    "seed_xor": [("seed_xor_mse", "loss", "a mean over the batch where TF1 summed")],
    "softmax_regression": [("softmax_without_from_logits", "loss", "from_logits=True is missing")],
    "mlp_adam": [
        ("mlp_keras_adam_defaults", "one step", "epsilon=1e-7"),
        ("mlp_transposed_weight", "forward", "mlp/hidden_2/kernel (TF1 Variable_1) is transposed"),
    ],
    "autoencoder_rmsprop": [("autoencoder_keras_rmsprop", "one step", "Keras's RMSprop is not")],
    "conv_net": [("conv_net_keep_prob_as_rate", "forward", "rate=0.25")],
    "lstm": [
        ("lstm_gates_not_reordered", "forward", "wrong order"),
        ("lstm_forget_bias_dropped", "forward", "forget_bias=1.0"),
    ],
    "linear_regression": [],
    "towers": [("towers_replica_mean", "one step", "every update is 2x TF1's")],
}

# wrong port -> what the layer localisation names: a word of the named layer's row (its name,
# or a layer without variables it holds), or None where the mistake is no layer's (the loss,
# the optimizer)
MISTAKE_LAYERS = {
    "seed_xor_mse": None,
    "softmax_without_from_logits": None,
    "mlp_keras_adam_defaults": None,
    "mlp_transposed_weight": "hidden_2",
    "autoencoder_keras_rmsprop": None,
    "conv_net_keep_prob_as_rate": "dropout",
    "lstm_gates_not_reordered": "lstm",
    "lstm_forget_bias_dropped": "lstm",
    "towers_replica_mean": None,
}

# program -> its other correct ports, held to the same bounds as keras3.py
OTHER_PORTS = {"towers": ["tf2.py"]}  # the strategy.run custom loop

# program -> [a port that agrees only to rounding]: Keras's "mse" sums each row, then the rows,
# where TF1 sums every element at once. Whether the two orders round the loss apart depends on
# the kernels that computed the outputs: on oneDNN's they round alike (the loss stage bit for
# bit, the gradients 9.3e-10 apart, as the correct port's), on Eigen's the loss parts by 3.0e-8
# (measured on an AMD EPYC with AVX-512, TF_ENABLE_ONEDNN_OPTS=1 and 0; the AVX2 EPYC runs
# Eigen's by default). Every stage stays within one float32 rounding on both.
ROUNDING_ONLY = {"autoencoder_rmsprop": ["autoencoder_keras_mse"]}


def check_gallery_program(program: str) -> None:
    """The program's port agrees within its bounds, and each wrong port fails where expected."""
    record = run_tf1(str(GALLERY / program / "tf1.py"), STEPS)
    report = check_port(record, str(GALLERY / program / "keras3.py"), Options(steps=STEPS))
    assert [s.stage for s in report.stages] == list(STAGES), report.text()
    assert report.agrees, report.text()
    bounds = NOT_BIT_FOR_BIT[program]
    for stage in report.stages:
        assert stage.largest <= bounds.get(stage.stage, 0.0), report.text()
    for port in OTHER_PORTS.get(program, []):
        other = check_port(record, str(GALLERY / program / port), Options(steps=STEPS))
        assert other.agrees, other.text()
        for stage in other.stages:
            assert stage.largest <= bounds.get(stage.stage, 0.0), f"{port}:\n{other.text()}"

    # each mistake fails far outside the tolerance, at a stage the correct port passes within
    # it; how many of TF1's envelopes out is check_first_step_mistake's and the envelope tests'
    wrong_options = Options(steps=STEPS, envelope="off")
    for wrong, stage, words in MISTAKES[program]:
        wrong_report = check_port(record, str(WRONG / f"{wrong}.py"), wrong_options)
        failed = wrong_report.failed
        assert failed is not None and failed.stage == stage, f"{wrong}:\n{wrong_report.text()}"
        assert words in f"{failed.where} {failed.hint}", f"{wrong}:\n{wrong_report.text()}"
        check_named_layer(wrong_report, MISTAKE_LAYERS[wrong], wrong)

    for other in ROUNDING_ONLY.get(program, []):
        other_report = check_port(record, str(WRONG / f"{other}.py"), Options(steps=STEPS))
        assert other_report.agrees, other_report.text()
        largest = {s.stage: s.largest for s in other_report.stages}
        assert largest["weights"] == largest["forward"] == 0, other_report.text()
        assert 0 < max(largest.values()) <= F32, other_report.text()


def check_named_layer(report, expected: str | None, wrong: str) -> None:
    """The report's layer localisation names the layer whose row holds ``expected``, or says
    the mistake is no layer's (``expected`` None)."""
    found = report.layers
    summary = found if isinstance(found, str) else found.summary
    if expected is None:
        assert summary.startswith("no layer's"), f"{wrong}:\n{report.text()}"
        return
    row = next(row for row in found.rows if row.name == found.first)
    assert any(expected in name for name in row.layers), f"{wrong}:\n{report.text()}"
    assert f"in layer {found.first}" in report.text().splitlines()[-1]


def check_first_step_mistake(program: str, wrong: str) -> None:
    """A wrong port that fails at the first step fails there by many envelopes, measured."""
    record = run_tf1(str(GALLERY / program / "tf1.py"), 3)
    options = Options(steps=3, envelope="always", layers="off")  # the layers: check_named_layer
    report = check_port(record, str(WRONG / f"{wrong}.py"), options)
    failed = report.failed
    assert failed is not None and failed.stage == "one step", report.text()
    assert failed.envelopes > 10 * MARGIN, report.text()
