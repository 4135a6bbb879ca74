"""Benchmarks: scripts that measure newsarchive against a baseline run side by side, and print both.

Run them all with ``python -m bench`` (see bench/__main__.py); each module also runs on its own,
e.g. ``python -m bench.parse_clean``. Nothing here is a test: figures are printed, never asserted.
"""
