"""What a test asserts about a figure: it is a PNG with something plotted on it, not just a file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib import image

MIN_SIDE, MAX_SIDE = 100, 20_000  # pixels; the suite's figures are 280-1940 px a side (measured)
CHROMA = 0.15  # a pixel whose max - min over RGB exceeds this is coloured, not black/white/grey
# Coloured pixels in the suite's figures: 1.0% to 26% (measured on every report figure); one thin
# line on an empty-looking axes: 0.8%; empty axes with ticks and labels: 0; a blank image: 0.
MIN_COLOURED = 0.002


def assert_has_content(path: Path) -> None:
    """Assert that ``path`` is a PNG of sane size with data drawn on it.

    The figures draw their data in colour and their axes, ticks and text in black and grey, so an
    image without coloured pixels is blank or holds empty axes.

    Parameters
    ----------
    path : pathlib.Path
        The figure file.

    Raises
    ------
    AssertionError
        If the file is missing or does not decode as an RGB(A) image, a side is outside
        ``[MIN_SIDE, MAX_SIDE]``, the image is one colour, or fewer than ``MIN_COLOURED`` of its
        pixels are coloured.
    """
    try:
        pixels = image.imread(path)
    except (OSError, SyntaxError) as error:  # Pillow: SyntaxError "not a PNG file"
        raise AssertionError(f"{path.name}: not a readable image ({error})") from error
    assert pixels.ndim == 3 and pixels.shape[2] in (3, 4), (
        f"{path.name}: not RGB(A), {pixels.shape}"
    )
    height, width = pixels.shape[:2]
    assert min(height, width) >= MIN_SIDE and max(height, width) <= MAX_SIDE, (
        f"{path.name}: {width} x {height} px"
    )
    rgb = pixels[..., :3].reshape(-1, 3)
    assert len(np.unique(rgb, axis=0)) > 1, f"{path.name}: one colour"
    coloured = float(np.mean(rgb.max(axis=1) - rgb.min(axis=1) > CHROMA))
    assert coloured >= MIN_COLOURED, (
        f"{path.name}: {coloured:.2%} coloured pixels, nothing plotted on the axes"
    )
