"""The migration check names the layer a mistake is in: one seeded fault in one layer of each
port in ``tests/fixtures/layer_faults`` (written so that only that layer differs from the correct
port, which passes), named with and without ``--isolate``; the correct custom-layer ports beside
them flag no layer; ``--list`` pairs the port's layers with the TF1 tensors the TF1 program's
code names; the report's table and JSON hold the same."""

from __future__ import annotations

import functools
import importlib.util
import json
import re
from pathlib import Path

import pytest
from script_runner import load, one_error_line, run_in_process

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
CONV_NET = ROOT / "examples" / "migrations" / "conv_net"


def fixture_lists() -> tuple[list[dict], list[dict]]:
    spec = importlib.util.spec_from_file_location(
        "layer_faults", FIXTURES / "layer_faults" / "faults.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.FAULTS, module.CORRECT


FAULTS, CORRECT = fixture_lists()
STEPS = 1


@functools.cache
def recorded(tf1: str, outputs: str | None, keep: tuple[str, ...]):
    """One record per TF1 program, shared by its ports in this process."""
    from backprop_suite.migration import run_tf1
    from backprop_suite.migration.tf1.old_program import old_program

    return run_tf1(old_program(str(ROOT / tf1), outputs=outputs), STEPS, keep=keep)


def checked(entry: dict, **options):
    from backprop_suite.migration import Options, check_port
    from backprop_suite.migration.port.loading import port_program

    module = port_program(str(FIXTURES / entry["port"]))[0]
    keep = tuple(getattr(module, "WEIGHT_MAP", None) or {})  # state it compares, as check_migration
    record = recorded(entry["tf1"], entry["outputs"], keep)
    chosen = Options(steps=STEPS, envelope="off", isolate=True, **options)
    return check_port(record, str(FIXTURES / entry["port"]), chosen)


@pytest.mark.parametrize("entry", FAULTS, ids=[Path(f["port"]).stem for f in FAULTS])
def test_a_seeded_fault_is_named_in_its_layer_with_and_without_isolation(entry):
    report = checked(entry)
    assert report.failed is not None and report.failed.stage == entry["stage"], report.text()
    layers = report.layers
    assert layers.first == entry["layer"], report.text()
    assert layers.first_alone == entry["layer"], report.text()
    if entry["layer"] is None:
        assert layers.summary.startswith("no layer's"), report.text()
    else:
        assert report.text().splitlines()[-1].endswith(f"in layer {entry['layer']}")


@pytest.mark.parametrize("entry", CORRECT, ids=[Path(f["port"]).stem for f in CORRECT])
def test_a_correct_custom_layer_port_flags_no_layer(entry):
    report = checked(entry, layers="always")
    assert report.agrees, report.text()
    assert [row.verdict for row in report.layers.rows] == ["agrees"] * len(report.layers.rows)
    assert report.layers.summary == "every layer agrees"


def test_list_pairs_each_layer_with_the_tensors_the_tf1_code_computes_between_them():
    done = run_in_process(
        load("check_migration"), str(CONV_NET / "tf1.py"), str(CONV_NET / "keras3.py"), "--list"
    )
    assert done.returncode == 0, done.stderr
    listed = done.stdout.split("layers (the port's", 1)[1]
    # tf1.py: h_pool1 = max_pool(...), h_pool2_flat = reshape(...), h_fc1_drop = dropout(...)
    # and y_conv = matmul(...) + b_fc2, its fourth addition
    outputs = [line.split()[1] for line in listed.splitlines() if "output " in line]
    assert outputs == ["MaxPool:0", "Reshape:0", "dropout/SelectV2:0", "add_3:0"], listed
    held = r"conv2d_\d+ \+ max_pooling2d_\d+ \+ flatten(_\d+)?: TF1's Variable_2, Variable_3"
    assert re.search(held, listed), listed  # Keras numbers unnamed layers per process


def test_the_table_and_the_json_name_the_same_layer(tmp_path):
    wrong = FIXTURES / "wrong_ports" / "conv_net_keep_prob_as_rate.py"
    out = tmp_path / "report.json"
    done = run_in_process(
        load("check_migration"),
        str(CONV_NET / "tf1.py"),
        str(wrong),
        "--steps",
        "2",
        "--envelope",
        "off",
        "--json",
        str(out),
    )
    assert done.returncode == 1, done.stderr
    found = json.loads(out.read_text())["layers"]
    row = next(r for r in found["rows"] if r["name"] == found["first"])
    assert any("dropout" in name for name in row["layers"]) and "keep_prob" in row["hint"]
    assert f"disagree: stopped at the forward stage, in layer {found['first']}" in done.stdout
    assert found["unit"] == "tolerances" and found["step"] == 1


@pytest.mark.parametrize(
    "args, words",
    [
        (["--layer-map", "pool"], "--layer-map takes LAYER=TENSOR"),
        (["--layers", "sometimes"], "invalid choice"),
        (["--layer-map", "a=X", "--layer-map", "a=Y"], "--layer-map pairs ['a'] more than once"),
    ],
)
def test_bad_layer_options_are_one_error_line(args, words):
    done = run_in_process(
        load("check_migration"), str(CONV_NET / "tf1.py"), str(CONV_NET / "keras3.py"), *args
    )
    assert words in one_error_line(done)


def test_a_layer_without_variables_named_by_layer_map_is_a_row_of_its_own():
    from backprop_suite.migration import Options, check_port, run_tf1

    record = run_tf1(str(CONV_NET / "tf1.py"), STEPS)
    wrong = FIXTURES / "layer_faults" / "conv_net_fc1_keep_prob_as_rate.py"
    options = Options(steps=STEPS, envelope="off", layer_map=(("pool1", "MaxPool"),))
    layers = check_port(record, str(wrong), options).layers
    outputs = {row.name: row.tf1_output for row in layers.rows}
    # tf1.py: h_pool1 = max_pool_2x2(tf.nn.relu(conv2d(x, W_conv1) + b_conv1))
    assert outputs["conv1"] == "Relu:0" and outputs["pool1"] == "MaxPool:0"
    assert [row.name for row in layers.rows] == ["conv1", "pool1", "conv2", "fc1", "fc2"]
    assert layers.first == "fc1"


def test_an_nhwc_tensor_is_compared_with_an_nchw_one_by_its_axes_lengths():
    import numpy as np

    from backprop_suite.migration.verdict.layer_sides import in_layout

    nhwc = np.arange(2 * 3 * 4 * 5).reshape(2, 3, 4, 5)
    assert np.array_equal(in_layout(nhwc, (2, 5, 3, 4)), np.transpose(nhwc, (0, 3, 1, 2)))
    assert in_layout(nhwc, (2, 60)).shape == (2, 60)
    assert in_layout(nhwc, (2, 61)) is None


def test_watching_a_models_layers_leaves_them_as_they_were_even_when_the_call_raises():
    import keras
    import numpy as np

    from backprop_suite.migration.port.blocks import Block, Crossing

    inner = keras.Sequential([keras.layers.Dense(3, name="inner_dense")], name="inner")
    model = keras.Sequential([keras.Input((2,)), inner, keras.layers.Dense(1, name="last")])
    layers = [inner.layers[0], model.layers[-1]]
    blocks = [Block(layer.name, layer, []) for layer in layers]
    crossing = Crossing(blocks)
    with pytest.raises(RuntimeError), crossing.watching():
        model(np.ones((4, 2), np.float32))
        raise RuntimeError("the port's own error")
    assert crossing.order == [0, 1]
    assert all("call" not in vars(layer) for layer in layers)
    assert np.shape(crossing.given[1]) == (4, 3)


def test_a_layer_map_tensor_the_graph_lacks_leaves_the_verdict_and_says_why():
    wrong = FIXTURES / "layer_faults" / "conv_net_fc1_keep_prob_as_rate.py"
    done = run_in_process(
        load("check_migration"),
        str(CONV_NET / "tf1.py"),
        str(wrong),
        "--steps",
        "1",
        "--envelope",
        "off",
        "--layer-map",
        "pool1=NoSuchTensor",
    )
    assert done.returncode == 1, done.stderr
    assert "layers: not localised: --layer-map names TF1's NoSuchTensor:0" in done.stdout
