"""Runnable examples: ``python -m minigrad.examples.train``."""
