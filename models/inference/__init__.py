"""Inference engines for any registered model: the certified MAP solver, NUTS through nutpie with
one compile per graph per process, Laplace and ADVI (:mod:`.engines`)."""
