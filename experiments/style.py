"""One colour per method, the same in every figure of the suite."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

COLORS = {
    "sklearn": "#d62728",  # red: the scikit-learn point estimate
    "MAP": "#1f1f1f",  # black: the PyMC posterior mode
    "posterior": "#1f77b4",  # blue: NUTS posterior (mean, bands, densities)
    "exact": "#2ca02c",  # green: closed-form answers
    "OLS": "#9467bd",  # purple: unpenalised least squares
    "data": "#7f7f7f",  # grey: observations
}
LINESTYLES = {"sklearn": "--", "MAP": ":", "exact": "-.", "OLS": "-"}

plt.rcParams.update(
    {"figure.dpi": 100, "savefig.dpi": 110, "axes.grid": True, "grid.alpha": 0.3, "font.size": 10}
)


def save(fig, path) -> None:
    """Save a matplotlib figure (tight bounding box) and close it."""
    fig.savefig(path, bbox_inches="tight")
    plt.close(fig)
