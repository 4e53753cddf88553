"""The tuning policy (models.inference.engines.tuning_iterations) and the benchmark verdict behind
it (benchmarks.tuning): every name a page asks for is one the benchmark measures, and a verdict
that flips with the ESS, the divergences and r_hat."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from benchmarks import tuning
from models import registry
from models.inference.engines import LONG_TUNING, SIGMA_FREE, TUNE, TUNE_LONG, tuning_iterations

REPO = Path(__file__).resolve().parents[1]


def _measured() -> set[str]:
    """The names the benchmark measures (registered twins, sigma free where there is a scaled-noise
    model, its extra shapes), and the network, which it does not."""
    names = set(tuning.EXTRA_SHAPES) | {"mlp"}
    for name, spec in registry().items():
        if spec.has_twin:
            names |= {name, name + SIGMA_FREE}
    return names


def test_every_tuning_a_page_asks_for_names_a_measured_posterior():
    # a misspelt name would silently get the short tuning
    asked = set()
    for path in [*REPO.glob("experiments/*.py"), *REPO.glob("models/**/*.py")]:
        asked |= set(re.findall(r'tuning_iterations\("([^"]+)"\)', path.read_text()))
    assert asked, "no page asks for its tuning by name"
    assert not (asked | LONG_TUNING) - _measured()
    assert tuning_iterations("horseshoe") == TUNE_LONG and tuning_iterations("ridge") == TUNE


def _fits(bulk: float, tail: float, divergences: int = 0, r_hat: float = 1.002) -> list[dict]:
    return [{"min_ess_bulk": bulk, "min_ess_tail": tail, "divergences": divergences,
             "max_r_hat": r_hat}] * 2  # fmt: skip


@pytest.mark.parametrize(
    ("short", "found"),
    [
        (_fits(1000.0, 800.0), "enough"),  # the same draws
        (_fits(930.0, 740.0), "enough"),  # within the seed-to-seed spread
        (_fits(850.0, 800.0), "within noise"),  # 15% lower: two seeds cannot tell
        (_fits(700.0, 800.0), "too few"),  # bulk ESS 30% lower: the adaptation had not settled
        (_fits(1000.0, 600.0), "too few"),  # the tails alone are worse
        (_fits(1000.0, 800.0, divergences=3), "too few"),  # diverges where the long one did not
        (_fits(1000.0, 800.0, r_hat=1.02), "too few"),  # misses r_hat where the long one meets it
    ],
)
def test_the_verdict_on_a_short_tuning(short, found):
    assert tuning.verdict(short, _fits(1000.0, 800.0)) == found


def test_a_verdict_within_noise_agrees_with_either_length():
    assert tuning.agrees("within noise", TUNE) and tuning.agrees("within noise", TUNE_LONG)
    assert tuning.agrees("enough", TUNE) and not tuning.agrees("enough", TUNE_LONG)
    assert tuning.agrees("too few", TUNE_LONG) and not tuning.agrees("too few", TUNE)


class _Asked(Exception):
    """Stops a twin's fit where it asks for its tuning, before any compile or sampling."""


def test_a_twin_without_tune_asks_the_policy_for_the_posterior_it_samples(monkeypatch):
    import numpy as np
    from sklearn.linear_model import Lasso, LogisticRegression

    from models.twin import bayesian, estimator

    asked = []

    def ask(name):
        asked.append(name)
        raise _Asked

    monkeypatch.setattr(estimator, "tuning_iterations", ask)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 3))
    y = X @ np.array([1.0, -1.0, 0.5]) + rng.standard_normal(60)
    with pytest.raises(_Asked):  # sigma unknown by default: the sigma-free model is sampled
        bayesian(Lasso(alpha=0.1), method="nuts").fit(X, y)
    with pytest.raises(_Asked):  # three classes: the multinomial model
        bayesian(LogisticRegression(), method="nuts").fit(X, np.digitize(y, [-1.0, 1.0]))
    assert asked == ["lasso" + SIGMA_FREE, "multinomial"]
