"""What is published where: the catalogue in the repo joined with the manifest in storage."""

from __future__ import annotations

from .audio import master
from .manifest import Manifest
from .project.config import public_url
from .checks.renames import orphan_message, orphans
from .session import Session


def rows(s: Session, manifest: Manifest) -> list[dict]:
    """One row per episode, from the repo and from storage: storage wins, a folder may be gone."""
    out: dict[str, dict] = {}
    for ep in s.catalogue:
        out[ep.slug] = {"episode": ep.slug, "number": ep.number, "title": ep.title,
                        "state": "draft", "published": ep.published.isoformat(),
                        "duration_s": None, "output_lufs": None, "url": None,
                        "report": None, "engine": None, "older_engine": False,
                        "as_published": not ep.master}
    for slug, rec in manifest.episodes.items():
        out[slug] = {"episode": slug, "number": rec.number, "title": rec.title,
                     "state": "published" if rec.published <= s.now else "scheduled",
                     "published": rec.published.isoformat(), "duration_s": rec.audio.duration_s,
                     "output_lufs": rec.loudness.get("output", {}).get("integrated_lufs"),
                     "url": public_url(s.feed.base_url, rec.audio.key),
                     "report": (public_url(s.feed.base_url, rec.report["png"].key)
                                if "png" in rec.report else None),
                     "engine": None if rec.as_published else rec.audio.engine,
                     "older_engine": (not rec.as_published
                                      and rec.audio.older_engine(master.ENGINE_VERSION)),
                     "as_published": rec.as_published}
    return sorted(out.values(), key=lambda r: (r["published"], r["number"]))


def warnings(s: Session, manifest: Manifest) -> list[str]:
    """Published episodes whose folder is gone, with the two ways out (see renames.py)."""
    return [f"warning: {orphan_message(rec, s.feed.path)}"
            for rec in orphans(manifest, s.catalogue, s.feed.removed_guids)]


def table(rows: list[dict]) -> str:
    """The rows as text; episodes an older engine mastered are marked, with how to update them."""
    header = ("#", "episode", "state", "publish date", "duration", "LUFS", "engine", "URL",
              "loudness report")
    lines = [header]
    for r in rows:
        dur = r["duration_s"]
        lines.append((str(r["number"]), r["episode"], r["state"], r["published"][:16],
                      f"{int(dur // 60)}:{int(dur % 60):02d}" if dur is not None else "-",
                      f"{r['output_lufs']:.1f}" if r["output_lufs"] is not None else "-",
                      _engine(r), r["url"] or "-", r["report"] or "-"))
    widths = [max(len(row[i]) for row in lines) for i in range(len(header))]
    text = "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in lines)
    if any(r["older_engine"] for r in rows):
        text += (f"\n* mastered by an engine older than {master.ENGINE_VERSION}: re-runs keep "
                 "its audio; publish episode EPISODE --remaster masters it again")
    return text


def _engine(row: dict) -> str:
    if row["url"] is None:
        return "-"
    if row["as_published"]:
        return "as is"
    return (row["engine"] or "?") + ("*" if row["older_engine"] else "")
