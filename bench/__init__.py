"""Benchmarks of the fetch, the import and the activity finder, each measured
beside a baseline in the same run (`python -m bench`, `make bench`)."""
