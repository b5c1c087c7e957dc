"""The README's key reference must name every configuration key the models accept."""

from __future__ import annotations

import re

from helpers import REPO
from pydantic import BaseModel

from pipeline.config import EpisodeConfig, FeedConfig


def _keys(model: type[BaseModel], prefix: str = "") -> set[str]:
    keys = set()
    for name, field in model.model_fields.items():
        if field.exclude:
            continue
        ann = field.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            keys |= _keys(ann, f"{prefix}{name}.")
        else:
            keys.add(prefix + name)
    return keys


def _section(title: str) -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    start = text.index(f"## {title}")
    end = text.find("\n## ", start + 1)
    return text[start:end]


def _documented(title: str) -> set[str]:
    return set(re.findall(r"^\| `([a-z_.]+)`", _section(title), flags=re.MULTILINE)) | set(
        re.findall(r"`([a-z_]+\.[a-z_]+)`", _section(title)))


def test_every_feed_key_is_documented():
    assert _keys(FeedConfig) <= _documented("Feed keys")


def test_every_episode_key_is_documented():
    assert _keys(EpisodeConfig) <= _documented("Episode keys")
