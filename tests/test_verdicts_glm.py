"""Flip tests of the GLM pages' verdicts: the index of dispersion of the predictive check
(overdispersed counts fail, Poisson counts pass), where CV's best alpha lies on its grid, and the
one-standard-error rule behind the reference alpha."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import BaseEstimator

from experiments import verdicts
from experiments.predictive import DISPERSION, dispersion_check, dispersion_index
from experiments.report import sentence
from models.core import glm
from models.core.base import ModelData


def test_dispersion_index_flips_with_overdispersion():
    rng = np.random.default_rng(0)
    replicated = rng.poisson(10.0, size=(1000, 40)).astype(float)  # index ~ 1 +- 0.23
    typical = replicated[np.argsort(dispersion_index(replicated))[500]]  # the median index
    overdispersed = np.repeat([0.0, 20.0], 20)  # mean 10, variance 100: index 10
    passes, fails = (
        dispersion_check(typical, replicated),
        dispersion_check(overdispersed, replicated),
    )
    assert passes["statistic"] == fails["statistic"] == DISPERSION
    assert passes["outcome"] == "passes" and fails["outcome"] == "fails" and fails["value"] == 0
    assert "variance / mean" in sentence(fails)
    assert np.isnan(dispersion_index(np.zeros((1, 5))))[0]


def test_cv_choice_names_each_edge():
    interior = verdicts.cv_choice("CV", 1e-2, 0.4, 0.02, 1e-4, 1.0, 1e-2, 0.4)
    smallest = verdicts.cv_choice("CV", 1e-4, 0.4, 0.02, 1e-4, 1.0, 1e-2, 0.39)
    largest = verdicts.cv_choice("CV", 1.0, 0.4, 0.02, 1e-4, 1.0, 1.0, 0.4)
    assert [v["outcome"] for v in (interior, smallest, largest)] == [
        "interior",
        "smallest",
        "largest",
    ]
    assert interior["level"] == "info" and smallest["level"] == largest["level"] == "amber"
    assert "inside the grid" in sentence(interior)
    assert "one-standard-error rule" in sentence(smallest) and "0.01" in sentence(smallest)
    assert "grid's largest" in sentence(largest)
    # a best D^2 at or below 0 (the poisson page's -3 on 20 rows): no alpha beats the fold mean
    for score, informative in ((0.4, True), (0.0, False), (-3.0, False)):
        v = verdicts.cv_choice("CV", 1e-2, score, 2.5, 1e-4, 1.0, 1e-2, score, baseline=0.0)
        assert v["skill"] == informative and v["level"] == ("info" if informative else "amber")
        assert ("carries no information" in sentence(v)) != informative


class _Scored(BaseEstimator):
    """A stand-in estimator whose CV score is a given function of alpha (GridSearchCV clones it)."""

    def __init__(self, alpha=1.0, tol=1e-4, curve="flat"):
        self.alpha, self.tol, self.curve = alpha, tol, curve

    def fit(self, X, y):
        return self

    def score(self, X, y):
        # flat: best at the smallest alpha, decreasing slowly; peaked: best at alpha = 1
        noise = 1e-3 * float(np.sum(X[:, 0]))  # fold-dependent: a standard error > 0
        if self.curve == "flat":
            return 1.0 - self.alpha + noise
        return 1.0 - np.log10(self.alpha) ** 2 + noise


@pytest.mark.parametrize("curve", ["flat", "peaked"])
def test_cv_search_uses_the_one_se_rule_only_at_the_small_edge(curve):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((50, 2))
    data = ModelData(X=X, y=np.ones(50), feature_names=["a", "b"])
    search = glm.cv_search(_Scored(curve=curve), data)
    scores, se, best, chosen = search["scores"], search["se"], search["best"], search["chosen"]
    assert best == int(np.argmax(scores))
    if curve == "flat":
        assert best == 0 and chosen > 0
        assert scores[chosen] >= scores[0] - se[0] and scores[chosen + 1] < scores[0] - se[0]
    else:
        assert 0 < best < len(scores) - 1 and chosen == best
