"""Property-based: whatever the titles, notes, names and transcript say, the site's pages hold
no script element of theirs and no attribute outside the allow-list, and show the text as text."""

from __future__ import annotations

import json
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sitecase import NOW, Page, cues_json, episode, feed_config, site, transcript_file

from pipeline.project.config import EpisodeConfig

TRICKY = list("<>&\"'`=/\\\t\n \u202e\u05d0\U0001f399") + [
    "<script>alert(1)</script>", "</script>", "<img src=x onerror=alert(1)>", "javascript:",
    "\" onmouseover=\"alert(1)", "' autofocus onfocus='x", "{{ 7*7 }}", "{% raw %}", "<!--",
    "<![CDATA[", "]]>", "&lt;", "[x](javascript:alert(1))", "<a href=\"javascript:x\">y</a>",
    "<svg onload=alert(1)>", "<style>", "<iframe src=//evil.example>"]
text = st.lists(st.one_of(
    st.text(st.characters(blacklist_categories=("Cs", "Cc", "Co", "Cn")), max_size=20),
    st.sampled_from(TRICKY)), min_size=1, max_size=10).map("".join)
one_line = text.filter(lambda s: s.split())
label = one_line.map(lambda s: s[:64]).filter(lambda s: s.split())  # a subscribe link's name

# Every element and attribute the default templates write, plus what the notes sanitizer lets
# through (pipeline/notes.py); an input that adds anything else has injected markup.
ALLOWED = {
    "html": {"lang"}, "head": set(), "body": {"class"}, "title": set(),
    "meta": {"charset", "http-equiv", "content", "name", "property"},
    "link": {"rel", "type", "title", "href"}, "script": {"src", "defer", "type"},
    "header": {"class"}, "main": {"id", "class"}, "footer": {"class"}, "nav": {"aria-label",
                                                                              "class"},
    "article": {"class"}, "section": {"aria-labelledby"}, "div": {"class"},
    "h1": set(), "h2": {"id", "class"}, "h3": set(), "h4": set(),
    "p": {"class", "data-cue", "data-start", "role", "aria-live"},
    "a": {"href", "class", "data-start", "rel", "target", "download", "aria-current", "title"},
    "img": {"class", "src", "alt", "width", "height"}, "time": {"datetime"},
    "audio": {"controls", "preload", "data-player", "aria-label"},
    "source": {"src", "type"},
    "ul": {"class"}, "ol": {"class"}, "li": set(), "span": {"class"}, "b": set(),
    "form": {"class", "id", "role", "hidden"}, "label": {"for"},
    "input": {"id", "type", "readonly", "value"},
    "textarea": {"id", "readonly", "rows"},
    "br": set(), "em": set(), "strong": set(), "i": set(), "blockquote": set(), "code": set(),
}


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw_title=one_line, notes_md=text, name=one_line, chapter=one_line, cue=one_line,
       speaker=one_line, show_title=one_line, description=text.filter(str.strip),
       directory=label)
def test_hostile_text_never_becomes_markup(raw_title, notes_md, name, chapter, cue, speaker,
                                           show_title, description, directory):
    title = EpisodeConfig.model_validate({"title": raw_title, "number": 1, "published": NOW,
                                          "audio": "x.flac"}).title
    feed = feed_config(title=show_title, description=description,
                       persons=[{"name": name, "href": "https://example.com/?a=1&b=\"2\""}],
                       site={"subscribe": [{"name": directory,
                                            "url": "https://example.com/'\"><x"}]})
    tr = transcript_file("ep")
    ep = episode("ep", 1, NOW - timedelta(days=1), notes_md, title=title,
                 persons=[{"name": name, "role": "guest"}], transcripts=[tr],
                 chapters=[{"start_s": 0, "title": chapter, "url": "https://example.com/\"<"}],
                 soundbites=[{"start_s": 1, "duration_s": 2, "title": chapter}])
    s = site(ep, feeds=[feed], transcripts={tr["key"]: cues_json((0, 1, cue, speaker))})

    for key, data in s.pages.items():
        if not key.endswith(".html"):
            continue
        page = Page.of(data)
        for el in page.elements:
            assert el.tag in ALLOWED and set(el.attrs) <= ALLOWED[el.tag], (key, el)
            for attr in ("href", "src"):
                url = (el.attrs.get(attr) or "").strip().lower()
                assert not url.startswith("javascript:"), (key, el)
        for script in page.find("script"):
            assert script.attrs.get("src", "").startswith(("assets/", "../assets/",
                                                           "https://cdn.example.com/show/")) \
                or (script.attrs.get("type") == "application/ld+json"
                    and isinstance(json.loads(script.text), dict)), (key, script)

    episode_page = Page.of(s.pages["episodes/ep.html"])
    assert episode_page.find("h1")[0].text == title
    assert episode_page.jsonld()["name"] == title
    assert f"{speaker}: {cue}" in episode_page.text
    assert Page.of(s.pages["index.html"]).find("h1")[0].text == feed.title
