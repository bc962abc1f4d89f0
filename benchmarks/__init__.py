"""Benchmarks for ghapp's speed claims: `python -m benchmarks.NAME [--size N]`.

Each script prints its own figures (medians, p50/p99, ratios from one run); see README.md.
They are not tests: the test suite only checks that each one runs at a tiny size.
"""
