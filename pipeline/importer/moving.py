"""The steps that move a show's listeners to the new feed: apps follow a permanent redirect
or `itunes:new-feed-url`, and directories are told once; nothing else reaches subscribers."""

from __future__ import annotations

from ..project.config import public_url


def moving_steps(name: str, old_feed: str, base_url: str) -> list[str]:
    new_feed = public_url(base_url, f"{name}.xml")
    old = old_feed if old_feed.startswith(("http://", "https://")) else "the old feed's URL"
    return [
        (f"Edit feeds/{name}.toml (base_url, storage), then `publish episode` each episode "
         f"and `publish validate {name}`: it compares the new feed with {name}.imported.xml "
         "and names any GUID that would change or disappear."),
        f"Check the new feed ({new_feed}) in a podcast app, e.g. with `publish serve`.",
        (f"Keep {old} up, answering with a permanent redirect (HTTP 301) to {new_feed}, or, "
         f"where the old host cannot redirect, with <itunes:new-feed-url>{new_feed}"
         "</itunes:new-feed-url> in its channel; keep it for at least four weeks, until apps "
         "have followed."),
        ("Update the feed URL where the show is listed: Apple Podcasts Connect, Spotify for "
         "Creators, YouTube Music, Amazon Music, Podcast Index (podcastindex.org), and the "
         "show's website."),
    ]
