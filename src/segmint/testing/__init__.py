"""Helpers for segmint's own tests and benchmarks (and for projects that test code built on segmint)."""
