"""Netron's viewer page, made fit for an offline review station (Qt-free).

Netron's page, served as it ships, does three things a review station must not let it
do: it asks ipinfo.io where the user is and then shows a cookie-consent prompt, it
sends Google Analytics hits, and once the date is more than 180 days past its build
(``<meta name="date">`` of its index.html) it locks itself behind an endless "Please
update" prompt. An air-gapped station cannot update every six months, so the app
serves a copy of the page whose ``view()`` (in browser.js) skips those steps, and it
serves it with a Content-Security-Policy that lets the page reach only its own origin.

If a newer netron changed ``view()`` so that the steps cannot be found, the page is
served unpatched: :attr:`NetronViewer.refusal` then says plainly whether it will
lock up, and the caller keeps the page offline by blocking requests itself (embedded
view only; the system browser is not used for an unpatched page). Netron is MIT-licensed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from modelgate.core.errors import ModelGateError

#: Netron's page locks itself this long after its build date.
LOCK_AFTER = timedelta(days=180)
#: The steps of ``view()`` skipped: the age lock, the consent prompt and ipinfo lookup, telemetry.
SKIPPED_STEPS = ("age", "consent", "telemetry", "capabilities")
_DATE = re.compile(r'<meta name="date" content="([^"]*)">')
_VERSION = re.compile(r'<meta name="version" content="([^"]*)">')


#: The font the page falls back on for glyphs the usual fonts lack (the angle brackets Netron
#: writes tensor types with, U+3008 and U+3009), shipped in modelgate.resources (see its OFL.txt).
GLYPH_FONT_FAMILY = "ModelGate Netron Glyphs"
GLYPH_FONT_FILE = "modelgate-netron-glyphs.otf"
GLYPH_FONT_RESOURCE = f"fonts/{GLYPH_FONT_FILE}"
GLYPH_RANGE = "U+3008-3011"
_FONT_FAMILY = re.compile(r"(font-family:\s*)([^;{}]+?)(\s*[;}])")


def with_glyph_font(css: str) -> str:
    """``css`` with the glyph font last in every ``font-family`` list (but ``inherit``).

    Last, so every font Netron names keeps drawing what it has: a browser looks for each
    character along the whole list, and only the brackets the others lack come from ours."""
    def append(match: re.Match) -> str:
        families = match.group(2)
        if families.strip() in ("inherit", "initial", "unset") or GLYPH_FONT_FAMILY in families:
            return match.group(0)
        return f'{match.group(1)}{families}, "{GLYPH_FONT_FAMILY}"{match.group(3)}'

    return _FONT_FAMILY.sub(append, css)


def glyph_font_face() -> str:
    """The ``<style>`` that declares the glyph font, served beside the page, for those characters only."""
    return (f'<style>@font-face {{ font-family: "{GLYPH_FONT_FAMILY}"; src: url("{GLYPH_FONT_FILE}") '
            f'format("opentype"); unicode-range: {GLYPH_RANGE}; }}</style>')


class NetronUnavailable(ModelGateError):
    """Netron cannot show graphs here; the message says why in plain words."""


@dataclass(frozen=True)
class NetronViewer:
    """Netron's static files, and the page and script to serve in place of its own."""

    folder: Path
    version: str
    built: datetime | None
    index_html: str
    browser_js: str
    patched: bool

    def reads(self, format_name: str) -> bool:
        """Whether this viewer has a reader for ``format_name``. Netron's browser bundle holds one
        script per model format, named as ModelGate names the formats (``onnx.js``, ``tflite.js``,
        ``safetensors.js``, ``gguf.js``, ``pytorch.js``), and picks the reader by the file's bytes."""
        return bool(format_name) and "/" not in format_name and (self.folder / f"{format_name}.js").is_file()

    def locks_up(self, *, today: datetime | None = None) -> bool:
        """Whether the page, served unpatched, shows only "Please update" on ``today``."""
        today = today or datetime.now(timezone.utc)
        return self.built is not None and today - self.built > LOCK_AFTER

    def refusal(self, *, today: datetime | None = None) -> str | None:
        """Why Netron will not show a graph today, in plain words; ``None`` when it will."""
        if self.patched or not self.locks_up(today=today):
            return None
        built = self.built.date().isoformat() if self.built else "an unknown date"
        return (f"Netron {self.version} was built on {built} and refuses to run more than 180 days "
                f"later: it shows only a 'Please update' prompt. This ModelGate could not switch that "
                f"lock off in this Netron version. Install the Netron version this ModelGate was tested "
                f"with (9.3.3) or a newer ModelGate.")


def _build_date(index_html: str) -> datetime | None:
    found = _DATE.search(index_html)
    if not found:
        return None
    try:
        return datetime.strptime(found.group(1), "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc)
    except ValueError:
        return None


def patch_view(browser_js: str) -> tuple[str, bool]:
    """``browser.js`` with the steps of :data:`SKIPPED_STEPS` left out of ``view()``; whether
    every one of them was found and left out."""
    patched = browser_js
    for step in SKIPPED_STEPS:
        call = re.compile(rf"^(\s*)await {step}\(\);$", re.MULTILINE)
        patched, count = call.subn(rf"\1/* ModelGate: {step}() skipped, the page stays offline */", patched)
        if count != 1:
            return browser_js, False
    return patched, True


def read_viewer(folder: Path) -> NetronViewer:
    """The viewer whose static files are in ``folder`` (netron's package folder)."""
    try:
        index_html = (folder / "index.html").read_text(encoding="utf-8")
        browser_js = (folder / "browser.js").read_text(encoding="utf-8")
    except OSError as error:
        raise NetronUnavailable(f"Netron's viewer files cannot be read in {folder}: {error.strerror}",
                                hint="Reinstall netron: pip install --force-reinstall netron") from None
    found = _VERSION.search(index_html)
    script, patched = patch_view(browser_js)
    return NetronViewer(folder, found.group(1) if found else "unknown", _build_date(index_html), index_html,
                        script, patched)


def locate_viewer() -> NetronViewer:
    """The installed netron's viewer; :class:`NetronUnavailable` when netron is missing."""
    try:
        import netron
    except ImportError:
        raise NetronUnavailable("Netron is not installed, so the graph cannot be shown.",
                                hint="Install the desktop extras: pip install 'modelgate[gui]'") from None
    viewer = read_viewer(Path(netron.__file__).resolve().parent)
    return viewer
