"""Test harness: real-server fixtures and the Loki replay (see tests/conftest.py)."""
