"""The itunes: namespace as Apple reads it today (feedgen's own writes the older yes/no form)."""

from __future__ import annotations

from . import ItemNamespace, NamespaceExtension, el

ITUNES_NS = "http://www.itunes.com/dtds/podcast-1.0.dtd"


class ItunesFeed(NamespaceExtension):
    prefix, uri = "itunes", ITUNES_NS

    def channel(self, *, author: str, owner_name: str, owner_email: str, image: str,
                categories: list[list[str]], explicit: bool, show_type: str,
                new_feed_url: str | None = None, complete: bool = False,
                block: bool = False) -> None:
        self.add("author", author)
        self.add("owner", children=(el("name", owner_name), el("email", owner_email)))
        self.add("image", attrs={"href": image})
        for top, *subs in categories:
            self.add("category", attrs={"text": top},
                     children=tuple(el("category", attrs={"text": s}) for s in subs))
        self.add("explicit", "true" if explicit else "false")
        self.add("type", show_type)
        if new_feed_url:
            self.add("new-feed-url", new_feed_url)
        if complete:  # Apple and PSP-1 know only "yes"; an ongoing show omits the tag
            self.add("complete", "yes")
        if block:
            self.add("block", "yes")


class ItunesItem(ItemNamespace):
    uri = ITUNES_NS

    def item(self, *, title: str, duration_s: float, explicit: bool, episode_type: str,
             episode: int | None, season: int | None, image: str | None,
             block: bool = False) -> None:
        self.add("title", title)
        self.add("duration", str(round(duration_s)))
        self.add("explicit", "true" if explicit else "false")
        self.add("episodeType", episode_type)
        if episode is not None:
            self.add("episode", str(episode))
        if season is not None:
            self.add("season", str(season))
        if image:
            self.add("image", attrs={"href": image})
        if block:
            self.add("block", "yes")
