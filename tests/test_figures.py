"""The figure check itself: a real plot passes; blank, empty, tiny, missing and broken files fail."""

from __future__ import annotations

import numpy as np
import pytest
from figures import assert_has_content
from matplotlib import image

from experiments.style import COLORS, plt, save


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
