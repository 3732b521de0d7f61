"""scripts/explain.py: the numbers it prints are the gradient, the article's, and checked."""

import re

import pytest
import script_runner as scripts

import tf_impl
from backprop_suite.core import TrainConfig, init_params, xor_data

pytestmark = pytest.mark.slow


def run(*args):
    return scripts.run("explain", *args)


def run_in_process(*args):
    # TensorFlow is already imported here: a fraction of a fresh process's seconds
    return scripts.run_in_process(scripts.load("explain"), *args)


def printed(pattern, text):
    return float(re.search(pattern, text).group(1))


@pytest.mark.parametrize(
    "weight,key,index,runner",
    [(None, "m2", (0, 0), run), ("m1[1,2]", "m1", (1, 2), run_in_process)]
    + [("b1[0]", "b1", (0,), run_in_process)],
)
def test_the_printed_gradient_and_update_are_gradient_tapes(weight, key, index, runner):
    out = runner(*(["--weight", weight] if weight else []))
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""
    assert out.stdout.rstrip().endswith("all checks hold")
    cfg = TrainConfig(dtype="float64")
    params = init_params(cfg)
    x, y = xor_data("float64")
    _, grads = tf_impl.loss_and_grads(params, x, y, cfg)
    name = re.escape(f"{key}[{','.join(map(str, index))}]")
    gradient = printed(rf"dE/d{name} = ([+-][\d.]+)", out.stdout)
    assert gradient == pytest.approx(grads[key][index], abs=1e-10)
    updated = printed(rf"4\. Update: {name} = .* = ([\d.-]+)", out.stdout)
    assert updated == pytest.approx(params[key][index] - grads[key][index], abs=1e-10)
    products = [float(v) for v in re.findall(r"sample \d: .* = ([+-][\d.]+)$", out.stdout, re.M)]
    assert sum(products) == pytest.approx(gradient, abs=1e-7)


def test_the_article_example_gives_the_articles_numbers():
    out = run_in_process("--article")
    assert out.returncode == 0, out.stderr
    # the article: (0.1 * 0.27) + (0.2 * 0.57) + (0.4 * 1) = 0.541, f(0.541) = 0.632
    net = printed(
        r"net h1\[0\] = \(0.1 × 0.2700\) \+ \(0.2 × 0.5700\) \+ 0.4000 = ([\d.]+)", out.stdout
    )
    assert net == pytest.approx(0.541, abs=1e-6)
    assert round(printed(r"sigmoid\(0.541000\) = ([\d.]+)", out.stdout), 3) == 0.632
    assert "Backpropagation for m2[0,1] (from h1[0] into y_out[1])" in out.stdout  # w6


# The article's worked example as it prints it (the seed article's text, "The forward pass" and
# "The error function"): h1's net input and output, the outputs it assumes ("let's say"), each
# output's error and the total. Quoted here, not read from the code under test.
ARTICLE_H1 = (0.541, 0.632)
ARTICLE_OUTPUTS = (0.735, 0.455)
ARTICLE_ERRORS = (0.0276, 0.001)
ARTICLE_E = 0.0286


def line_with(start, text):
    found = [line for line in text.splitlines() if line.strip().startswith(start)]
    assert len(found) == 1, (start, text)
    return found[0]


def test_the_article_example_labels_the_articles_numbers_and_the_completed_ones():
    out = run_in_process("--article")
    assert out.returncode == 0, out.stderr
    text = out.stdout
    h1 = line_with("net h1[0]", text)
    assert h1.endswith(f"[article] (the article: {ARTICLE_H1[0]}, {ARTICLE_H1[1]})")
    assert "[completed]" in line_with("net h1[1]", text)
    for unit, article in enumerate(ARTICLE_OUTPUTS):
        line = line_with(f"net y_out[{unit}]", text)
        assert line.endswith(f"[completed] (the article's o{unit + 1}: {article})")
        computed = printed(r"\) = ([\d.]+)  \[", line)
        # the completed output is not the article's: the weights it came from are the seed's
        assert round(computed, 3) != article
    e_line = line_with("E = ", text)
    assert (
        e_line.endswith("[completed]") and round(printed(r"E = ([\d.]+)", e_line), 4) != ARTICLE_E
    )
    # the article's own error, redone from its printed outputs, rounds to what it prints
    redone = line_with("[article] the article's E", text)
    total = sum(0.5 * (0.5 - o) ** 2 for o in ARTICLE_OUTPUTS)
    assert round(total, 4) == ARTICLE_E
    assert f"= {total:.6g} (it prints {ARTICLE_ERRORS[0]} + {ARTICLE_ERRORS[1]} = {ARTICLE_E})" in (
        redone
    )
    header = text[: text.index("1. Forward pass")]
    assert "[article] printed in the article" in header and "[completed]" in header
    for number in (*ARTICLE_OUTPUTS, *ARTICLE_ERRORS, ARTICLE_E, *ARTICLE_H1):
        assert str(number) in header, number
    assert "drawn from --seed 0" in header


@pytest.mark.parametrize(
    "args,message",
    [
        (["--weight", "m3[0,0]"], "layers (2, 3, 1) have no m3"),
        (["--weight", "m1[2,0]"], "m1 has shape (2, 3)"),
        (["--weight", "w6"], "--weight takes m<layer>[i,j] or b<layer>[j]"),
        (["--lr", "-1"], "learning_rate must be positive"),
        (["--optimizer", "nadam"], "unknown optimizer 'nadam'"),
        (["--optimizer", "momentum"], "momentum needs optimizer_args['momentum']"),
        (["--optimizer", "adam", "--optimizer-args", "beta1=2"], "beta1 must be in [0, 1)"),
    ],
)
def test_bad_input_exits_2(args, message):
    out = run(*args)
    assert out.returncode == 2 and out.stderr.startswith("error: ") and message in out.stderr
    assert "Traceback" not in out.stderr


def test_the_adam_walk_prints_kingma_and_bas_first_step_and_checks_its_slots():
    # the first step of Adam (Kingma and Ba, algorithm 1, t = 1): m = (1 - beta1) g,
    # v = (1 - beta2) g², w -= rate · sqrt(1 - beta2) / (1 - beta1) · m / (sqrt(v) + epsilon)
    out = run_in_process("--optimizer", "adam", "--weight", "m1[0,1]", "--lr", "0.1")
    assert out.returncode == 0, out.stderr
    cfg = TrainConfig(optimizer="adam", learning_rate=0.1, dtype="float64")
    params = init_params(cfg)
    _, grads = tf_impl.loss_and_grads(params, *xor_data("float64"), cfg)
    g = grads["m1"][0, 1]
    m, v = 0.1 * g, 0.001 * g**2
    moved = params["m1"][0, 1] - 0.1 * (0.001**0.5 / 0.1) * m / (v**0.5 + 1e-8)
    printed = dict(re.findall(r"slot '(\w+)' of m1\[0,1\]: \S+ -> (\S+)", out.stdout))
    assert float(printed["m"]) == pytest.approx(m, abs=1e-10)
    assert float(printed["v"]) == pytest.approx(v, abs=1e-10)
    assert re.search(r"-> (\S+)\n\nChecks", out.stdout).group(1) == f"{moved:.10f}"
    assert "slot 'v' after the update (TF1's kernel)" in out.stdout
    assert out.stdout.rstrip().endswith("all checks hold")
