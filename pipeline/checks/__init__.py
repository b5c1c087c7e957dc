"""Validation: pure rules (rules.py) and the gathering of what they inspect (gather.py)."""
