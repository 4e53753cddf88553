"""What links a model to the libraries users fit: the Bayesian twin of a scikit-learn estimator
(:mod:`.estimator`) and every library's regularisation knob as a prior width (:mod:`.knobs`).

``from models.twin import bayesian`` imports the estimator (and PyMC, scikit-learn) on first use.
"""

_PUBLIC = ("bayesian", "BayesianTwin", "SamplingWarning", "supported")


def __getattr__(name: str):
    if name in _PUBLIC:
        from models.twin import estimator

        return getattr(estimator, name)
    raise AttributeError(f"module 'models.twin' has no attribute {name!r}")


__all__ = list(_PUBLIC)
