"""Update pings: after a run changed a feed, WebSub hubs and Podping hear of it at once.

Apps poll feeds every hour or so; a ping lets the services they listen to (WebSub hubs,
Podping's Hive stream) tell them to refresh now. A ping is a courtesy, never part of
publishing: it runs after the commit, is retried a few times with backoff within a bounded
time, and a failure is a warning, never an error.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlencode, urlsplit

from .. import __version__
from ..project.config import FeedConfig, PingSettings

PODPING_TOKEN_ENV = "PODPING_TOKEN"
USER_AGENT = f"publish/{__version__} (podcast publishing pipeline)"
# Worth another try: the service is busy or failing for now. Other 4xx will not change.
RETRY_STATUSES = (408, 425, 429, 500, 502, 503, 504)


@dataclass(frozen=True)
class Ping:
    """One request to one service about one feed."""

    feed: str
    service: Literal["websub", "podping"]
    endpoint: str
    method: Literal["GET", "POST"]
    url: str
    fields: dict[str, str] | None = None  # a form body (WebSub)
    token: str | None = None  # the Authorization header (Podping)
    missing: str | None = None  # why it cannot be sent (no token)


def is_public(url: str) -> bool:
    """Whether services on the internet could fetch this URL: no loopback, LAN or .local."""
    host = (urlsplit(url).hostname or "").lower()
    if not host or host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        return False
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return True
    return ip.is_global


def planned(feed: FeedConfig, token: str | None) -> list[Ping]:
    """The pings a change of this feed calls for (pure: the token is passed in)."""
    pings = [Ping(feed.name, "websub", hub, "POST", hub,
                  fields={"hub.mode": "publish", "hub.url": feed.feed_url})
             for hub in feed.ping.websub_hubs]
    endpoint = feed.ping.podping_url
    if endpoint:
        query = urlencode({"url": feed.feed_url, "reason": "update", "medium": "podcast"})
        sep = "&" if urlsplit(endpoint).query else "?"
        pings.append(Ping(feed.name, "podping", endpoint, "GET", f"{endpoint}{sep}{query}",
                          token=token,
                          missing=None if token else f"${PODPING_TOKEN_ENV} is not set"))
    return pings


def send(ping: Ping, settings: PingSettings) -> dict:
    """One ping with its retries; the outcome, never an exception."""
    outcome = {"feed": ping.feed, "service": ping.service, "endpoint": ping.endpoint,
               "ok": False, "status": None, "tries": 0, "error": ping.missing}
    if ping.missing:
        return outcome
    import urllib3  # here, not at the top: most runs ping nothing, and every command loads us
    from urllib3.exceptions import HTTPError as TransportError
    from urllib3.util import Retry, Timeout

    retries = Retry(total=settings.attempts - 1, backoff_factor=settings.backoff_s,
                    status_forcelist=RETRY_STATUSES, allowed_methods=None,
                    raise_on_status=False, respect_retry_after_header=False, redirect=3)
    headers = {"User-Agent": USER_AGENT}
    if ping.token:
        headers["Authorization"] = ping.token
    pool = urllib3.PoolManager(retries=retries, timeout=Timeout(
        connect=settings.timeout_s, read=settings.timeout_s))
    try:
        if ping.fields is not None:
            response = pool.request("POST", ping.url, fields=ping.fields, headers=headers,
                                    encode_multipart=False)
        else:
            response = pool.request("GET", ping.url, headers=headers)
    except TransportError as exc:
        reason = getattr(exc, "reason", None) or exc
        return {**outcome, "tries": settings.attempts, "error": _one_line(reason)}
    finally:
        pool.clear()
    tries = len(response.retries.history) + 1 if response.retries else 1
    ok = 200 <= response.status < 300
    return {**outcome, "ok": ok, "status": response.status, "tries": tries,
            "error": None if ok else f"HTTP {response.status} {response.reason or ''}".strip()}


def _one_line(reason: object) -> str:
    return " ".join(str(reason).split())[:300]


def notify(feeds: list[FeedConfig], results: list[dict], *, skip: bool,
           log: Callable[[str], None]) -> list[dict]:
    """Ping for every feed whose bytes this run changed; `results` are the commit's feeds.

    Nothing is sent when `skip` (--no-ping, --dry-run), for an unchanged feed, or for a feed
    whose URL the services could not fetch; each ping runs in its own thread, so the whole
    takes as long as the slowest one."""
    changed = {r["name"] for r in results if r["changed"]}
    if skip or not changed:
        return []
    token = os.environ.get(PODPING_TOKEN_ENV, "").strip() or None
    pings: list[tuple[Ping, PingSettings]] = []
    for feed in feeds:
        if feed.name not in changed:
            continue
        wanted = planned(feed, token)
        if wanted and not is_public(feed.feed_url):
            log(f"note: not pinging for {feed.name}: its URL {feed.feed_url} is not public")
            continue
        pings += [(p, feed.ping) for p in wanted]
    if not pings:
        return []
    with ThreadPoolExecutor(max_workers=min(8, len(pings))) as pool:
        outcomes = list(pool.map(lambda p: send(*p), pings))
    for o in outcomes:
        if not o["ok"]:
            how = f"failed after {o['tries']} tries" if o["tries"] else "not sent"
            log(f"warning: {o['service']} ping for {o['feed']} to {o['endpoint']} {how}: "
                f"{o['error']} (the feed is published; apps will see it at their next poll)")
    return outcomes
