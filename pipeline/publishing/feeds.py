"""`publish feed`: every feed of a storage rebuilt from the manifest and the feed configs.

Its own module, apart from publish.py's audio steps, so that the command loads no audio
stack: the process start is most of a large catalogue's rebuild (bench/feed.py).
"""

from __future__ import annotations

from ..manifest import Manifest
from ..session import Session, with_feed_records


def rebuild_feeds(s: Session) -> dict:
    """`publish feed`: from the manifest and the feed configs alone, no audio needed."""
    _, uploads = with_feed_records(s, Manifest())
    feeds = s.commit(lambda fresh: with_feed_records(s, fresh)[0], uploads)
    return {"feeds": feeds, "site": s.site, "uploaded_bytes": s.uploaded_bytes,
            "dry_run": s.dry_run, "actions": s.actions}
