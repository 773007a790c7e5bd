"""Shared test settings: hypothesis profiles and a headless matplotlib."""

import os

import matplotlib
from hypothesis import HealthCheck, settings

matplotlib.use("Agg")  # tests never need a display

settings.register_profile("default", max_examples=200, deadline=None)
settings.register_profile(
    "fuzz", max_examples=3_000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

# Test inputs, not tests: Python configs (mmengine) must be read as data, never imported.
collect_ignore_glob = ["data/*"]
