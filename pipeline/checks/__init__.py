"""Validation: pure rules (rules.py, identity.py) and the gathering of what they inspect
(gather.py)."""
