"""Analytics prefixes (OP3, Podtrac, Chartable): where a listener's download is counted.

A prefix service answers with a redirect to the URL that follows its prefix. OP3, Podtrac
and Chartable all document the media URL appended without its `https://` (OP3 and Podtrac
take it with the scheme as well, and need it for plain http), so that is what we write:
`https://op3.dev/e/cdn.example.org/episodes/a.mp3`, and `http://...` kept whole. Prefixes
chain the same way (`https://op3.dev/e/dts.podtrac.com/redirect.mp3/`). The prefix is put
on URLs when the feed and the website are rendered, never in storage keys or the manifest.
"""

from __future__ import annotations

from ..project.config import GUID_PLACEHOLDER, FeedConfig


def resolved_prefix(feed: FeedConfig, podcast_guid: str) -> str:
    """The feed's prefix with its `{podcast_guid}` filled in ('' for none)."""
    return (feed.analytics_prefix or "").replace(GUID_PLACEHOLDER, podcast_guid)


def prefixed(prefix: str, url: str) -> str:
    """The URL apps are given for a media file: through the prefix, when there is one."""
    if not prefix:
        return url
    return prefix + url.removeprefix("https://")


def unprefixed(prefix: str, url: str) -> str:
    """The media file's own URL, from a URL the feed gives apps (the inverse of `prefixed`)."""
    if not prefix or not url.startswith(prefix):
        return url
    rest = url[len(prefix):]
    return rest if rest.startswith(("http://", "https://")) else f"https://{rest}"
