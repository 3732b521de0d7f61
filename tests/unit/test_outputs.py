"""Output paths are checked before the work and leave nothing behind; writes are atomic."""

import os
import stat

import numpy as np
import pytest

from backprop_suite.core import save_params
from backprop_suite.core.outputs import (
    EXIT_WRITE_FAILED,
    Writes,
    check_output_file,
    check_output_folder,
    replacing,
    undo_unfinished,
    write_text,
)


def tree(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_a_new_file_in_new_folders_passes_and_leaves_nothing(tmp_path):
    check_output_file(tmp_path / "a" / "b" / "result.json", "--json")
    check_output_folder(tmp_path / "c" / "d", "--plot", ["loss_curves.png"])
    assert tree(tmp_path) == []


def test_an_existing_file_passes_and_is_left_as_it_was(tmp_path):
    (tmp_path / "result.json").write_text("old")
    check_output_file(tmp_path / "result.json", "--json")
    assert tree(tmp_path) == ["result.json"] and (tmp_path / "result.json").read_text() == "old"


@pytest.mark.parametrize(
    "path,message",
    [
        ("{d}/folder", "--json {d}/folder: names a folder, not a file"),
        ("{d}/new/", "--json {d}/new/: names a folder, not a file"),
        ("{d}/a_file/result.json", "--json {d}/a_file/result.json: {d}/a_file is a file"),
        ("{d}/a_file/sub/result.json", "cannot make the folder (Not a directory)"),
        ("/proc/x.json", "--json /proc/x.json: cannot write there"),
        ("", "--json: the path is empty"),
    ],
)
def test_a_bad_file_path_is_named_with_its_reason(tmp_path, path, message):
    (tmp_path / "folder").mkdir()
    (tmp_path / "a_file").write_text("")
    before = tree(tmp_path)
    with pytest.raises(ValueError) as error:
        check_output_file(path.format(d=tmp_path), "--json")
    assert message.format(d=tmp_path) in str(error.value)
    assert tree(tmp_path) == before


@pytest.mark.parametrize(
    "path,files,message",
    [
        ("{d}/a_file", (), "--plot {d}/a_file: is a file, not a folder"),
        ("{d}/a_file/sub", (), "--plot {d}/a_file/sub: cannot make the folder"),
        ("{d}", ("folder",), "--plot {d}: {d}/folder is a folder, not a file"),
        ("/proc/figures", (), "--plot /proc/figures: cannot make the folder"),
        ("/proc", (), "--plot /proc: cannot write there"),
        ("", (), "--plot: the path is empty"),
    ],
)
def test_a_bad_folder_is_named_with_its_reason(tmp_path, path, files, message):
    (tmp_path / "folder").mkdir()
    (tmp_path / "a_file").write_text("")
    before = tree(tmp_path)
    with pytest.raises(ValueError) as error:
        check_output_folder(path.format(d=tmp_path), "--plot", files)
    assert message.format(d=tmp_path) in str(error.value)
    assert tree(tmp_path) == before


def test_a_read_only_folder_fails_the_check(tmp_path):
    if os.geteuid() == 0:
        # root writes through permission bits; /proc above stands for an unwritable folder
        folder = "/proc/self"
    else:
        folder = tmp_path / "locked"
        folder.mkdir()
        folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    with pytest.raises(ValueError, match="cannot write there"):
        check_output_file(f"{folder}/result.json", "--json")


def test_replacing_writes_the_whole_file_with_the_usual_permissions(tmp_path):
    write_text(tmp_path / "a.json", "new\n")
    (tmp_path / "b.json").write_text("plain open()")
    assert (tmp_path / "a.json").read_text() == "new\n"
    mode = stat.S_IMODE
    assert mode((tmp_path / "a.json").stat().st_mode) == mode((tmp_path / "b.json").stat().st_mode)
    assert tree(tmp_path) == ["a.json", "b.json"]


@pytest.mark.parametrize(
    "interruption", [OSError(28, "No space left on device"), KeyboardInterrupt()]
)
def test_an_interrupted_write_leaves_the_old_file_whole_and_no_temporary(tmp_path, interruption):
    target = tmp_path / "result.json"
    target.write_text("the good result")
    with pytest.raises(type(interruption)):
        with replacing(target) as file:
            file.write(b"half of the new res")
            raise interruption
    assert target.read_text() == "the good result"
    assert tree(tmp_path) == ["result.json"]


def test_save_params_adds_the_suffix_as_numpy_does_and_writes_atomically(tmp_path):
    params = {"m1": np.eye(2), "b1": np.zeros(2)}
    save_params(tmp_path / "weights", params)
    np.savez(tmp_path / "numpy_weights", **params)
    assert tree(tmp_path) == ["numpy_weights.npz", "weights.npz"]
    with np.load(tmp_path / "weights.npz") as saved:
        np.testing.assert_array_equal(saved["m1"], params["m1"])


def test_writes_that_fail_are_reported_and_the_results_kept_on_stdout(capsys):
    writes = Writes()

    def fail():
        raise OSError(28, "No space left on device")

    assert writes.attempt("--json", "out/r.json", fail) is False
    assert writes.attempt("--plot", "out/", lambda: None) is True
    assert writes.finish(lambda: '{"agree": true}') == EXIT_WRITE_FAILED
    out = capsys.readouterr()
    assert out.err.splitlines() == [
        "error: --json out/r.json: could not write (No space left on device)",
        "error: the results are kept as JSON on stdout",
    ]
    assert out.out == '{"agree": true}\n'
    assert Writes().finish(lambda: "unused") is None


def test_a_ctrl_c_among_the_writes_takes_away_what_they_made_and_nothing_else(tmp_path):
    """As a script interrupted while it writes its outputs: the JSON and the weights already
    written go, the folder the run made goes, and a file the user had in a folder stays."""
    (tmp_path / "figures").mkdir()
    (tmp_path / "figures" / "mine.png").write_bytes(b"the user's")

    def weights() -> None:
        (tmp_path / "weights").mkdir()
        save_params(tmp_path / "weights" / "tf.npz", {"m1": np.ones((2, 3))})

    def a_figure_then_ctrl_c() -> None:
        write_text(tmp_path / "figures" / "loss_curves.png", "png")
        raise KeyboardInterrupt

    writes = Writes()
    assert writes.attempt(
        "--json", tmp_path / "r.json", lambda: write_text(tmp_path / "r.json", "{}")
    )
    assert writes.attempt("--save-weights", tmp_path / "weights", weights)
    with pytest.raises(KeyboardInterrupt):
        writes.attempt("--plot", tmp_path / "figures", a_figure_then_ctrl_c)
    undo_unfinished()
    assert tree(tmp_path) == ["figures", "figures/mine.png"]


def test_finished_writes_stay_after_a_later_ctrl_c(tmp_path):
    writes = Writes()
    writes.attempt("--json", tmp_path / "r.json", lambda: write_text(tmp_path / "r.json", "{}"))
    assert writes.finish() is None
    undo_unfinished()
    assert tree(tmp_path) == ["r.json"]
