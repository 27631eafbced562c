"""JSON Schema validation that speaks in manifest paths and plain advice."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from modelgate.core import resources, settings
from modelgate.core.findings import Finding, Location, Severity, counted, manifest_path

_HINTS = {
    "sha256": "Run `modelgate lock BUNDLE_DIR` to write digests.",
    "version": "Use Semantic Versioning, e.g. 1.4.0 or 2.0.0-rc.1.",
    "name": "Use lower-case letters, digits, '.', '_' and '-', starting with a letter or digit.",
    "relpath": "Paths are relative to the bundle folder, use '/', and never contain '..'.",
}


def _inline_local_refs(node, defs: dict, depth: int = 0):
    """Replace ``{"$ref": "#/$defs/x"}`` by the definition itself.

    Our schemas are not recursive, and resolving references on every
    validation costs more than validating a whole manifest.
    """
    if depth > 32:
        raise ValueError("schema $defs nest too deeply to inline")
    if isinstance(node, dict):
        ref = node.get("$ref")
        rest = {key: _inline_local_refs(value, defs, depth) for key, value in node.items() if key != "$ref"}
        if not (isinstance(ref, str) and ref.startswith("#/$defs/")):
            return {**rest, "$ref": ref} if ref is not None else rest
        target = _inline_local_refs(defs[ref[len("#/$defs/"):]], defs, depth + 1)
        # A $ref beside other keywords applies both, exactly as allOf does.
        return {**rest, "allOf": [*rest.get("allOf", []), target]} if rest else target
    if isinstance(node, list):
        return [_inline_local_refs(item, defs, depth) for item in node]
    return node


@cache
def _schema(schema_name: str) -> dict:
    schema = resources.json_schema(schema_name)
    defs = schema.get("$defs", {})
    return {k: _inline_local_refs(v, defs) for k, v in schema.items() if k != "$defs"}


@cache
def _validator(schema_name: str):
    # jsonschema-rs compiles the schema once and imports in a few milliseconds;
    # the pure-Python validator costs a tenth of a second to import, which is
    # most of what a CI job waits for on a small bundle.
    from jsonschema_rs import Draft202012Validator

    return Draft202012Validator(_schema(schema_name), validate_formats=False, offline=True)


@dataclass(frozen=True)
class _Problem:
    """One schema error, in the terms :func:`_describe` needs."""

    keyword: str
    path: list
    instance: object
    message: str
    kind: object
    schema: dict


def _problem(error, schema: dict) -> _Problem:
    schema_path = list(error.schema_path)
    node = schema
    for step in schema_path[:-1]:
        node = node[step] if isinstance(node, (dict, list)) else {}
    keyword = str(schema_path[-1]) if schema_path else ""
    return _Problem(keyword=keyword, path=list(error.instance_path), instance=error.instance,
                    message=error.message, kind=error.kind, schema=node if isinstance(node, dict) else {})


def _wants_text(problem: _Problem) -> bool:
    """Whether the schema wanted a string where this problem sits."""
    if problem.keyword == "type":
        return "string" in problem.kind.types
    if problem.keyword == "enum":
        return all(isinstance(option, str) for option in problem.kind.options)
    if problem.keyword == "const":
        return isinstance(problem.kind.expected_value, str)
    return False


def _yaml11_trap(problem: _Problem, document) -> tuple[str, str] | None:
    """Message and hint when a string was expected and YAML 1.1 typed an unquoted value.

    PyYAML follows YAML 1.1, whose implicit types turn ``no``/``on``/``yes`` into
    booleans, ``1.10`` into ``1.1``, ``0755`` into 493 (octal) and ``1:20`` into
    80 (base 60). Where the standard wants text, say so and say how to quote it.
    """
    if document is None or not _wants_text(problem):
        return None
    source = document.sources.get(tuple(problem.path))
    if source is None or source.plain is None or isinstance(problem.instance, str):
        return None
    if problem.instance is None:
        return None  # an empty value is missing text, not a typing trap
    where = manifest_path(problem.path)
    shown = "true" if problem.instance is True else "false" if problem.instance is False else repr(problem.instance)
    kind = type(problem.instance).__name__
    options = (f"; expected one of: {', '.join(problem.kind.options)}"
               if problem.keyword == "enum" else "")
    return (f"{where} must be a string, but YAML reads the unquoted {source.plain} as "
            f"{_article(kind)} {kind} ({shown}){options}",
            f"Quote it to keep the text as written: \"{source.plain}\".")


def _describe(problem: _Problem) -> tuple[str, str | None, list]:
    path = problem.path
    where = manifest_path(path)
    keyword = problem.keyword
    if keyword == "additionalProperties":
        allowed = sorted(problem.schema.get("properties", {}))
        extras = sorted(problem.kind.unexpected)
        key = extras[0] if extras else "?"
        import difflib  # only a typo pays for it

        close = difflib.get_close_matches(key, allowed, n=1)
        hint = f"Did you mean {close[0]!r}?" if close else f"Allowed keys here: {', '.join(allowed)}."
        names = ", ".join(repr(e) for e in extras)
        return (f"unknown key {names} in {where}", hint, path + ([key] if len(extras) == 1 else []))
    if keyword == "required":
        return (f"{where} is missing the required key {problem.kind.property!r}", None, path)
    if keyword == "type":
        expected = list(problem.kind.types)
        expected = " or ".join(expected) if len(expected) > 1 else expected[0]
        hint = "Quote it to make it a string, e.g. \"1.10\"." if expected == "string" else None
        return (f"{where} must be {_article(expected)} {expected}, not {problem.instance!r}", hint, path)
    last = next((p for p in reversed(path) if isinstance(p, str)), "")
    hint = _HINTS.get(last)
    if last == "path" or (path and path[0] in ("license_files", "benchmarks", "files")):
        hint = _HINTS["relpath"]
    if keyword == "enum":
        options = ", ".join(str(v) for v in problem.kind.options)
        return (f"{where} is {problem.instance!r}; expected one of: {options}", hint, path)
    if keyword == "const":
        return (f"{where} is {problem.instance!r}; expected {problem.kind.expected_value!r}", hint, path)
    return (f"{where}: {problem.message}", hint, path)


def _first_non_json(node, path: list) -> tuple[list | None, str]:
    """Where the first value without a JSON form sits, and what it is."""
    if isinstance(node, dict):
        for key, value in node.items():
            if not isinstance(key, str):
                return path, f"the non-string key {key!r:.40}"
            found = _first_non_json(value, path + [key])
            if found[0] is not None:
                return found
    elif isinstance(node, list):
        for index, item in enumerate(node):
            found = _first_non_json(item, path + [index])
            if found[0] is not None:
                return found
    elif isinstance(node, (bytes, bytearray)):
        return path, "binary data"
    elif not (node is None or isinstance(node, (str, int, float, bool))):
        return path, f"a {type(node).__name__} value"
    return None, "a value"


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def _position(document, path) -> dict:
    """``line`` (and ``column`` where ``document`` knows it) of the value at ``path``."""
    if document is None:
        return {}
    source = getattr(document, "source", None)  # YAML documents know columns; JSON ones lines
    if source is None:
        return {"line": document.line(path)}
    found = source(path)
    return {"line": found.line, "column": found.column} if found is not None else {}


def validate(instance, *, schema_name: str, rule: str, file: str, document=None) -> list[Finding]:
    """Validate ``instance`` against a shipped schema; one finding per problem.

    ``document`` (a :class:`~modelgate.core.bundle.safeyaml.Document` for YAML) gives each
    finding the line of the value it names, and turns a value YAML 1.1 typed
    where a string belongs into a "quote it" finding.
    """
    validator, schema = _validator(schema_name), _schema(schema_name)
    try:
        errors = list(validator.iter_errors(instance))
    except ValueError:
        # YAML allows what JSON has no room for: non-string keys and binary values.
        where, what = _first_non_json(instance, [])
        return [Finding(rule=rule, severity=Severity.ERROR, message=(
            f"{manifest_path(where) if where else file} holds {what}, which has no JSON form"),
            location=Location(file=file, path=manifest_path(where) if where else None,
                              **_position(document, where or [])),
            hint="Use plain strings for keys, and text (e.g. base64 in a string) for binary data.")]
    findings = []
    # Only the problems a report lists one by one are described; the rest are counted
    # (group_repeats), so a file with 100,000 bad entries costs what 21 do.
    keep = settings.get(settings.MAX_FINDINGS_PER_RULE)
    errors.sort(key=lambda e: [(0, step, "") if isinstance(step, int) else (1, 0, str(step))
                               for step in e.instance_path])
    for problem in (_problem(error, schema) for error in errors[: keep + 1]):
        message, hint, path = _describe(problem)
        trap = _yaml11_trap(problem, document)
        if trap is not None:
            message, hint = trap
        findings.append(Finding(
            rule=rule,
            severity=Severity.ERROR,
            message=message,
            location=Location(file=file, path=manifest_path(path) if path else None,
                              **_position(document, path)),
            hint=hint,
        ))
    if len(errors) > keep:
        findings[keep] = counted(findings[keep], len(errors) - keep)
    return findings
