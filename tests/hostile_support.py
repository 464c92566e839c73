"""What the Hypothesis suites share: one bound on how hard they try (derandomized, so every run
and CI try the same examples)."""

from hypothesis import HealthCheck, settings

BOUNDED = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
