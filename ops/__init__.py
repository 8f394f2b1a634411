"""Operational tooling: local servers for development and tests, and (later) the two-region lab and drivers."""
