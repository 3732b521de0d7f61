"""The sweep's library: the watch on train_many, the grid, the criteria, the cells' verdicts
against nets trained one at a time, and the reports."""

import numpy as np
import pytest

import manual_impl
from backprop_suite.core import TrainConfig, init_params, xor_data
from backprop_suite.core.many import init_stack
from backprop_suite.sweep.criteria import parse_criterion
from backprop_suite.sweep.grid import Grid, parse_init, parse_seeds, parse_shard, shard_seeds
from backprop_suite.sweep.report import record_of
from backprop_suite.sweep.run import NOT_SOLVED, train_grid
from manual_impl.many import train_many

SIDES = parse_criterion("sides")
X, Y = xor_data()


def grid(**kwargs):
    values = {
        "layers": ((2, 3, 1),),
        "rates": (1.0,),
        "optimizers": ("sgd",),
        "inits": ("uniform",),
        "steps": (500,),
    }
    return Grid(**{**values, **kwargs})


@pytest.mark.parametrize("batch_size", [None, 3])
def test_the_watch_sees_every_update_count_and_the_outputs_a_shorter_run_ends_with(batch_size):
    cfg = TrainConfig(steps=30, batch_size=batch_size, dtype="float64")
    stack = init_stack(cfg, range(5))
    seen = {}
    result = train_many(stack, X, Y, cfg, watch=lambda t, y_out: seen.setdefault(t, y_out.copy()))
    assert sorted(seen) == list(range(31))
    np.testing.assert_array_equal(seen[30], result.outputs)
    for updates in (1, 17):
        shorter = train_many(stack, X, Y, TrainConfig(steps=updates, batch_size=batch_size))
        np.testing.assert_allclose(seen[updates], shorter.outputs, atol=1e-6)
    shorter = train_many(stack, X, Y, TrainConfig(steps=17, batch_size=batch_size, dtype="float64"))
    np.testing.assert_array_equal(seen[17], shorter.outputs)


@pytest.mark.parametrize("rate", [1.0, 2.0])
def test_a_nets_vectorised_run_does_not_depend_on_the_nets_beside_it(rate):
    # what makes shards merge exactly and lets --check train its sample again on its own
    cfg = TrainConfig(learning_rate=rate, steps=300)
    together = train_many(init_stack(cfg, range(3000)), X, Y, cfg)
    for seed in (5, 1234, 2999):
        alone = train_many(init_stack(cfg, [seed]), X, Y, cfg)
        np.testing.assert_array_equal(alone.outputs[0], together.outputs[seed])
        np.testing.assert_array_equal(alone.losses[0], together.losses[seed])


def test_losses_can_be_left_out_of_a_long_run_without_changing_it():
    cfg = TrainConfig(steps=50)
    stack = init_stack(cfg, range(20))
    kept, left_out = train_many(stack, X, Y, cfg), train_many(stack, X, Y, cfg, record_losses=False)
    assert left_out.losses.shape == (20, 0)
    np.testing.assert_array_equal(kept.outputs, left_out.outputs)


def test_the_first_200_seeds_fail_where_nets_trained_one_at_a_time_fail():
    # tests/agreement/test_seed_program_run.py found these seven with manual_impl.train, one net at
    # a time
    (cell,) = train_grid(grid(), range(200), SIDES)
    assert list(cell.seeds[~cell.solved]) == [56, 60, 132, 150, 172, 179, 198]


@pytest.mark.parametrize("seed", [0, 7, 56])
def test_steps_until_solved_is_the_first_step_count_a_lone_net_has_learned_at(seed):
    (cell,) = train_grid(grid(steps=(5000,)), [seed], SIDES)
    first = int(cell.solved_at[0])
    assert first != NOT_SOLVED

    def learned_after(steps):
        cfg = TrainConfig(steps=steps)
        outputs = manual_impl.train(init_params(cfg, seed), X, Y, cfg).outputs
        return bool(np.all((outputs > 0.5) == (Y > 0.5)))

    assert learned_after(first) and not learned_after(first - 1)


def test_a_short_cell_read_off_a_long_run_is_the_short_run():
    seeds = range(40)
    short = train_grid(grid(steps=(300,)), seeds, SIDES)
    long = train_grid(grid(steps=(300, 900)), seeds, SIDES)
    assert [cell.steps for cell in long] == [300, 900]
    assert record_of(long[0]) == record_of(short[0])
    np.testing.assert_array_equal(long[0].outputs, short[0].outputs)


def test_each_cell_trains_its_own_grid_values():
    cells = train_grid(
        grid(layers=((2, 2, 1), (2, 4, 1)), rates=(0.5, 2.0), optimizers=("sgd", "adam")),
        [3, 4],
        SIDES,
    )
    assert len(cells) == 8
    cfg = TrainConfig(layers=(2, 4, 1), learning_rate=2.0, optimizer="adam")
    lone = manual_impl.train(init_params(cfg, 4), X, Y, cfg)
    (cell,) = [
        c
        for c in cells
        if c.run.cfg.layers == (2, 4, 1)
        and c.run.cfg.learning_rate == 2.0
        and c.run.cfg.optimizer == "adam"
    ]
    np.testing.assert_allclose(cell.outputs[1], lone.outputs, atol=1e-5)
    lone_loss = np.square(lone.outputs - Y).sum()
    assert cell.final_loss[1] == pytest.approx(lone_loss, rel=1e-4)


@pytest.mark.parametrize(
    "outputs,expected",
    [
        ([0.4, 0.4, 0.6, 0.6], {"sides": True, "within:0.15": False, "loss:0.7": True}),
        ([0.1, 0.1, 0.9, 0.9], {"sides": True, "within:0.15": True, "loss:0.05": True}),
        ([0.1, 0.1, 0.9, 0.5], {"sides": False, "within:0.15": False, "loss:0.3": True}),
        ([0.1, np.nan, 0.9, 0.9], {"sides": False, "within:0.15": False, "loss:0.3": False}),
    ],
)
def test_each_criterion_judges_outputs_for_0_0_1_1_as_defined(outputs, expected):
    y0 = np.array([[0.0], [0.0], [1.0], [1.0]])
    y_out = np.array(outputs)[None, :, None]
    for text, learned in expected.items():
        assert bool(parse_criterion(text).learned(y_out, y0, TrainConfig())[0]) is learned, text


def test_a_loss_criterion_uses_the_configured_loss():
    y0 = np.array([[0.0], [1.0]])
    y_out = np.array([[[0.2], [0.8]]])  # sum of squares 0.08, half 0.04, mean 0.04
    loss_below = parse_criterion("loss:0.05").learned
    assert not loss_below(y_out, y0, TrainConfig(loss="sum_squares"))[0]
    assert loss_below(y_out, y0, TrainConfig(loss="half_sum_squares"))[0]
    assert loss_below(y_out, y0, TrainConfig(loss="mean_squares"))[0]


@pytest.mark.parametrize("layers", [(2, 3, 1), (2, 4, 3, 1)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_init_range_of_the_seed_program_draws_the_seed_programs_weights(layers, dtype):
    base = TrainConfig(dtype=dtype)
    expected = init_stack(TrainConfig(layers=layers, dtype=dtype), range(6))  # init_params
    for init in ("uniform", parse_init("0.1:0.9")):
        drawn = grid(layers=(layers,), inits=(init,), base=base).runs()[0].stack(range(6))
        assert all(np.array_equal(drawn[key], expected[key]) for key in expected)
        assert all(drawn[key].dtype == dtype for key in expected)
    wide = grid(inits=(parse_init("-1:1"),)).runs()[0].stack(range(200))
    drawn = np.concatenate([value.ravel() for value in wide.values()])
    assert drawn.min() >= -1 and drawn.max() <= 1 and drawn.min() < -0.9 and drawn.max() > 0.9
    xavier = grid(inits=("xavier",)).runs()[0].stack([5])
    expected = init_params(TrainConfig(init="xavier"), 5)
    assert all(np.array_equal(xavier[key][0], expected[key]) for key in expected)


def test_shards_are_disjoint_cover_every_seed_and_balance():
    seeds = parse_seeds("0:100,500,1000:1003")
    shards = [shard_seeds(seeds, (i, 3)) for i in (1, 2, 3)]
    assert sorted(sum(shards, [])) == seeds
    assert {len(shard) for shard in shards} == {34, 35}


@pytest.mark.parametrize(
    "parse,text,message",
    [
        (parse_seeds, "5:5", "range 5:5 is empty"),
        (parse_seeds, "1,x", "START:STOP ranges and integers"),
        (parse_seeds, "3,3", "names a seed twice"),
        (parse_seeds, "-2:4", "non-negative"),
        (parse_shard, "0/3", "1 <= I <= N"),
        (parse_shard, "4/3", "1 <= I <= N"),
        (parse_shard, "2", "I/N"),
        (parse_init, "1:0", "LOW < HIGH"),
        (parse_init, "he", "uniform, xavier or LOW:HIGH"),
        (parse_criterion, "within:-1", "--criterion takes"),
        (parse_criterion, "best", "--criterion takes"),
    ],
)
def test_bad_grid_values_name_the_problem(parse, text, message):
    with pytest.raises(ValueError, match=message):
        parse(text)


def test_a_grid_checks_every_configuration_when_made():
    with pytest.raises(ValueError, match="momentum"):
        grid(optimizers=("sgd", "momentum"))  # TF1's MomentumOptimizer has no default momentum
    with pytest.raises(ValueError, match="names a value twice"):
        grid(rates=(1.0, 1.0))
    with pytest.raises(ValueError, match="holds no seed"):
        shard_seeds([1, 2], (3, 3))


def test_a_net_that_diverges_is_counted_and_its_loss_is_null():
    relu = Grid(
        layers=((2, 3, 1),),
        rates=(1e38,),
        optimizers=("sgd",),
        inits=("uniform",),
        steps=(20,),
        base=TrainConfig(activation="relu"),
    )
    (cell,) = train_grid(relu, range(4), SIDES)
    record = record_of(cell)
    assert record["diverged"] == 4 and record["solved"] == 0
    assert record["per_seed"]["final_loss"] == [None] * 4


def test_a_failure_is_described_by_how_many_outputs_are_right_undecided_or_wrong():
    # tests/agreement/test_seed_program_run.py: seed 56 ends at 0.050, 0.507, 0.937, 0.497, loss
    # 0.517
    (cell,) = train_grid(grid(), [56, 0], SIDES)
    (shape,) = record_of(cell)["failure_shapes"]
    assert (shape["right"], shape["undecided"], shape["wrong"], shape["nets"]) == (2, 2, 0, 1)
    assert 0.5 < shape["median_loss"] < 0.53


def test_the_profile_times_each_engine_for_each_number_of_nets():
    from backprop_suite.bench.many_nets import step_costs

    rows = step_costs({"manual": train_many}, nets=(1, 50), steps=5, repeats=1)
    assert [(row["impl"], row["nets"]) for row in rows] == [("manual", 1), ("manual", 50)]
    assert rows[0]["overhead_share"] == 1.0
    for row in rows:
        assert row["ns_per_net_step"] * row["nets"] == pytest.approx(row["step_us"] * 1e3)
