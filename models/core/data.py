"""Data sets and model set-up: what a model is fitted to, and the settings it is given.

* :class:`Dataset`: a design matrix and target with a record of how the features were prepared.
* :data:`DATASETS`: data sets that ship with scikit-learn, by name (``ModelSpec.default_data``).
* :func:`model_data`: a spec's :class:`~models.core.base.ModelData` on a data set, with the fixed noise sd
  a Gaussian model needs (:func:`noise_estimate` unless given).
* :func:`build_model`: ``spec.build(data)``, checked against the contract.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from models.core.base import (
    ContractError,
    InputError,
    ModelData,
    ModelSpec,
    Scaling,
    positive,
    quoted,
)
from models.core.lazy import lazy

pm = lazy("pymc")
datasets = lazy("sklearn.datasets")


@dataclass
class Dataset:
    """A design matrix and target, with a record of how the features were prepared.

    Attributes
    ----------
    X : array (n, p)
    y : array (n,)
    feature_names : list of str
    target_name : str
    source : str
        ``sklearn:<name>``, the CSV path, or the generator's name.
    standardized : bool
        True if the suite centred the features and scaled them to unit standard deviation (ddof=0).
    feature_mean, feature_scale : list of float or None
        The centring and scaling applied (None if the features are used as given).
    note : str
        How the features were prepared, in words.
    classes : list of str or None
        Class labels of a softmax model's target (``y`` then holds their codes ``0..K-1``);
        None for other targets.
    """

    X: np.ndarray
    y: np.ndarray
    feature_names: list[str]
    target_name: str
    source: str
    standardized: bool
    feature_mean: list[float] | None = None
    feature_scale: list[float] | None = None
    note: str = ""
    classes: list[str] | None = None

    @property
    def scaling(self) -> Scaling | None:
        if self.feature_mean is None:
            return None
        return Scaling(np.asarray(self.feature_mean), np.asarray(self.feature_scale))

    def provenance(self) -> dict:
        """The fields results.json records about the data."""
        return {
            "data_source": self.source,
            "target": self.target_name,
            "n_obs": int(self.X.shape[0]),
            "feature_names": self.feature_names,
            "standardized": self.standardized,
            "feature_mean": self.feature_mean,
            "feature_scale": self.feature_scale,
            "data_note": self.note,
            **({} if self.classes is None else {"classes": self.classes}),
        }


# A column is constant when its spread is within rounding of its size: sd <= CONSTANT_RTOL * max|x|.
# Rounding leaves a relative spread of ~1e-16 on a column that is really constant (0.1 written by
# different computations), ~1e-12 when the spread comes from one-pass moments of 10^8 rows (the
# scale path); standardising a column below 1e-10 would blow its rounding up to ~1e-6 of its unit
# size. A timestamp-sized column (1.7e9) may still vary by 0.2.
CONSTANT_RTOL = 1e-10
# what "constant" means in a refusal: a column that varies only in its 11th significant digit is
# called so, and may hold its information below an offset the user can subtract
CONSTANT = "constant to 10 significant digits"


def is_constant(spread, magnitude):
    """Whether a column is constant up to rounding: the relative constancy test of the suite.

    Parameters
    ----------
    spread : float or array
        The column's standard deviation (computed stably: centred, or scaled by ``magnitude``
        first; ``E[x^2] - E[x]^2`` loses half the digits and needs its own margin).
    magnitude : float or array
        The column's size: its largest absolute value, or ``|mean| + sd`` when only moments are
        known (the scale path).

    Returns
    -------
    bool or array of bool
        ``spread <= CONSTANT_RTOL * magnitude`` (an all-zero column is constant).
    """
    return np.asarray(spread) <= CONSTANT_RTOL * np.asarray(magnitude)


def constant_columns(X: np.ndarray) -> np.ndarray:
    """Boolean mask of the constant columns of ``X`` (:func:`is_constant`, each column divided by
    its largest absolute value first so that no square overflows or underflows)."""
    X = np.asarray(X, dtype=float).reshape(len(X), -1)
    peak = np.max(np.abs(X), axis=0)
    unit = X / np.where(peak > 0, peak, 1.0)
    return is_constant(unit.std(axis=0), np.where(peak > 0, 1.0, 0.0))


def standardize(X: np.ndarray, names: list[str]) -> tuple[np.ndarray, list[float], list[float]]:
    """Centre each column and scale it to unit standard deviation (ddof=0); refuse constant columns
    (:func:`constant_columns`).

    Each column is first divided by its largest absolute value, so columns of size 1e300 (whose
    squares overflow) or 1e-300 (whose squares underflow to zero) are standardised exactly too.
    """
    constant = [quoted(name) for name, c in zip(names, constant_columns(X), strict=True) if c]
    if constant:
        raise InputError(f"column(s) {CONSTANT} cannot be standardised: {', '.join(constant[:5])}"
                         + (f" and {len(constant) - 5} more" if len(constant) > 5 else ""))  # fmt: skip
    peak = np.max(np.abs(X), axis=0)
    unit = X / peak
    unit_mean, unit_sd = unit.mean(axis=0), unit.std(axis=0)
    scaled = (unit - unit_mean) / unit_sd
    return scaled, (unit_mean * peak).tolist(), (unit_sd * peak).tolist()


def standardized_dataset(
    X: np.ndarray, y: np.ndarray, names: list[str], target: str, source: str, note: str = ""
) -> Dataset:
    """A :class:`Dataset` whose columns are centred and scaled to unit sd (ddof=0)."""
    Xs, mean, scale = standardize(X, names)
    note = note or "features centred and scaled to unit standard deviation (ddof=0) by the suite"
    return Dataset(Xs, y, names, target, source, True, mean, scale, note)


def _diabetes() -> Dataset:
    bunch = datasets.load_diabetes()
    return Dataset(
        bunch.data, bunch.target.astype(float), list(bunch.feature_names), "disease progression",
        "sklearn:load_diabetes", False,
        note="scikit-learn's scaled diabetes data: columns centred with unit Euclidean norm "
        "(the lars standardisation of Efron et al. 2004); target as is",
    )  # fmt: skip


def _breast_cancer() -> Dataset:
    bunch = datasets.load_breast_cancer()
    # scikit-learn codes malignant as 0; model the probability of malignancy (1 = malignant).
    return standardized_dataset(
        bunch.data, (bunch.target == 0).astype(float), [str(n) for n in bunch.feature_names],
        "malignant", "sklearn:load_breast_cancer",
        "features centred and scaled to unit standard deviation (ddof=0); target 1 = malignant",
    )  # fmt: skip


def _linnerud() -> Dataset:
    bunch = datasets.load_linnerud()
    # scikit-learn's "data" are the exercise counts, its "target" the physiological variables:
    # here the count is the target. Chins: the smallest counts (1-17, mean 9.5, variance 26),
    # where a Poisson (variance = mean) is least strained; Situps and Jumps vary tens of times
    # more than their means.
    chins = list(bunch.feature_names).index("Chins")
    return standardized_dataset(
        bunch.target, bunch.data[:, chins].astype(float), list(bunch.target_names), "Chins",
        "sklearn:load_linnerud",
        "physiological variables (Weight, Waist, Pulse) centred and scaled to unit standard "
        "deviation (ddof=0); target: the Chins count of the 20 men",
    )  # fmt: skip


def _wine() -> Dataset:
    bunch = datasets.load_wine()
    data = standardized_dataset(
        bunch.data, bunch.target.astype(float), [str(n) for n in bunch.feature_names],
        "cultivar", "sklearn:load_wine",
        "features centred and scaled to unit standard deviation (ddof=0); target the cultivar "
        "(3 classes)",
    )  # fmt: skip
    data.classes = [str(name) for name in bunch.target_names]
    return data


def _digits() -> Dataset:
    bunch = datasets.load_digits()
    varies = bunch.data.std(axis=0) > 0
    names = [f"pixel_{j // 8}_{j % 8}" for j in range(64)]
    dropped = [name for name, keep in zip(names, varies, strict=True) if not keep]
    data = standardized_dataset(
        bunch.data[:, varies], bunch.target.astype(float),
        [name for name, keep in zip(names, varies, strict=True) if keep], "digit",
        "sklearn:load_digits",
        f"{len(dropped)} constant pixel columns dropped ({', '.join(dropped)}: every image has "
        "the same value there, so they carry no information and cannot be standardised); the "
        "others centred and scaled to unit standard deviation (ddof=0); target the digit "
        "(10 classes)",
    )  # fmt: skip
    data.classes = [str(name) for name in bunch.target_names]
    return data


def class_codes(data: Dataset) -> Dataset:
    """``data`` with its target's labels replaced by codes ``0..K-1`` (sorted labels) and the
    labels kept in ``classes``: what a softmax model observes (a bundled set is coded already)."""
    if data.classes is not None:
        return data
    labels, codes = np.unique(data.y, return_inverse=True)
    data.y = codes.astype(float)
    # the shortest text that reads back as the same float (distinct labels stay distinct:
    # ":g" printed 1234567, 1234568 and 1234569 all as 1.23457e+06)
    data.classes = [repr(float(label)).removesuffix(".0") for label in labels]
    return data


DATASETS: dict[str, Callable[[], Dataset]] = {
    "diabetes": _diabetes,
    "breast_cancer": _breast_cancer,
    "linnerud": _linnerud,
    "wine": _wine,
    "digits": _digits,
}


def default_dataset(spec: ModelSpec) -> Dataset:
    """The data a model runs on without ``--data``: a bundled set by name, or the spec's generator."""
    if callable(spec.default_data):
        data = spec.default_data()
        if not isinstance(data, Dataset):
            raise ContractError(f"model '{spec.name}': default_data() must return a Dataset")
        return data
    try:
        return DATASETS[spec.default_data]()
    except KeyError:
        known = ", ".join(DATASETS)
        raise ContractError(
            f"model '{spec.name}': unknown default_data {spec.default_data!r}; bundled: {known}"
        ) from None


def noise_estimate(X: np.ndarray, y: np.ndarray) -> float:
    """Residual standard deviation of least squares with intercept: ``sqrt(RSS / (n - r))``, ``r``
    the numerical rank of ``[1, X]`` (``p + 1`` unless columns are collinear: one-hot dummies
    beside the intercept, a duplicated column; dividing by ``n - p - 1`` there overstates sigma).

    It exists only with more rows than coefficients (n > p + 1) and a least-squares fit that does
    not interpolate; otherwise :class:`InputError` asks for ``--noise-sd``.
    """
    n, p = X.shape
    if n <= p + 1:
        raise InputError(
            f"{n} rows and {p} features: the least-squares residual sd needs more rows than "
            "coefficients (n > p + 1); give the noise sd with --noise-sd SIGMA"
        )
    Z = np.column_stack([np.ones(n), X])
    beta, _, rank, _ = np.linalg.lstsq(Z, y, rcond=None)
    sigma = float(np.sqrt(np.sum((y - Z @ beta) ** 2) / (n - rank)))
    if not sigma > 1e-10 * max(float(np.std(y)), np.finfo(float).tiny):
        raise InputError(
            "least squares fits the target exactly (residual sd ~0), so it gives no noise sd; "
            "give it with --noise-sd SIGMA"
        )
    return sigma


def model_data(spec: ModelSpec, data: Dataset, noise_sd: float | None = None) -> ModelData:
    """``spec``'s view of ``data``: a fixed-noise Gaussian model gets sigma (given or estimated)."""
    sigma = None
    if spec.noise_fixed:
        sigma = noise_estimate(data.X, data.y) if noise_sd is None else positive(noise_sd, "sigma")
    classes = None if data.classes is None else tuple(data.classes)
    return ModelData(data.X, data.y, tuple(data.feature_names), data.scaling, sigma,
                     classes=classes)  # fmt: skip


def build_model(spec: ModelSpec, data: ModelData, data_names: Iterable[str] = ()) -> pm.Model:
    """``spec.build(data)``, checked: a missing variable is one :class:`ContractError` line."""
    model = spec.build(data)
    if not isinstance(model, pm.Model):
        raise ContractError(
            f"model '{spec.name}': build returned {type(model).__name__}, not pm.Model"
        )
    spec.check_model(model, data, data_names)
    return model


def arrays(
    X: np.ndarray, y: np.ndarray, feature_names: Iterable[str], noise_sd: float | None = None
) -> ModelData:
    """A :class:`ModelData` straight from arrays (features used as given)."""
    X = np.asarray(X, dtype=float)
    return ModelData(X, np.asarray(y, dtype=float), tuple(feature_names), None, noise_sd)


@dataclass
class ReferenceSetup:
    """A model on its default data at its reference penalty: what engines and sensitivity share."""

    spec: ModelSpec
    dataset: Dataset
    data: ModelData
    model: pm.Model
    penalty: dict
    values: dict


def reference_setup(spec: ModelSpec) -> ReferenceSetup:
    """``spec`` built on its default data set, at ``spec.link.reference_penalty`` (needs a twin)."""
    dataset = default_dataset(spec)
    data = model_data(spec, dataset)
    penalty = spec.link.reference_penalty(data)
    values = spec.link.prior_values(penalty, data)
    return ReferenceSetup(spec, dataset, data, build_model(spec, data, values), penalty, values)
