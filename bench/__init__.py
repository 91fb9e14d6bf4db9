"""The latency benchmark: cold starts and warm latency of the functions, side by side with floors and baselines.

Never deployed. ``make bench`` runs :mod:`bench.run`; see docs/performance.md.
"""
