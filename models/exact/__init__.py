"""Closed-form results: the exact evidence of ridge regression and its maximiser (:mod:`.evidence`)."""
