"""The figure check itself: a real plot passes; blank, empty, tiny, missing and broken files fail."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pytest
from figures import assert_has_content
from matplotlib import image

from experiments import style
from experiments.style import COLORS, background_figures, figure_writer, plt, save


def test_a_real_plot_passes(tmp_path):
    fig, ax = plt.subplots(figsize=(4, 3))
    x = np.linspace(0, 1, 50)
    ax.plot(x, x**2, color=COLORS["posterior"], label="posterior")
    ax.legend()
    save(fig, tmp_path / "plot.png")
    assert_has_content(tmp_path / "plot.png")


def test_empty_axes_fail(tmp_path):
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.set(xlabel="alpha", ylabel="w", title="nothing drawn")
    save(fig, tmp_path / "empty.png")
    with pytest.raises(AssertionError, match="nothing plotted"):
        assert_has_content(tmp_path / "empty.png")


@pytest.mark.parametrize(
    ("pixels", "message"),
    [
        (np.ones((300, 400, 3)), "one colour"),  # blank white
        (np.zeros((300, 400, 4)), "one colour"),  # fully transparent
        (np.full((300, 400, 3), [0.2, 0.4, 0.8]), "one colour"),  # a colour, but only one
        (np.random.default_rng(0).random((20, 400, 3)), "400 x 20 px"),  # a sliver
    ],
)
def test_blank_or_tiny_images_fail(tmp_path, pixels, message):
    path = tmp_path / "bad.png"
    image.imsave(path, pixels)
    with pytest.raises(AssertionError, match=message):
        assert_has_content(path)


@pytest.mark.parametrize("content", [None, b"", b"not a png"])
def test_a_missing_or_broken_file_fails(tmp_path, content):
    path = tmp_path / "broken.png"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(AssertionError, match="not a readable image"):
        assert_has_content(path)


def _panels(title: str):
    """A figure with the features that make drawing cost: constrained layout, panels, a legend."""
    fig, axes = plt.subplots(2, 3, figsize=(9, 5), layout="constrained")
    x = np.linspace(0, 1, 80)
    for k, ax in enumerate(axes.flat):
        ax.plot(x, np.sin((k + 1) * x), color=COLORS["posterior"], label="posterior")
        ax.set_xscale("log")
        ax.set_title(f"{title} {k}", parse_math=False)
    fig.legend(*axes.flat[0].get_legend_handles_labels(), loc="lower center")
    return fig


def test_figures_drawn_in_the_background_are_the_same_bytes(tmp_path):
    # the second process draws from a pickle: nothing of the figure or of the suite's style may
    # be lost on the way (a lost rcParam changes the bytes)
    save(_panels("cost ($)"), tmp_path / "here.png")
    with figure_writer(background=True):
        save(_panels("cost ($)"), tmp_path / "there.png")
    assert (tmp_path / "there.png").read_bytes() == (tmp_path / "here.png").read_bytes()


def test_a_background_drawing_that_fails_raises_on_leaving(tmp_path):
    with pytest.raises(FileNotFoundError), figure_writer(background=True):
        save(_panels("a"), tmp_path / "no such folder" / "plot.png")


def test_a_failure_inside_is_raised_and_drops_the_waiting_figures(tmp_path):
    with pytest.raises(KeyboardInterrupt), figure_writer(background=True):
        save(_panels("a"), tmp_path / "no such folder" / "plot.png")  # its error is not raised
        raise KeyboardInterrupt


def test_background_drawing_only_from_the_command_line_on_a_spare_core(monkeypatch):
    cores = os.cpu_count() or 1
    for sharing, expected in ((0, False), (cores, False), (cores - 1, cores > 1)):
        monkeypatch.setattr(style, "SHARING_CORES", sharing)
        assert background_figures() == expected, sharing


def test_a_script_without_a_main_guard_runs_an_experiment(tmp_path):
    # the spawned drawing process re-imports the main module: a script that runs an experiment
    # at its top level would run again there; only the command line draws in the background
    import subprocess
    import sys

    script = tmp_path / "mine.py"
    script.write_text(
        "from experiments.__main__ import main\n"
        f"assert main(['knobs', '--quick', '--quiet', '--out', {str(tmp_path / 'out')!r}]) == 0\n"
    )
    root = str(Path(__file__).resolve().parents[1])
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": root}, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "out" / "knobs.png").is_file()


def test_a_figure_that_does_not_pickle_is_drawn_here(tmp_path):
    # a bar chart holds an itertools.cycle (hatches), whose pickling Python 3.14 removes
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.bar(["a", "b"], [1.0, 2.0], color=COLORS["posterior"])
    with warnings.catch_warnings(), figure_writer(background=True):
        warnings.simplefilter("error", DeprecationWarning)  # as pickling raises on 3.14
        save(fig, tmp_path / "bars.png")
    assert_has_content(tmp_path / "bars.png")
