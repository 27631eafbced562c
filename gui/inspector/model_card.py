"""Model card: the card's Markdown rendered and sanitised (see :mod:`.card_html`), and its
front matter as a table."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import QUrl, Qt, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QSizePolicy, QSplitter, QTextBrowser, QVBoxLayout, QWidget

from modelgate.core.errors import BundleError
from modelgate.gui.dialogs.link_confirm import confirm_and_open
from modelgate.gui.app.theme import follow_theme, tint_css
from modelgate.gui.inspector.widgets import DOUBT, MUTED, note, section, table

#: Largest bundle image shown in a card, in bytes.
MAX_IMAGE_BYTES = 4 * 1024 * 1024


def card_style() -> str:
    """The card's style sheet in the theme's inks (asked for when a card is shown)."""
    return (f"span.blocked {{ color: {DOUBT}; font-style: italic; }} "
            f"table {{ border-collapse: collapse; }} th, td {{ border: 1px solid {MUTED}; padding: 3px 6px; }} "
            f"pre {{ background-color: {tint_css('code')}; }}")


class CardBrowser(QTextBrowser):
    """A text browser that loads only the resources it was handed: never a file, never the network."""

    resource_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self.setObjectName("card-browser")
        self.resources: dict[str, QImage] = {}

    def loadResource(self, kind: int, url: QUrl):
        self.resource_requested.emit(url.toString())
        return self.resources.get(url.toString())

    def show_html(self, html: str) -> None:
        """Show ``html`` in the card style of the theme in force, set again when the theme changes."""
        def paint() -> None:
            self.document().clear()
            self.document().setDefaultStyleSheet(card_style())
            self.setHtml(html)

        follow_theme(self, paint)


class ModelCardTab(QWidget):
    """The Model card tab."""

    link_opened = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.browser = CardBrowser()
        self.browser.anchorClicked.connect(self._on_browser_anchor_clicked)
        self.front_matter = QWidget()
        self.splitter = QSplitter(Qt.Orientation.Vertical, objectName="card-splitter")
        self.splitter.addWidget(self.front_matter)
        self.splitter.addWidget(self.browser)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.splitter)
        self.rendered = None

    def show_subject(self, subject) -> None:
        facts = subject.facts
        card = facts.card
        self._replace_front_matter(card, facts.card_problem)
        self.browser.resources = {}
        if card is None:
            self.rendered = None
            self.browser.show_html(f"<p>{escape(facts.card_problem or '')}</p>")
            return
        self.rendered = facts.card_html
        for source in self.rendered.local_images:
            image = self._bundle_image(facts.bundle, source)
            if image is not None:
                self.browser.resources[QUrl(source).toString()] = image
        self.browser.show_html(self.rendered.html)

    def _replace_front_matter(self, card, problem: str | None) -> None:
        if card is None:
            content = note(problem or "", colour=DOUBT)
        elif card.front_matter_error is not None:
            content = note(f"The front matter cannot be read (line {card.front_matter_error.line}): "
                           f"{card.front_matter_error.message}", colour=DOUBT)
        elif not card.front or not card.front.values:
            content = note("The card has no front matter.")
        else:
            rows = [(key, value.display) for key, value in card.front.values]
            content = table(("Key", "Value"), rows, stretch=1, object_name="front-matter")
        box = section("Front matter", content)
        old = self.splitter.replaceWidget(0, box)
        if old is not None:
            old.deleteLater()
        box.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.front_matter = box
        self._fit_front_matter()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._fit_front_matter()

    def _fit_front_matter(self) -> None:
        """Never more room for the front matter than it needs; less, if the user dragged it smaller."""
        sizes = self.splitter.sizes()
        needed = self.front_matter.sizeHint().height()
        if sum(sizes) > needed and sizes[0] > needed:
            self.splitter.setSizes([needed, sum(sizes) - needed])

    @staticmethod
    def _bundle_image(bundle, source: str) -> QImage | None:
        try:
            path = bundle.resolve(source)
            if not path.is_file() or path.stat().st_size > MAX_IMAGE_BYTES:
                return None
            image = QImage(str(path))
        except (BundleError, OSError):
            return None
        return None if image.isNull() else image

    def _on_browser_anchor_clicked(self, url: QUrl) -> None:
        if not url.scheme() and url.hasFragment() and not url.path():
            self.browser.scrollToAnchor(url.fragment())
            return
        if confirm_and_open(parent=self, url=url):
            self.link_opened.emit(url.toString())
