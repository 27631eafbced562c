"""Technical documentation (:mod:`.documentation`) as one self-contained HTML file or a PDF.

The HTML is rendered from ``resources/templates/documentation/documentation.html.j2`` with
autoescaping on (every value is text, never markup) and fetches nothing; the PDF is laid out by
ReportLab, with each missing item in red saying what would fill it.
"""

from __future__ import annotations

from modelgate.core.evidence.documentation import Documentation

PAGE = "documentation.html.j2"


def documentation_html(doc: Documentation) -> str:
    """``doc`` as the text of one HTML file."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    from modelgate.core import resources
    from modelgate.core.evidence.documentation import TEMPLATE_FOLDER

    environment = Environment(loader=FileSystemLoader(resources.path(TEMPLATE_FOLDER)), autoescape=True,
                              undefined=StrictUndefined, keep_trailing_newline=True)
    return environment.get_template(PAGE).render(doc=doc)


def documentation_pdf(doc: Documentation) -> bytes:
    """``doc`` as PDF bytes (A4)."""
    import io
    from xml.sax.saxutils import escape

    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    styles = getSampleStyleSheet()
    missing = ParagraphStyle("missing", parent=styles["BodyText"], textColor=colors.HexColor("#9b1c1c"),
                             backColor=colors.HexColor("#fdeceb"), leftIndent=8)
    body = ParagraphStyle("entry", parent=styles["BodyText"], leftIndent=8)

    def text(value: str) -> str:
        return escape(value).replace("\n", "<br/>")

    story = [Paragraph(text(doc.title), styles["Title"]),
             Paragraph(text(f"{doc.ref} · generated {doc.generated} by ModelGate"), styles["Italic"]),
             Paragraph(text(f"{len(doc.sections)} sections; {doc.gaps} item(s) missing, each marked "
                            "with what would fill it." if doc.gaps else f"{len(doc.sections)} sections; nothing "
                            "missing."), styles["BodyText"])]
    for section in doc.sections:
        story += [Spacer(1, 10), Paragraph(text(section.title), styles["Heading2"])]
        if section.note:
            story.append(Paragraph(text(section.note), styles["Italic"]))
        for entry in section.entries:
            story.append(Paragraph(f"<b>{text(entry.label)}</b>", styles["BodyText"]))
            if entry.text is not None:
                story.append(Paragraph(text(entry.text), body))
            else:
                story.append(Paragraph(text(f"MISSING: nothing on record. Filled by {entry.missing}."), missing))
    out = io.BytesIO()
    SimpleDocTemplate(out, pagesize=A4, title=doc.title, author="ModelGate").build(story)
    return out.getvalue()
