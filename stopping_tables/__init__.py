"""Stopping tables shipped with ndp (installed as ``ndp.stopping_tables``); see README.md."""
