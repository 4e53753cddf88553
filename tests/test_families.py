"""The observation families (models.core.families): lookup, target checks, log densities."""

import numpy as np
import pytest
from scipy import stats

from models.core.base import ContractError, ModelSpec
from models.core.families import FAMILIES, family, normal_logpdf


def test_an_unknown_family_is_one_line_naming_the_known_ones():
    with pytest.raises(
        ContractError, match="unknown likelihood 'poison'; known families: gaussian"
    ):
        family("poison")
    with pytest.raises(ContractError, match="unknown likelihood"):
        ModelSpec(name="m", title="m", prior="", likelihood="poison", build=lambda data: None)


def test_noise_is_refused_for_a_family_without_a_dispersion():
    with pytest.raises(ContractError, match="bernoulli has none"):
        ModelSpec(name="m", title="m", prior="", likelihood="bernoulli", noise="unknown",
                  build=lambda data: None)  # fmt: skip


@pytest.mark.parametrize(
    ("name", "y", "problem"),
    [
        ("bernoulli", [0.0, 1.0, 2.0], "1 rows outside it (2)"),
        ("bernoulli", [1.0, 1.0, 1.0], "at least 2 distinct values"),
        ("gaussian", [0.0, np.inf, 1.0], "1 rows outside it (inf)"),
        ("gaussian", [3.0], None),
        ("bernoulli", [0.0, 1.0, 1.0], None),
        ("categorical", [0.0, 1.0, 2.5] * 5, "5 rows outside it (2.5)"),
        ("categorical", [4.0] * 10, "at least 3 distinct values"),
        ("categorical", [0.0, 1.0] * 10, "at least 3 distinct values"),
        ("categorical", [0.0, 1.0] * 10 + [7.0] * 4, "too few: 7 (4 rows)"),
        ("categorical", [0.0, 1.0, 7.0] * 5, None),
        # all-zero counts: the flat intercept's posterior is improper (no mode to certify)
        ("poisson", [0.0] * 20, "that is not all 0"),
        ("poisson", [0.0] * 19 + [1.0], None),
    ],
)
def test_targets_are_checked_by_the_family(name, y, problem):
    got = family(name).invalid_target(np.array(y))
    assert got == problem if problem is None else problem in got


@pytest.mark.parametrize("fam", FAMILIES.values(), ids=FAMILIES)
def test_every_family_density_sums_to_one_over_the_targets_it_accepts(fam):
    # a probability distribution in y for fixed eta (and dispersion): the sum over the accepted
    # integers (discrete) or the trapezoid integral over the accepted grid (continuous, step
    # 2e-4: error ~1e-9 for these smooth densities), to 1e-7
    # A positive continuous target (Gamma, inverse Gaussian) is integrated in u = log y, where
    # the density times y is smooth and vanishes at both ends (in y, a Gamma of shape 1 / 0.7 has
    # an infinite slope at 0 that the trapezoid rule integrates only to ~1e-5).
    dispersion = 0.7 if fam.dispersion else None
    if fam.categories:  # classes 0..K-1, one eta column per class: the sum over the K classes
        eta = np.array([[-1.3, 0.4, 2.0, -30.0], [0.0, 0.0, 0.0, 0.0]])
        codes = np.arange(eta.shape[1], dtype=float)
        dens = [np.exp(fam.log_density(np.tile(row, (len(codes), 1)), codes)) for row in eta]
        np.testing.assert_allclose(np.sum(dens, axis=1), 1.0, atol=1e-12)
        np.testing.assert_allclose(dens, fam.mean(eta), rtol=1e-12)
        return
    positive = not fam.discrete and not fam.accepts(np.array([-1.0]))[0]
    if fam.discrete:
        y = np.arange(-400.0, 401.0)
    elif positive:
        u = np.linspace(-40, 6, 400_001)
        y = np.exp(u)
    else:
        y = np.linspace(-40, 40, 400_001)
    y = y[fam.accepts(y)]
    # shape parameters at their defaults, and off-centre (the asymmetric Laplace at q = 0.3: its
    # upper tail beyond the grid then holds ~3e-8)
    settings = [dict(fam.parameters)] + [{name: 0.3 for name in fam.parameters}] * bool(
        fam.parameters
    )
    for eta in (-1.3, 0.4):
        for parameters in settings:
            dens = np.exp(fam.log_density(np.full_like(y, eta), y, dispersion, **parameters))
            if fam.discrete:
                total = dens.sum()
            else:
                total = np.trapezoid(dens * y, u) if positive else np.trapezoid(dens, y)
            assert total == pytest.approx(1.0, abs=1e-7)


def test_the_gaussian_density_is_scipys_and_its_mean_the_identity():
    eta, y = np.array([[0.5, -1.0]]), np.array([0.1, 2.0])
    np.testing.assert_allclose(
        family("gaussian").log_density(eta, y, [2.0]), stats.norm.logpdf(y, eta, 2.0), rtol=1e-14
    )
    assert family("bernoulli").mean(np.array(0.0)) == 0.5


@pytest.mark.parametrize(
    ("name", "y", "problem"),
    [
        ("poisson", [0.0, 3.0, -1.0], "1 rows outside it (-1)"),
        ("poisson", [0.0, 2.5], "1 rows outside it (2.5)"),
        ("gamma", [1.0, 0.0], "1 rows outside it (0)"),
        ("inverse_gaussian", [1.0, -2.0], "1 rows outside it (-2)"),
        ("poisson", [0.0, 4.0], None),
        ("gamma", [0.1, 4.0], None),
    ],
)
def test_glm_targets_are_checked(name, y, problem):
    got = family(name).invalid_target(np.array(y))
    assert got == problem if problem is None else problem in got


@pytest.mark.parametrize(
    ("name", "reference"),
    [
        ("poisson", lambda eta, y, phi: stats.poisson.logpmf(y, np.exp(eta))),
        ("gamma", lambda eta, y, phi: stats.gamma.logpdf(y, 1 / phi, scale=phi * np.exp(eta))),
        # inverse Gaussian of mean mu and shape lambda = 1 / phi, written out
        (
            "inverse_gaussian",
            lambda eta, y, phi: (
                0.5 * np.log(1 / (phi * 2 * np.pi * y**3))
                - (y - np.exp(eta)) ** 2 / (2 * phi * y * np.exp(2 * eta))
            ),
        ),  # fmt: skip
    ],
)
def test_glm_densities_match_their_textbook_form(name, reference):
    fam = family(name)
    eta, y, phi = np.array([[-0.5, 0.3, 1.2]]), np.array([1.0, 2.0, 7.0]), 0.4
    dispersion = [phi] if fam.dispersion else None
    np.testing.assert_allclose(fam.log_density(eta, y, dispersion), reference(eta, y, phi),
                               rtol=1e-12)  # fmt: skip


SAMPLED = {name: fam for name, fam in FAMILIES.items() if fam.draw is not None}


@pytest.mark.parametrize("fam", SAMPLED.values(), ids=SAMPLED)
def test_every_family_samples_its_own_mean_and_density(fam):
    # (a family without a sampler, the asymmetric Laplace, has no predictive check of replicated
    # data and its twin predicts its mean function only: tests/test_quantile.py)
    # 200,000 draws at one eta: the sample mean is the family's mean within 6 standard errors, and
    # a drawn data set is a target the family accepts
    rng = np.random.default_rng(5)
    eta = np.full((1, 200_000), 0.3)
    dispersion = [0.5] if fam.dispersion else None
    y = fam.sample(rng, eta, dispersion)
    assert fam.invalid_target(y[0]) is None
    assert abs(y.mean() - fam.mean(0.3)) < 6 * y.std() / np.sqrt(y.size)


def test_sampling_needs_the_dispersion_exactly_when_the_family_has_one():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="needs its dispersion phi"):
        family("gamma").sample(rng, np.zeros((1, 3)))
    with pytest.raises(ValueError, match="has no dispersion"):
        family("poisson").sample(rng, np.zeros((1, 3)), [1.0])


def test_the_categorical_density_is_log_softmax_per_row_and_draw():
    # eta (draws, rows, K): each row's log probability of its own class, exact where a class's
    # probability underflows (eta 800 apart)
    eta = np.array([[[0.0, 800.0, 0.0], [1.0, 2.0, 3.0]]] * 2)
    got = family("categorical").log_density(eta, np.array([0.0, 2.0]))
    expected = [-800.0 - np.log1p(np.exp(-800.0)), 3.0 - np.log(np.exp([1, 2, 3]).sum())]
    np.testing.assert_allclose(got, [expected, expected], rtol=1e-12)


def test_normal_logpdf_is_scipys_to_the_bit():
    # the same arithmetic in the same order as scipy.stats.norm.logpdf: equal, not merely close,
    # with arrays of sd broadcast against the values as the PSIS-LOO curve and the sparse page do
    rng = np.random.default_rng(3)
    y, mean = rng.normal(size=(40, 1)), rng.normal(size=(40, 300)) * 5
    sd = rng.uniform(0.01, 30, size=(1, 300))
    assert np.array_equal(normal_logpdf(y, mean, sd), stats.norm.logpdf(y, mean, sd))
    assert np.array_equal(normal_logpdf(y, mean, 2.5), stats.norm.logpdf(y, mean, 2.5))


def test_the_poisson_density_keeps_eta_where_its_exponential_under_or_overflows():
    # log p(y | eta) = y eta - e^eta - log y!: at eta = -800, e^eta underflows to 0 and
    # xlogy(y, e^eta) gave -inf where the answer is -800 y; at eta = 800 it gave NaN (inf - inf)
    # where the answer is -inf; at moderate eta it agrees with scipy's logpmf to round-off
    poisson = family("poisson")
    y = np.array([1.0, 3.0, 0.0])
    np.testing.assert_array_equal(poisson.log_density(np.full(3, -800.0), y),
                                  [-800.0, -2400.0 - np.log(6.0), 0.0])  # fmt: skip
    with np.errstate(over="ignore"):
        assert np.all(poisson.log_density(np.full(3, 800.0), y) == -np.inf)
    eta = np.array([-2.0, 0.5, 3.0])
    np.testing.assert_allclose(poisson.log_density(eta, y), stats.poisson.logpmf(y, np.exp(eta)),
                               rtol=1e-13)  # fmt: skip
