"""Speed benchmarks (``python -m benchmarks``, ``python -m benchmarks.scale``).

This package module stays import-light: ``benchmarks.scale`` measures the peak memory of
subprocesses that import it.
"""


def write_results(name: str, results: dict) -> None:
    """reports/NAME/results.json, written atomically like every report."""
    from experiments import common
    from experiments.output import atomic_output_dir

    with atomic_output_dir(common.REPO_ROOT / "reports" / name, name) as folder:
        common.write_json(folder / "results.json", results)
