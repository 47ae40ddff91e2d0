"""Lookback (回头看): re-check households that have exited poverty."""

__version__ = "0.1.0"
