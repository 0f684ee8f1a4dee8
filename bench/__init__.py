"""Benchmarks: `make bench` (python -m bench). Prints one table and writes bench/results/latest.json."""
