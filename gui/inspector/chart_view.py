"""A chart drawn in a worker process and shown as a picture, with its exact numbers on hover.

Drawing a chart with matplotlib takes a tenth of a second or more, and importing it most of a
second; on the UI thread either stalls the window. :class:`ChartView` asks a worker process
(the "chart" job of :mod:`modelgate.gui.ops.process_child`) to draw its chart at the widget's
size and device pixel ratio in the palette's colours, and shows the PNG it returns. The
picture's hover map (:class:`~modelgate.core.benchmarks.picture.Picture`) gives the tooltip
under the mouse. A resize or a theme change asks for a new picture once things settle; while
one is drawn the widget says so, and a picture that no longer fits what is wanted is dropped.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QPainter, QPalette, QPixmap
from PySide6.QtWidgets import QToolTip, QWidget

from modelgate.core.benchmarks.charts import ChartColours
from modelgate.gui.app.theme import BAD, DOUBT, GOOD, MUTED, ink
from modelgate.gui.ops.background import BackgroundOperation

#: How long the widget waits after a resize or a theme change before asking for a picture, in
#: milliseconds: a window dragged wider asks once, when the user lets go.
SETTLE_MS = 150
#: What the widget says while its picture is drawn.
DRAWING = "Drawing the charts…"


def chart_colours(widget: QWidget) -> ChartColours:
    """The colours of ``widget``'s palette and the theme's inks, for a chart drawn inside it."""
    palette = widget.palette()
    return ChartColours(background=palette.color(QPalette.ColorRole.Base).name(),
                        text=palette.color(QPalette.ColorRole.Text).name(),
                        grid=palette.color(QPalette.ColorRole.Mid).name(), good=str(GOOD), bad=str(BAD),
                        champion=ink("champion"), doubt=str(DOUBT), muted=str(MUTED))


class ChartView(QWidget):
    """Chart ``kind`` of ``content`` (see :data:`~modelgate.core.benchmarks.picture.KINDS`), drawn
    by ``workers``' processes whenever the widget is shown at a size or in colours it has no
    picture for; ``height(width)`` is its height at a width. ``picture`` is the one shown (None
    until the first arrives)."""

    drawn = Signal(object)          # the Picture now shown

    def __init__(self, *, workers, kind: str, content: dict, height: Callable[[int], int],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._workers = workers
        self._kind, self._content = kind, content
        self.picture = None
        self._pixmap: QPixmap | None = None
        self._shown_key = None          # what the picture shown was drawn for
        self._wanted = None             # what the next picture must be drawn for
        self._drawing = None            # what the picture being drawn is for (one at a time)
        self._failure: str | None = None
        #: Pictures that arrived after the widget had come to want another, and were not shown.
        self.dropped = 0
        self._height = height
        self.setFixedHeight(height(self.width()))
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self._settle = QTimer(self, singleShot=True, interval=SETTLE_MS)
        self._settle.timeout.connect(self._on_settle_timeout)

    @property
    def failure(self) -> str | None:
        """Why the chart could not be drawn at this size and in these colours (None: it could)."""
        return self._failure

    @property
    def waiting(self) -> bool:
        """Whether the widget waits for a picture that fits its size and colours now."""
        return self._failure is None and self._key() != self._shown_key

    # ------------------------------------------------------------------ what to draw
    def _key(self) -> tuple:
        return self.width(), self.height(), round(self.devicePixelRatioF(), 3), chart_colours(self)

    def _ask(self) -> None:
        """Ask for a picture that fits the widget now, once things settle."""
        if self.isVisible() and self._key() != self._shown_key:
            self._settle.start()        # restarted by each resize: one request when they stop

    def _on_settle_timeout(self) -> None:
        if not self.isVisible():
            return
        self._wanted = self._key()
        if self._wanted != self._shown_key:
            self._failure = None            # a new size or theme: try again, and say so meanwhile
            if self._drawing is None:
                self._draw(self._wanted)
        self.update()

    def _draw(self, key: tuple) -> None:
        width, height, ratio, colours = key
        processes, kind, content = self._workers.processes, self._kind, self._content
        self._drawing = key

        def draw(progress):
            return processes.run("chart", kind=kind, content=content, colours=colours, width=width,
                                 height=height, ratio=ratio, progress=progress)

        (BackgroundOperation(parent=self, executor=self._workers.bundles, work=draw)
         .on_success(lambda picture: self._arrived(key, picture))
         .on_failure(lambda error: self._failed(key, error))
         .on_cancelled(lambda: self._failed(key, None)).start())

    def _arrived(self, key: tuple, picture) -> None:
        self._drawing = None
        if key != self._wanted:
            self.dropped += 1           # drawn for a size or colours no longer wanted
            self._ask_again()
            return
        pixmap = QPixmap()
        pixmap.loadFromData(picture.png, "PNG")
        pixmap.setDevicePixelRatio(picture.ratio)
        self.picture, self._pixmap, self._shown_key, self._failure = picture, pixmap, key, None
        self.setAccessibleDescription("\n".join(picture.titles + picture.legend))
        self.update()
        self.drawn.emit(picture)

    def _failed(self, key: tuple, error) -> None:
        self._drawing = None
        if error is not None and key == self._wanted:
            from modelgate.gui.dialogs.error import explain

            self._failure = f"The charts could not be drawn: {explain(error)[0]}"
            self._shown_key = key       # not asked again until the size or the colours change
            self.update()
        self._ask_again()

    def _ask_again(self) -> None:
        if self._wanted is not None and self._wanted != self._shown_key and self.isVisible():
            self._draw(self._wanted)

    # ------------------------------------------------------------------ Qt
    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._ask()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        height = self._height(self.width())
        if height != self.height():
            self.setFixedHeight(height)     # resized again, at this width: asks then
            return
        self._ask()

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange,
                            QEvent.Type.StyleChange):
            self._ask()

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        palette = self.palette()
        painter.fillRect(self.rect(), palette.color(QPalette.ColorRole.Base))
        if self._pixmap is not None and self._failure is None:   # a failure is said on a clean ground
            painter.drawPixmap(0, 0, self._pixmap)
        if self._failure is not None or self.waiting:
            text = self._failure or DRAWING
            painter.setPen(BAD.qcolor() if self._failure else palette.color(QPalette.ColorRole.Text))
            box = QRectF(self.rect()).adjusted(12, 12, -12, -12)
            if self._pixmap is None or self._failure:
                painter.drawText(box, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, text)
            else:               # over the old picture, in a corner, until the new one arrives
                bound = painter.boundingRect(box, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop, text)
                painter.fillRect(bound.adjusted(-6, -3, 6, 3), palette.color(QPalette.ColorRole.Base))
                painter.drawText(bound, text)
        painter.end()

    def event(self, event) -> bool:
        if event.type() == QEvent.Type.DevicePixelRatioChange:
            self._ask()                 # moved to a screen of another scaling: drawn sharp for it
        elif event.type() == QEvent.Type.ToolTip:
            spot = self.spot_at(event.pos().x(), event.pos().y())
            if spot is None:
                QToolTip.hideText()
                event.ignore()
            else:
                area = QRectF(spot.left, spot.top, spot.width, spot.height).toAlignedRect()
                QToolTip.showText(event.globalPos(), spot.text, self, area)
            return True
        return super().event(event)

    def spot_at(self, x: float, y: float):
        """The hover spot of the picture shown at ``(x, y)``, if any (a stale picture's spots are
        where that picture is drawn, so they still match it)."""
        if self.picture is None or self._failure is not None:
            return None
        return self.picture.spot_at(x, y)


def charts_settled(widget: QWidget) -> bool:
    """Whether every chart shown inside ``widget`` has the picture that fits it (or said why it has
    none): what a screenshot waits for."""
    return not any(chart.isVisible() and chart.waiting for chart in widget.findChildren(ChartView))
