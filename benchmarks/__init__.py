"""torchconv benchmarks: the layer suite (``benchmarks.suite``) and the CLI (``benchmarks.bench``)."""
