"""Model card Markdown to HTML that can do nothing but be read.

The card comes from whoever built the bundle, so its HTML is untrusted. It is rendered
with ``markdown`` and then cleaned with nh3 (the Rust ``ammonia`` sanitiser): scripts,
styles, frames and forms are removed with their content; event handlers, inline styles
and every attribute not listed below are dropped; links keep only http, https and mailto
addresses (``javascript:`` and ``data:`` go). Images are the one thing a reader would
fetch by merely opening the card, which tells a third party who read it and when: only
images inside the bundle keep their address; any other is replaced by a note naming it.
The widget showing the result (:mod:`.model_card`) loads nothing it was not handed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import escape
from urllib.parse import urlsplit


TAGS = {"a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "details", "div", "dl", "dt", "em",
        "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "kbd", "li", "ol", "p", "pre", "s", "span",
        "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul"}
ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title", "width", "height"},
              "td": {"align"}, "th": {"align"}, "abbr": {"title"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}
#: Removed together with everything inside them.
DROPPED_WITH_CONTENT = {"script", "style", "iframe", "object", "embed", "noscript", "template", "form",
                        "textarea", "select", "svg", "math"}
_BLOCKED_IMAGE = "modelgate-blocked-image:"
_IMG = re.compile(r"<img\b[^>]*>")
_ATTR = re.compile(r'\b(src|alt)="([^"]*)"')


@dataclass
class RenderedCard:
    """Safe HTML, the bundle-relative images it shows and the remote images it left out."""

    html: str
    local_images: list[str] = field(default_factory=list)
    blocked_images: list[str] = field(default_factory=list)


def is_local(address: str) -> bool:
    """Whether ``address`` is a plain relative path (inside the bundle, if it resolves)."""
    parts = urlsplit(address)
    return not (parts.scheme or parts.netloc or address.startswith(("/", "\\")) or ".." in address.split("/"))


def _filter(tag: str, attribute: str, value: str) -> str | None:
    if tag == "img" and attribute == "src":
        return value if is_local(value) else _BLOCKED_IMAGE + value
    return value


def render_card(markdown_text: str) -> RenderedCard:
    """Render ``markdown_text`` (the card body, without front matter) to sanitised HTML."""
    import markdown
    import nh3

    raw = markdown.markdown(markdown_text, extensions=["tables", "fenced_code", "sane_lists"],
                            output_format="html")
    clean = nh3.clean(raw, tags=TAGS, attributes=ATTRIBUTES, attribute_filter=_filter, url_schemes=URL_SCHEMES,
                      clean_content_tags=DROPPED_WITH_CONTENT, strip_comments=True,
                      link_rel="noopener noreferrer nofollow")
    card = RenderedCard("")

    def image(match: re.Match) -> str:
        attributes = {name: value for name, value in _ATTR.findall(match.group(0))}
        source = attributes.get("src", "")
        if source.startswith(_BLOCKED_IMAGE):
            address = source[len(_BLOCKED_IMAGE):]
            card.blocked_images.append(address)
            alt = f" “{attributes['alt']}”" if attributes.get("alt") else ""
            return (f'<span class="blocked">[image{alt} not loaded: it would be fetched from '
                    f'{escape(address)}]</span>')
        if source:
            card.local_images.append(source)
        return match.group(0)

    card.html = _IMG.sub(image, clean)
    return card
