"""Split a selection of episodes into N shares, so N machines can publish a catalogue at once."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import PublishError
from .config import EpisodeConfig

SHARD = re.compile(r"(\d+)/(\d+)")


class ShardError(PublishError):
    """A --shard value that names no share (exit status 2, like a usage error)."""

    exit_code = 2


@dataclass(frozen=True)
class Shard:
    """Share `index` (1-based) of `count`: episode number N goes to share (N - 1) mod count + 1.

    By number, not by position, so adding an episode never moves another one to a different
    share (a re-run of one shard after new episodes arrived still owns what it published).
    Numbers restart in each season; episode 1 of every season is in share 1, and each episode
    is still in exactly one share.
    """

    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        """`I/N` with 1 <= I <= N; anything else is one line saying what is expected."""
        found = SHARD.fullmatch(text.strip())
        if found is None or not 1 <= int(found[1]) <= int(found[2]):
            raise ShardError(f"--shard {text!r}: expected I/N with 1 <= I <= N, "
                             "for example 2/3 (the second of three shares)")
        return cls(int(found[1]), int(found[2]))

    def owns(self, ep: EpisodeConfig) -> bool:
        return (ep.number - 1) % self.count + 1 == self.index

    def select(self, eps: list[EpisodeConfig]) -> list[EpisodeConfig]:
        """This share of `eps`, in their order."""
        return [ep for ep in eps if self.owns(ep)]

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"
