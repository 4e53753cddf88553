"""Data beyond memory: a Gaussian likelihood's sufficient statistics, merged exactly across
partitions, in one Dask pass (:mod:`.statistics`)."""
