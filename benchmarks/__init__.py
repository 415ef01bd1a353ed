"""segmint's benchmarks: measured side by side with their baselines in one run."""
