"""The auditor report as a PDF, laid out by ReportLab's platypus.

A4 pages with the report's title and generation time in the running head and "page N
of M" at the foot; tables repeat their header row across pages; the charts are PNGs at
200 dpi. Text is set in DejaVu Sans, which matplotlib ships, so every character a user
may have typed (arrows, accents, other scripts) prints, and the PDF's text layer holds
it for searching and copying.
"""

from __future__ import annotations

import io
from functools import cache
from xml.sax.saxutils import escape

from modelgate.core.evidence.layout import (BAD, DOUBT, GOOD, Chart, Code, Facts, Note, Outline, Subheading,
                                            Table, when)
from modelgate.core.evidence.outline import outline as outline_of
from modelgate.core.evidence.pack import EvidencePack

SANS, BOLD, MONO = "ModelGateSans", "ModelGateSans-Bold", "ModelGateMono"
_FONT_FILES = {SANS: "DejaVuSans.ttf", BOLD: "DejaVuSans-Bold.ttf", MONO: "DejaVuSansMono.ttf",
               "ModelGateSans-Oblique": "DejaVuSans-Oblique.ttf",
               "ModelGateSans-BoldOblique": "DejaVuSans-BoldOblique.ttf"}
#: Tone colours: the line beside a row or verdict, and the verdict's background.
_LINES = {GOOD: "#2e7d32", BAD: "#c62828", DOUBT: "#b26a00"}
_FILLS = {GOOD: "#e8f3e9", BAD: "#fbeaea", DOUBT: "#fdf3e3"}
MARGIN_MM = 18


@cache
def _fonts() -> None:
    from pathlib import Path

    import matplotlib
    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    for name, file in _FONT_FILES.items():
        pdfmetrics.registerFont(TTFont(name, str(folder / file)))
    for bold, italic, name in ((0, 0, SANS), (1, 0, BOLD), (0, 1, "ModelGateSans-Oblique"),
                               (1, 1, "ModelGateSans-BoldOblique")):
        addMapping(SANS, bold, italic, name)


@cache
def _styles() -> dict:
    from reportlab.lib.colors import HexColor
    from reportlab.lib.styles import ParagraphStyle

    body = ParagraphStyle("body", fontName=SANS, fontSize=9, leading=12, spaceAfter=4)
    return {
        "body": body,
        "cell": ParagraphStyle("cell", parent=body, fontSize=7.8, leading=9.8, spaceAfter=0),
        "head": ParagraphStyle("head", parent=body, fontName=BOLD, fontSize=7.8, leading=9.8, spaceAfter=0),
        "label": ParagraphStyle("label", parent=body, fontName=BOLD, fontSize=8.2, leading=10.5, spaceAfter=0,
                                textColor=HexColor("#5f6670")),
        "value": ParagraphStyle("value", parent=body, fontSize=8.2, leading=10.5, spaceAfter=0),
        "verdict": ParagraphStyle("verdict", parent=body, fontName=BOLD, fontSize=9.5, leading=12.5, spaceAfter=0),
        "title": ParagraphStyle("title", parent=body, fontName=BOLD, fontSize=18, leading=23, spaceAfter=6),
        "h2": ParagraphStyle("h2", parent=body, fontName=BOLD, fontSize=12.5, leading=16, spaceBefore=12,
                             spaceAfter=5, keepWithNext=True),
        "h3": ParagraphStyle("h3", parent=body, fontName=BOLD, fontSize=10, leading=13, spaceBefore=7,
                             spaceAfter=3, keepWithNext=True),
    }


def _markup(value: str) -> str:
    text = escape(str(value)).replace("\n", "<br/>")
    return f'<font name="{MONO}">{text}</font>' if isinstance(value, Code) else text


def _paragraph(value: str, style: str):
    from reportlab.platypus import Paragraph

    return Paragraph(_markup(value), _styles()[style])


def _verdict(note: Note, width: float):
    from reportlab.lib.colors import HexColor
    from reportlab.platypus import Table as Grid

    box = Grid([[_paragraph(note.text, "verdict")]], colWidths=[width])
    box.setStyle([("BACKGROUND", (0, 0), (-1, -1), HexColor(_FILLS[note.tone])),
                  ("LINEBEFORE", (0, 0), (0, -1), 4, HexColor(_LINES[note.tone])),
                  ("TOPPADDING", (0, 0), (-1, -1), 5), ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
                  ("LEFTPADDING", (0, 0), (-1, -1), 8)])
    box.spaceAfter = 4
    return box


def _facts(facts: Facts, width: float, label_width: float = 42):
    from reportlab.lib.colors import HexColor
    from reportlab.lib.units import mm
    from reportlab.platypus import Table as Grid

    rows = [[_paragraph(label, "label"), _paragraph(value, "value")] for label, value in facts.rows]
    grid = Grid(rows, colWidths=[label_width * mm, width - label_width * mm])
    grid.setStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LINEBELOW", (0, 0), (-1, -1), 0.4, HexColor("#c8ccd2")),
                   ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
                   ("LEFTPADDING", (0, 0), (-1, -1), 3)])
    grid.spaceAfter = 6
    return grid


def _table(table: Table, width: float):
    from reportlab.lib.colors import HexColor
    from reportlab.platypus import Table as Grid

    total = sum(table.widths) or 1
    rows = [[_paragraph(h, "head") for h in table.headers]]
    rows += [[_paragraph(value, "cell") for value in row] for row in table.rows]
    grid = Grid(rows, colWidths=[width * w / total for w in table.widths], repeatRows=1)
    style = [("VALIGN", (0, 0), (-1, -1), "TOP"), ("BACKGROUND", (0, 0), (-1, 0), HexColor("#eceef1")),
             ("LINEBELOW", (0, 0), (-1, 0), 0.9, HexColor("#8a9099")),
             ("LINEBELOW", (0, 1), (-1, -1), 0.4, HexColor("#c8ccd2")),
             ("TOPPADDING", (0, 0), (-1, -1), 2.5), ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
             ("LEFTPADDING", (0, 0), (-1, -1), 4), ("RIGHTPADDING", (0, 0), (-1, -1), 3)]
    for index in range(len(table.rows)):
        tone = table.tone(index)
        if tone:
            style.append(("LINEBEFORE", (0, index + 1), (0, index + 1), 3, HexColor(_LINES[tone])))
        if tone == BAD:
            style.append(("BACKGROUND", (0, index + 1), (-1, index + 1), HexColor(_FILLS[BAD])))
    grid.setStyle(style)
    grid.spaceAfter = 8
    return grid


def _chart(chart: Chart, width: float):
    from reportlab.platypus import Image

    from modelgate.core.evidence.charts import WIDTH_IN, chart_height, chart_png

    height = width * chart_height(chart.benchmarks) / WIDTH_IN
    image = Image(io.BytesIO(chart_png(chart.benchmarks)), width=width, height=height)
    image.spaceAfter = 6
    return image


def _block(block, width: float):
    if isinstance(block, Facts):
        return _facts(block, width)
    if isinstance(block, Table):
        return _table(block, width)
    if isinstance(block, Subheading):
        return _paragraph(block.text, "h3")
    if isinstance(block, Chart):
        return _chart(block, width)
    return _verdict(block, width) if block.tone else _paragraph(block.text, "body")


def _flowables(report: Outline, width: float) -> list:
    from reportlab.platypus import KeepTogether

    story = [_paragraph(report.title, "title"), _facts(report.filing, width, label_width=30)]
    story += [_verdict(note, width) for note in report.verdicts]
    for number, section in enumerate(report.sections, 1):
        heading = _paragraph(f"{number}. {section.title}", "h2")
        heading.outline_entry = f"{number}. {section.title}"
        flowables = [heading, *(_block(block, width) for block in section.blocks)]
        # A section of facts and notes fits on a page: it moves whole rather than leave a line behind.
        short = not any(isinstance(block, (Table, Chart)) for block in section.blocks)
        story += [KeepTogether(flowables)] if short else flowables
    return story


def _canvas_class(running_head: str, generated: str):
    """A canvas that holds its pages until the end, to print "page N of M" on each."""
    from reportlab.lib.colors import HexColor
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas

    class NumberedCanvas(Canvas):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._pages = []
            self._marks: dict[int, list[str]] = {}

        def showPage(self):
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def bookmarkPage(self, key, **options):
            # The pages reach the PDF only in save(): a bookmark waits for its page there.
            self._marks.setdefault(len(self._pages), []).append(key)

        def save(self):
            for index, page in enumerate(self._pages):
                self.__dict__.update(page)
                self._decorate(len(self._pages))
                for key in self._marks.get(index, ()):
                    super().bookmarkPage(key)
                super().showPage()
            super().save()

        def _decorate(self, pages: int) -> None:
            width, height = self._pagesize
            self.saveState()
            self.setFillColor(HexColor("#5f6670"))
            self.setStrokeColor(HexColor("#c8ccd2"))
            self.setFont(SANS, 7.5)
            top, bottom = height - 11 * mm, 10 * mm
            self.drawString(MARGIN_MM * mm, top, running_head)
            self.drawRightString(width - MARGIN_MM * mm, top, f"generated {generated}")
            self.line(MARGIN_MM * mm, top - 2 * mm, width - MARGIN_MM * mm, top - 2 * mm)
            self.drawCentredString(width / 2, bottom, f"page {self._pageNumber} of {pages}")
            self.restoreState()

    return NumberedCanvas


def _document_class():
    """A document template that lists each section in the PDF's outline (the viewer's bookmarks)."""
    from reportlab.platypus import BaseDocTemplate

    class ReportDocument(BaseDocTemplate):
        def afterFlowable(self, flowable):
            title = getattr(flowable, "outline_entry", None)
            if title:
                key = f"section-{len(self._outlined)}"
                self._outlined.append(key)
                self.canv.bookmarkPage(key)
                self.canv.addOutlineEntry(title, key, level=0)

        def build(self, flowables, **options):
            self._outlined = []
            super().build(flowables, **options)

    return ReportDocument


def pdf_bytes(pack: EvidencePack) -> bytes:
    """The report of ``pack`` as the bytes of a PDF file."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import Frame, PageTemplate

    _fonts()
    report = outline_of(pack)
    buffer = io.BytesIO()
    document = _document_class()(
        buffer, pagesize=A4, leftMargin=MARGIN_MM * mm, rightMargin=MARGIN_MM * mm, topMargin=20 * mm,
        bottomMargin=17 * mm, title=report.title, author=f"modelgate {pack.tool_version}",
        subject=f"Evidence pack of {pack.ref} from {pack.registry}", creator=f"modelgate {pack.tool_version}")
    # No frame padding: tables, verdicts and text share one left edge with the running head.
    frame = Frame(document.leftMargin, document.bottomMargin, document.width, document.height,
                  leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
    document.addPageTemplates([PageTemplate(id="report", frames=[frame])])
    document.build(_flowables(report, document.width),
                   canvasmaker=_canvas_class(f"ModelGate auditor report · {pack.ref}", when(pack.generated_at)))
    return buffer.getvalue()
