"""Performance bench: ``make bench`` (``python -m bench.run [cold|warm|contention|size]``)."""
