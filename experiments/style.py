"""One colour per method, the same in every figure of the suite; ``plt`` set up for files."""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import warnings

from models.core.base import printable
from models.core.families import family
from models.core.lazy import lazy


def _configure_matplotlib() -> None:
    """Draw to files (Agg), in the suite's style. Column names ("cost ($)", "$x^{2") are drawn with
    parse_math=False where they appear (panel titles, axis labels, tick labels); not globally,
    since log-scale tick labels use mathtext."""
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams.update(
        {"figure.dpi": 100, "savefig.dpi": 110, "axes.grid": True, "grid.alpha": 0.3,
         "font.size": 10}
    )  # fmt: skip


plt = lazy("matplotlib.pyplot", setup=_configure_matplotlib)

COLORS = {
    "sklearn": "#d62728",  # red: the scikit-learn point estimate
    "MAP": "#1f1f1f",  # black: the PyMC posterior mode
    "posterior": "#1f77b4",  # blue: NUTS posterior (mean, bands, densities)
    "exact": "#2ca02c",  # green: closed-form answers
    "OLS": "#9467bd",  # purple: unpenalised least squares
    "data": "#7f7f7f",  # grey: observations
    "Laplace": "#ff7f0e",  # orange: Gaussian at the MAP (inverse Hessian)
    "ADVI (mean-field)": "#e377c2",  # pink
    "ADVI (full-rank)": "#8c564b",  # brown
    "BayesianRidge": "#17becf",  # cyan: scikit-learn's evidence maximisation
}
LINESTYLES = {"sklearn": "--", "MAP": ":", "exact": "-.", "OLS": "-"}


LABEL_MAX = 28  # characters of a user's name a panel title or axis label shows


def figure_label(name, width: int = LABEL_MAX) -> str:
    """A user's name (column, target) as a figure shows it: control characters and line breaks
    as escapes (:func:`~models.core.base.printable`), cut to ``width`` characters with an
    ellipsis, so no name can stretch a figure. Draw it with ``parse_math=False``."""
    text = printable(str(name))
    return text if len(text) <= width else text[: width - 1] + "\u2026"


def name_ticks(ax, axis: str, positions, names, width: int = 16, **kwargs) -> None:
    """Tick labels that are users' names: each through :func:`figure_label`, maths parsing off."""
    set_ticks = ax.set_xticks if axis == "x" else ax.set_yticks
    set_ticks(positions, [figure_label(name, width) for name in names], **kwargs)
    for label in ax.get_xticklabels() if axis == "x" else ax.get_yticklabels():
        label.set_parse_math(False)


def coefficient_label(likelihood: str, name: str = "coefficient") -> str:
    """Axis label of a regression coefficient with its units (its family's), e.g.
    ``w[bmi] (log-odds per unit of feature)``."""
    return f"{name} ({family(likelihood).units})"


# --- writing figures: here, or in a second process while the page computes on ---------------------

# Experiment processes sharing this machine's cores where a page's figures may be drawn by a
# second process: set by the command line (1; ``all --jobs N``'s processes: N), whose main module
# a spawned process re-imports safely. 0 elsewhere: a user's script without a main guard would
# run itself again in the spawned process, so figures are drawn in this one.
SHARING_CORES = 0


def background_figures() -> bool:
    """Whether a page's figures are drawn beside its computing (:func:`figure_writer`): run from
    the command line, on a machine with a core beyond one per running experiment process."""
    return 0 < SHARING_CORES < (os.cpu_count() or 1)


class _BackgroundWriter:
    """One spawned process that draws pickled figures to PNG files, in the order they were saved.

    Drawing (constrained layout, tick labels, Agg) is CPU work of its own: on a user's 1,000 x 20
    CSV the ridge page's figures took 3.3 s of savefig in a 22 s run, on one core of two. Pickling
    a figure costs a tenth to a fifth of drawing it, and the drawn bytes are the same (a test).
    """

    def __init__(self):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        self._pool = ProcessPoolExecutor(
            1, multiprocessing.get_context("spawn"), initializer=_start_writer
        )
        self._pending = [self._pool.submit(os.getpid)]  # starts it now, beside this one's imports

    def save(self, fig, path) -> bool:
        """Queue ``fig``'s drawing to ``path``; False when it does not pickle (then draw it here).

        Some of matplotlib's artists hold itertools objects (a bar chart's hatch cycle), whose
        pickling Python 3.12 deprecates and 3.14 removes: the warning is taken as that failure
        now, so every version draws the same figures in the same place.
        """
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", DeprecationWarning)
                payload = pickle.dumps(fig, protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, TypeError, AttributeError, DeprecationWarning):
            return False
        self._pending.append(self._pool.submit(_draw, payload, str(path)))
        return True

    def finish(self, cancel: bool) -> None:
        """Wait for every figure (the first failure raised), or with ``cancel`` drop those not yet
        begun; the process is gone either way."""
        try:
            if not cancel:
                for future in self._pending:
                    future.result()
        finally:
            self._pool.shutdown(wait=True, cancel_futures=True)


_WRITER: _BackgroundWriter | None = None  # the running experiment's, inside figure_writer()


@contextlib.contextmanager
def figure_writer(background: bool):
    """Figures :func:`save` d inside are on disk on leaving (a drawing's failure raised there). With
    ``background`` they are drawn by a second process while this one computes on; a failure or
    an interruption inside drops the figures not yet begun."""
    global _WRITER
    if not background:
        yield
        return
    _WRITER = _BackgroundWriter()
    try:
        yield
    except BaseException:
        _WRITER.finish(cancel=True)
        raise
    else:
        _WRITER.finish(cancel=False)
    finally:
        _WRITER = None


def _start_writer() -> None:
    """The drawing process: the parent decides about Ctrl-C (it shuts this process down)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    plt.get_backend()  # Agg and the suite's rcParams (drawing reads some, e.g. savefig.dpi)


def _draw(payload: bytes, path: str) -> None:
    _write(pickle.loads(payload), path)


def _write(fig, path) -> None:
    """Draw ``fig`` to ``path`` (tight bounding box) and close it: the one place either process
    draws a figure."""
    fig.savefig(path, bbox_inches="tight")
    plt.close(fig)


def save(fig, path) -> None:
    """Save a matplotlib figure as a PNG and close it: drawn here, or by :func:`figure_writer`'s
    second process."""
    if _WRITER is not None and _WRITER.save(fig, path):
        plt.close(fig)
    else:
        _write(fig, path)


def coefficient_panels(p: int, row_height: float, **subplot_kw):
    """One small panel per coefficient (at most 5 per row); unused panels are hidden.

    Returns ``(fig, axes, ncols)`` with ``axes`` the ``p`` panels in use.
    """
    ncols = min(5, p)
    nrows = -(-p // ncols)
    fig, grid = plt.subplots(
        nrows, ncols, figsize=(3.2 * ncols, row_height * nrows), squeeze=False,
        layout="constrained", **subplot_kw,
    )  # fmt: skip
    for ax in grid.flat[p:]:
        ax.axis("off")
    return fig, list(grid.flat[:p]), ncols


def legend_below(fig, ax, ncol: int, offset: float = -0.06) -> None:
    """One legend for a panel figure, taken from ``ax`` and placed under the panels."""
    fig.legend(
        *ax.get_legend_handles_labels(), loc="lower center", ncol=ncol, bbox_to_anchor=(0.5, offset)
    )


def posterior_panel(
    ax, draws, map_value: float, sklearn_value: float | None, title: str, bins: int
) -> None:
    """One coefficient's posterior draws (histogram) with the MAP and scikit-learn's estimate.

    The two are equal wherever the claim holds, so they are drawn to stay visible on one another:
    the MAP as a wide solid black line, scikit-learn as narrow red dashes on top of it (black shows
    in the gaps). Titles are user text (column names): drawn with maths parsing off.
    """
    ax.hist(draws, histtype="stepfilled", bins=bins, density=True, color=COLORS["posterior"], alpha=0.45,
            label="posterior (NUTS)")  # fmt: skip
    ax.axvline(map_value, color=COLORS["MAP"], lw=3, label="PyMC MAP (mode)")
    if sklearn_value is not None:
        ax.axvline(sklearn_value, ls=LINESTYLES["sklearn"], color=COLORS["sklearn"], lw=1.2,
                   label="sklearn (dashes over the MAP)")  # fmt: skip
    ax.set_title(figure_label(title), fontsize=9, parse_math=False)
    ax.set_yticks([])
