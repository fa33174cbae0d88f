"""benchmarks/sdk.py's `--json` figures: exactly the issue's keys, computed from the measured medians."""

from benchmarks import sdk as bench

RESULTS = {
    "cached": {"sdk_ns": 500.0, "aws_caching_ns": 40_000.0},
    "uncached": {"overhead_vs_hvac": 0.04, "overhead_vs_boto3": -0.01},
    "concurrent": {"reads_per_s": 1200.0, "p99_ms": 80.0},
    "staleness": {"sdk_vault_s": 0.5},
}


def test_the_json_figures_are_exactly_the_issues_keys():
    assert bench.summary(RESULTS) == {
        "cached_speedup": 80.0,
        "uncached_overhead_vs_hvac": 0.04,
        "uncached_overhead_vs_boto3": -0.01,
        "vault_throughput_per_s": 1200.0,
        "vault_p99_ms": 80.0,
        "staleness_after_rotation_s": 0.5,
    }


def test_percentiles_pick_the_nearest_rank():
    samples = [float(n) for n in range(1, 101)]
    assert (bench.percentile(samples, 0.5), bench.percentile(samples, 0.99)) == (51.0, 99.0)
