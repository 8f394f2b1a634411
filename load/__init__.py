"""Load gates: Locust runs judged against policies/slo.yaml (``python -m load``)."""
