"""Model files written the way a user writes one (docs/adding-a-model.md's example), as source text for the
``add_model`` fixture."""

RIDGE_ORIGIN = '''
"""Ridge without an intercept: a model added to the suite as one file."""
import numpy as np
import pymc as pm
from sklearn.linear_model import Ridge

from models.core.base import Link, ModelSpec, coords


def build(data):
    with pm.Model(coords=coords(data)) as model:
        prior_sd = pm.Data("prior_sd", 1.0)  # hyper-parameters live in pm.Data: one compile per sweep
        w = pm.Normal("w", 0.0, prior_sd, dims="feature")
        pm.Normal("y", pm.math.dot(data.X, w), data.noise_sd, observed=data.y, dims="obs")
    return model


SPEC = ModelSpec(
    name="ridge_origin",
    title="Ridge through the origin",
    intercept=None,
    prior="y ~ Normal(Xw, sigma), w ~ Normal(0, tau)",
    likelihood="gaussian",
    build=build,
    link=Link(
        objective="||y - Xw||^2 + alpha ||w||^2",
        mapping="alpha = sigma^2 / tau^2",
        penalty_names=("alpha",),
        prior_values=lambda pen, data: {"prior_sd": data.noise_sd / np.sqrt(pen["alpha"])},
        sklearn=lambda pen, data: Ridge(alpha=pen["alpha"], fit_intercept=False),
        penalty_grid=lambda data, n: [{"alpha": float(a)} for a in np.geomspace(1e-2, 1e4, n)],
        reference_penalty=lambda data: {"alpha": 1.0},
    ),
)
'''
