"""One palette for both themes: every text role and every ink reaches WCAG AA on the
backgrounds it is drawn on, and the app paints what the palette says."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QLabel

from modelgate.gui.app import theme
from tests.gui.contrast import AA, contrast, low_contrast


@pytest.mark.parametrize("name", ["light", "dark"])
def test_every_text_role_reads_on_its_background(name):
    roles = theme.ROLES[name]
    failing = [(text.name, back.name, round(contrast(roles[text], roles[back]), 2))
               for text, back in theme.TEXT_ON if contrast(roles[text], roles[back]) < AA]
    assert failing == []


@pytest.mark.parametrize("name", ["light", "dark"])
def test_every_ink_reads_on_every_background_it_meets(name):
    roles = theme.ROLES[name]
    failing = [(ink, back.name, round(contrast(colour, roles[back]), 2))
               for ink, colour in theme.INKS[name].items() for back in theme.INK_BACKGROUNDS
               if contrast(colour, roles[back]) < AA]
    assert failing == []


def test_both_themes_name_the_same_roles_and_inks():
    assert theme.ROLES["light"].keys() == theme.ROLES["dark"].keys()
    assert theme.INKS["light"].keys() == theme.INKS["dark"].keys()


def test_the_bad_tint_keeps_bad_text_readable():
    for name in ("light", "dark"):
        red, green, blue, alpha = theme.TINTS["bad"]
        base = theme.ROLES[name][QPalette.ColorRole.Base]
        mixed = [round(int(base[1 + 2 * i:3 + 2 * i], 16) * (1 - alpha / 255) + c * alpha / 255)
                 for i, c in enumerate((red, green, blue))]
        behind = "#" + "".join(f"{c:02x}" for c in mixed)
        assert contrast(theme.INKS[name]["bad"], behind) >= AA
        assert contrast(theme.ROLES[name][QPalette.ColorRole.Text], behind) >= AA


@pytest.mark.parametrize("name", ["light", "dark"])
def test_the_app_paints_the_palette_and_inks_follow_it(qapp, name):
    before = qapp.palette()
    try:
        theme.apply_theme(qapp, theme=name)
        assert qapp.palette().color(QPalette.ColorRole.Window).name() == theme.ROLES[name][QPalette.ColorRole.Window]
        assert theme.current_theme() == name
        assert f"{theme.BAD}" == theme.INKS[name]["bad"]
    finally:
        qapp.setPalette(before)


def test_the_rendered_walk_catches_a_colour_that_does_not_read(qtbot, qapp):
    before = qapp.palette()
    try:
        theme.apply_theme(qapp, theme="dark")
        good = QLabel(f"<span style='color:{theme.GOOD}'>passed</span>")
        unreadable = QLabel("failed", objectName="unreadable")
        unreadable.setStyleSheet("color: #3a3a3a;")     # near the dark window colour
        for label in (good, unreadable):
            qtbot.addWidget(label)
            label.show()
        assert low_contrast(good) == []
        assert low_contrast(unreadable) and "unreadable" in low_contrast(unreadable)[0]
        light_ink = QLabel(f"<span style='color:{theme.ink('good', theme='light')}'>passed</span>")
        qtbot.addWidget(light_ink)
        light_ink.show()
        assert low_contrast(light_ink), "the light theme's green is too dark on the dark window"
    finally:
        qapp.setPalette(before)


def test_no_screen_writes_a_colour_of_its_own():
    import re
    from pathlib import Path

    import modelgate.gui

    literal = re.compile(r"""#[0-9a-fA-F]{6}\b|#[0-9a-fA-F]{3}\b|QColor\(\s*["'\d]|rgba?\(\s*\d|Qt\.GlobalColor""")
    root = Path(modelgate.gui.__file__).parent
    found = [f"{path.relative_to(root)}:{number}: {line.strip()}"
             for path in sorted(root.rglob("*.py")) if path.name != "theme.py"
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
             if literal.search(line)]
    assert found == []
