"""Reading MODEL_CARD.md: YAML front matter, Markdown sections, word counts.

:func:`parse_card` is the entry point: it never raises on a malformed card, so
a viewer can show what it can. Headings follow CommonMark closely enough for
model cards: ATX (``## Title``, closing ``#`` removed) and setext (a paragraph
underlined by ``===`` or ``---``); nothing inside fenced code blocks (``` or
~~~) or HTML comments counts as a heading. Line numbers are 1-based lines of the
whole file, front matter included; CRLF and CR line endings read as LF.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from modelgate.core.bundle import safeyaml
#: Largest card read, in bytes.
MAX_CARD_BYTES = 1024**2

_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t](.*))?$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
_BLOCK = re.compile(r"^(?: {0,3}(?:[-+*]|\d{1,9}[.)])(?:[ \t]|$)| {0,3}>| {4}|\t| {0,3}</?[A-Za-z])")
_BREAK = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_WORD = re.compile(r"[^\W_]+(?:['’.\-][^\W_]+)*")


class CardError(Exception):
    """A problem with the card's text; ``line`` is 1-based when known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass(frozen=True)
class Section:
    """A heading and the Markdown under it, up to the next heading of the same or a higher level."""

    title: str
    level: int
    line: int
    body: str

    @property
    def words(self) -> int:
        """Words in the body, markup excluded (see :func:`count_words`)."""
        return count_words(self.body)


@dataclass(frozen=True)
class FrontValue:
    """One front-matter value as checks and the inspector read it.

    ``text`` is a string as written, or a number (never a bool) written out as Python shows
    it, since YAML reads an unquoted ``version: 1.0`` as a number; any other value has no
    text. ``quoted`` says the value was a YAML string. ``shown`` quotes it in messages.
    """

    text: str | None
    quoted: bool
    shown: str
    display: str  # as the inspector's table shows it: the string, or JSON
    #: The strings it holds: itself when a string, the string items of a list, else none.
    items: tuple[str, ...] = ()


@dataclass(frozen=True)
class FrontMatter:
    """The front matter, typed: every key in the card's order, and its value."""

    values: tuple[tuple[str, FrontValue], ...]

    def value(self, key: str) -> FrontValue | None:
        """The value of top-level ``key``, or ``None`` when the card does not give it."""
        return next((value for name, value in self.values if name == key), None)


def _front_value(value) -> FrontValue:
    import json

    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    text = value if isinstance(value, str) else str(value) if number else None
    shown = repr(value)
    display = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    items = (value,) if isinstance(value, str) else \
        tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()
    return FrontValue(text, isinstance(value, str), shown if len(shown) <= 200 else shown[:197] + "...",
                      display, items)


def typed_front_matter(data: dict | None) -> FrontMatter | None:
    """The typed view of parsed front matter (``None`` stays ``None``)."""
    if data is None:
        return None
    return FrontMatter(tuple((str(key), _front_value(value)) for key, value in data.items()))


@dataclass(frozen=True)
class ModelCard:
    """A parsed card. ``front_matter`` is ``None`` when absent or unusable (then see
    ``front_matter_error``); ``body`` is the Markdown after it, starting at ``body_line``."""

    text: str
    front_matter: dict | None
    front_matter_error: CardError | None
    body: str
    body_line: int
    sections: tuple[Section, ...]

    def find(self, name: str, *, synonyms: tuple[str, ...] = ()) -> list[Section]:
        """The sections whose heading matches ``name`` or one of its ``synonyms`` (see
        :func:`heading_matches`)."""
        names = (name, *synonyms)
        return [s for s in self.sections if any(heading_matches(s.title, n) for n in names)]

    @property
    def front(self) -> FrontMatter | None:
        """The front matter as typed, frozen values (``None`` when absent or unusable)."""
        return typed_front_matter(self.front_matter)

    def front_matter_line(self, key: str) -> int | None:
        """The file line where top-level front matter ``key`` is written, if it is."""
        if self.body_line == 1:
            return None
        pattern = re.compile(rf"^['\"]?{re.escape(key)}['\"]?[ \t]*:")
        for number, line in enumerate(self.text.split("\n")[1:self.body_line - 2], start=2):
            if pattern.match(line):
                return number
        return None


def decode(data: bytes) -> str:
    """Strict UTF-8 (a leading BOM is dropped) with LF line endings; :class:`CardError` otherwise."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CardError(f"not UTF-8 (invalid byte 0x{data[exc.start]:02x} at offset {exc.start})",
                        data[: exc.start].count(b"\n") + 1) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def split_front_matter(text: str) -> tuple[str | None, str, int]:
    """``(front matter, body, body's first line)``; front matter is ``None`` when absent.

    Front matter opens with a ``---`` line at the very top and closes with ``---``
    or ``...``. Raises :class:`CardError` when the opening fence is never closed.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines[0].rstrip() != "---":
        return None, "\n".join(lines), 1
    for index in range(1, len(lines)):
        if lines[index].rstrip() in ("---", "..."):
            return "\n".join(lines[1:index]), "\n".join(lines[index + 1:]), index + 2
    raise CardError("the front matter opened by '---' on line 1 is never closed by a '---' line", 1)


def load_front_matter(text: str, *, first_line: int = 2) -> dict:
    """Parse front matter YAML into a mapping (empty front matter gives ``{}``).

    Raises :class:`CardError` (with the file line, counting from ``first_line``)
    for invalid YAML, duplicate keys, alias bombs or a non-mapping.
    """
    try:
        data = safeyaml.load(text)
    except safeyaml.YamlProblem as problem:
        line = problem.line + first_line - 1 if problem.line else first_line
        raise CardError(f"front matter: {problem.message}", line) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise CardError(f"front matter is a YAML {type(data).__name__}, not a mapping of keys",
                        first_line)
    return data


def _strip_comments(text: str) -> tuple[str, bool]:
    """``text`` without its HTML comments, and whether a comment is left open at its end."""
    kept, position = [], 0
    while True:
        start = text.find("<!--", position)
        if start < 0:
            kept.append(text[position:])
            return " ".join(kept), False
        kept.append(text[position:start])
        end = text.find("-->", start + 4)
        if end < 0:
            return " ".join(kept), True
        position = end + 3


def _atx_title(content: str) -> str:
    """An ATX heading's text: trimmed, without its closing run of ``#`` (``## Title ##``)."""
    content = _strip_comments(content)[0].strip(" \t")
    bare = content.rstrip("#")
    if bare != content and (not bare or bare[-1] in " \t"):
        content = bare
    return content.strip(" \t")


def _line_kinds(lines: list[str]) -> list[str]:
    """Mark each line ``code`` (in a fence), ``comment`` (in an HTML comment) or ``text``."""
    kinds, fence, in_comment = [], None, False
    for line in lines:
        if fence:
            kinds.append("code")
            closing = _FENCE.match(line)
            if closing and closing.group(1)[0] == fence[0] and len(closing.group(1)) >= len(fence) \
                    and not closing.group(2).strip():
                fence = None
            continue
        if in_comment:
            kinds.append("comment")
            in_comment = "-->" not in line
            continue
        opening = _FENCE.match(line)
        if opening and not (opening.group(1)[0] == "`" and "`" in opening.group(2)):
            fence = opening.group(1)
            kinds.append("code")
            continue
        in_comment = "<!--" in line and _strip_comments(line)[1]
        kinds.append("comment" if line.lstrip().startswith("<!--") else "text")
    return kinds


def _headings(lines: list[str]) -> list[tuple[int, str, int, int]]:
    """``(level, title, first line index, last line index)`` of every heading."""
    found, paragraph = [], None  # paragraph: start index, "blocked", or None
    for index, (line, kind) in enumerate(zip(lines, _line_kinds(lines))):
        if kind != "text" or not line.strip():
            paragraph = None
            continue
        atx = _ATX.match(line)
        if atx:
            found.append((len(atx.group(1)), _atx_title(atx.group(2) or ""), index, index))
            paragraph = None
        elif _SETEXT.match(line) and isinstance(paragraph, int):
            title = " ".join(part.strip() for part in lines[paragraph:index])
            found.append((1 if line.strip()[0] == "=" else 2, _strip_comments(title)[0].strip(),
                          paragraph, index))
            paragraph = None
        elif paragraph is None and _BREAK.match(line):
            pass
        elif paragraph is None:
            paragraph = "blocked" if _BLOCK.match(line) else index
    return found


def extract_sections(body: str, *, first_line: int = 1) -> tuple[Section, ...]:
    """Every heading of ``body`` with its section; ``first_line`` is the body's line in the file."""
    lines = body.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    headings = _headings(lines)
    stops, open_ = [len(lines)] * len(headings), []
    for position, (level, _, start, _) in enumerate(headings):
        while open_ and headings[open_[-1]][0] >= level:
            stops[open_.pop()] = start
        open_.append(position)
    return tuple(Section(title, level, start + first_line,
                         "\n".join(lines[end + 1:stop]).strip("\n"))
                 for (level, title, start, end), stop in zip(headings, stops))


def parse_card(text: str) -> ModelCard:
    """Parse a card's text. Front matter problems are kept in ``front_matter_error``."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    error, data = None, None
    try:
        raw, body, body_line = split_front_matter(text)
    except CardError as problem:
        raw, body, body_line, error = None, text, 1, problem
    if raw is not None:
        try:
            data = load_front_matter(raw)
        except CardError as problem:
            error = problem
    return ModelCard(text, data, error, body, body_line, extract_sections(body, first_line=body_line))


def normalize_heading(title: str) -> str:
    """A heading's text for comparison: emphasis marks and commas dropped, ``&`` read as
    "and", spaces collapsed, case folded ("Bias, Risks & Limitations" is "bias risks and
    limitations")."""
    text = title.replace("*", " ").replace("`", " ").replace("&", " and ").replace(",", " ")
    return " ".join(text.strip(" _").split()).casefold()


def heading_matches(title: str, name: str) -> bool:
    """Whether heading ``title`` names section ``name``.

    Equal after :func:`normalize_heading`, or followed only by a qualifier that
    starts with ``:``, ``(``, ``[``, a dash, or a final full stop:
    "Limitations." and "Intended use (internal)" match "Intended use"/"Limitations";
    "Intended use and users" does not.
    """
    have, want = normalize_heading(title), normalize_heading(name)
    if not want or not have.startswith(want):
        return False
    rest = have[len(want):].strip()
    return rest in ("", ".", ":") or rest[0] in ":([–—" or rest.startswith("- ")


def words(markdown: str) -> list[str]:
    """The words of ``markdown`` in order, lower-cased, without markup.

    HTML comments and tags, link targets, code fence lines and Markdown
    punctuation are dropped; link and image texts are kept; a bare URL counts as one word.
    """
    # Every pattern stops at the next bracket of its kind, so no input makes them quadratic.
    text = _strip_comments(markdown)[0]
    text = re.sub(r"^ {0,3}(`{3,}|~{3,}).*$", " ", text, flags=re.MULTILINE)
    text = re.sub(r"^ {0,3}\[[^\[\]\n]{1,999}\]:[ \t]*\S+.*$", " ", text, flags=re.MULTILINE)
    text = re.sub(r"\]\([^()\[\]\s]{0,2048}(?:[ \t]+[^()\[\]\n]{0,512})?\)", "] ", text)
    text = re.sub(r"<https?://[^<>\s]*>|https?://\S+", " url ", text)
    text = re.sub(r"</?[A-Za-z][^<>]{0,2048}>", " ", text)
    return [w.casefold() for w in _WORD.findall(text)]


def count_words(markdown: str) -> int:
    """How many words :func:`words` finds."""
    return len(words(markdown))


def overlap(reference: str, text: str, *, max_words: int = 5000) -> float:
    """The share (0..1) of ``reference``'s words that ``text`` repeats in runs of three or more.

    Used to tell guidance text left in place from a real answer that happens to
    share common words with it.
    """
    from difflib import SequenceMatcher

    expected, actual = words(reference), words(text)[:max_words]
    if not expected:
        return 0.0
    blocks = SequenceMatcher(None, expected, actual, autojunk=False).get_matching_blocks()
    return sum(b.size for b in blocks if b.size >= 3) / len(expected)


_RISKS = (
    (re.compile(r"<\s*(script|iframe|object|embed)\b", re.IGNORECASE), "a raw <{0}> element"),
    (re.compile(r"<[A-Za-z][^<>]{0,2048}?\s(on[a-z]+)\s*=", re.IGNORECASE),
     "an inline event handler ({0}=)"),
    (re.compile(r"(javascript):", re.IGNORECASE), "a javascript: URL"),
    (re.compile(r"!\[[^\[\]]{0,2048}\]\(\s*<?((?:https?:)?//[^)\s>]+)", re.IGNORECASE),
     "a remote image ({0})"),
    (re.compile(r"<img\b[^<>]{0,2048}?\bsrc\s*=\s*[\"']?((?:https?:)?//[^\"'\s>]+)", re.IGNORECASE),
     "a remote image ({0})"),
)


def risky_markup(text: str) -> list[tuple[int, str]]:
    """``(line, description)`` for active HTML and remote images outside code and comments.

    Renderers that do not sanitise would run the script or fetch the image
    (which tells a third party who opened the card).
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    found = []
    for number, (line, kind) in enumerate(zip(lines, _line_kinds(lines)), start=1):
        if kind != "text" or ("<" not in line and ":" not in line and "//" not in line):
            continue
        visible = re.sub(r"`+[^`]*`+", "", _strip_comments(line)[0])
        for pattern, description in _RISKS:
            for match in pattern.finditer(visible):
                found.append((number, description.format(match.group(1))))
    return found
