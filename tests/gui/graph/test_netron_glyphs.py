"""The graph page draws Netron's angle brackets (U+3008, U+3009) with the app's own font, not as boxes."""

from __future__ import annotations

import json
import re
import urllib.request

import pytest

from modelgate.core import resources
from modelgate.gui.graph.netron_page import (GLYPH_FONT_FAMILY, GLYPH_FONT_FILE, GLYPH_FONT_RESOURCE, locate_viewer,
                                             with_glyph_font)
from modelgate.gui.graph.netron_server import NetronServer

BRACKETS = (0x3008, 0x3009)
FAMILIES = re.compile(r"font-family:\s*([^;{}]+?)\s*[;}]")


def test_the_shipped_font_has_the_brackets_and_its_licence(qapp):
    from PySide6.QtGui import QFont, QFontDatabase, QFontMetrics

    data = resources.path(GLYPH_FONT_RESOURCE).read_bytes()
    font_id = QFontDatabase.addApplicationFontFromData(data)
    try:
        assert QFontDatabase.applicationFontFamilies(font_id) == [GLYPH_FONT_FAMILY]
        metrics = QFontMetrics(QFont(GLYPH_FONT_FAMILY))
        assert all(metrics.inFontUcs4(code) for code in BRACKETS)
    finally:
        QFontDatabase.removeApplicationFont(font_id)
    licence = resources.path("fonts/OFL.txt").read_text(encoding="utf-8")
    assert "SIL OPEN FONT LICENSE Version 1.1" in licence and GLYPH_FONT_FILE in licence


def test_netron_draws_brackets_its_usual_fonts_may_lack():
    """If Netron stops using the brackets, or uses new glyphs, the shipped font must follow."""
    view = (locate_viewer().folder / "view.js").read_text(encoding="utf-8")
    assert "\\u3008" in view and "\\u3009" in view


def test_every_font_list_of_the_page_ends_with_the_glyph_font(demo_workspace):
    model = demo_workspace / "bundles" / "credit-risk-1.1.0" / "model" / "credit-risk.onnx"
    server = NetronServer(viewer=locate_viewer(), model=model)
    url = server.start()
    try:
        served = {}
        for name in ("", "grapher.css", GLYPH_FONT_FILE):
            with urllib.request.urlopen(url + name) as response:
                served[name] = (response.read(), response.headers["Content-Type"])
    finally:
        server.stop()
    page, css = served[""][0].decode(), served["grapher.css"][0].decode()
    assert served[GLYPH_FONT_FILE] == (resources.path(GLYPH_FONT_RESOURCE).read_bytes(), "font/otf")
    assert f'@font-face {{ font-family: "{GLYPH_FONT_FAMILY}"; src: url("{GLYPH_FONT_FILE}")' in page
    lists = FAMILIES.findall(page) + FAMILIES.findall(css)
    named = [f for f in lists if f not in ("inherit", f'"{GLYPH_FONT_FAMILY}"')]
    assert len(named) >= 10 and all(f.endswith(f', "{GLYPH_FONT_FAMILY}"') for f in named), named
    assert with_glyph_font(css) == css                     # once only


def _run(qtbot, page, script: str):
    result = []
    page.runJavaScript(script, 0, result.append)
    qtbot.waitUntil(lambda: bool(result), timeout=10_000)
    return result[0]


@pytest.mark.slow
def test_the_drawn_graph_uses_the_glyph_font_for_its_brackets(qtbot, demo_workspace, launchers):
    launcher = launchers(embedded=True)
    launcher.open(model=demo_workspace / "bundles" / "credit-risk-1.1.0" / "model" / "credit-risk.onnx",
                  title="glyphs")
    window = launcher.windows[-1]
    qtbot.waitUntil(lambda: window.nodes > 0, timeout=60_000)
    page = window.page
    _run(qtbot, page, f"window.__glyphs = null; document.fonts.load('40px \"{GLYPH_FONT_FAMILY}\"', '\\u3008')"
                      ".then(f => window.__glyphs = f.map(x => x.status).join(',')); true")
    qtbot.waitUntil(lambda: _run(qtbot, page, "window.__glyphs") is not None, timeout=10_000)
    assert _run(qtbot, page, "window.__glyphs") == "loaded"
    measured = json.loads(_run(qtbot, page, """(() => {
        const text = document.querySelector('#canvas text');
        const family = getComputedStyle(text).fontFamily;
        const width = (fam) => { const s = document.createElement('span'); s.style.fontFamily = fam;
            s.style.fontSize = '40px'; s.style.position = 'absolute'; s.textContent = '\\u3008\\u3009';
            document.body.appendChild(s); const w = s.getBoundingClientRect().width; s.remove(); return w; };
        return JSON.stringify({family: family, page: width(family), ours: width('"%s"')});
    })()""" % GLYPH_FONT_FAMILY))
    assert measured["family"].endswith(f'"{GLYPH_FONT_FAMILY}"'), measured
    # The graph's own font list draws the brackets exactly as the glyph font does: full-width
    # glyphs, 1 em each, where a missing glyph would be a narrower box.
    assert measured["page"] == measured["ours"] == pytest.approx(80, abs=1), measured
