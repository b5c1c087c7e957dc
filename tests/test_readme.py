"""The configuration reference (docs/configuration.md) must name every key the models accept,
sub-keys of tables and of arrays of tables included."""

from __future__ import annotations

import re
import types
import typing

from helpers import REPO
from pydantic import BaseModel

from pipeline.project.config import EpisodeConfig, FeedConfig


def _models_in(annotation: object) -> list[type[BaseModel]]:
    """The models inside an annotation: `Model`, `Model | None`, `list[Model]`, ..."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType, list, tuple,
                                         typing.Annotated):
        return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]
    return []


def _keys(model: type[BaseModel], prefix: str = "") -> set[str]:
    keys = set()
    for name, field in model.model_fields.items():
        if field.exclude:
            continue
        keys.add(prefix + name)
        for sub in _models_in(field.annotation):
            keys |= _keys(sub, f"{prefix}{name}.")
    return keys


def _section(path: str, title: str | None) -> str:
    text = (REPO / path).read_text(encoding="utf-8")
    if title is None:
        return text
    start = text.index(f"## {title}")
    end = text.find("\n## ", start + 1)
    return text[start:end] if end != -1 else text[start:]


def _documented(path: str, title: str | None = None) -> set[str]:
    section = _section(path, title)
    return set(re.findall(r"`([a-z0-9_]+(?:\.[a-z0-9_]+)*)`", section))


def test_keys_are_found_inside_optional_tables_and_arrays_of_tables():
    keys = _keys(FeedConfig) | _keys(EpisodeConfig)
    assert {"filter.types", "filter.seasons", "funding.url", "funding.text", "persons.role",
            "chapters.start", "soundbites.duration", "bumpers.clip", "owner.email"} <= keys


def test_every_feed_key_is_documented():
    documented = (_documented("docs/configuration.md", "Feed keys")
                  | _documented("docs/s3.md"))
    assert sorted(_keys(FeedConfig) - documented) == []


def test_every_episode_key_is_documented():
    assert sorted(_keys(EpisodeConfig) - _documented("docs/configuration.md",
                                                     "Episode keys")) == []
