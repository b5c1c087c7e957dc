"""publish: a podcast publishing pipeline (config -> plan -> audio -> tags -> storage -> feed)."""

__version__ = "0.1.0"
