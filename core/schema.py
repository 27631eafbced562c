"""JSON Schema validation that speaks in manifest paths and plain advice."""

from __future__ import annotations

from functools import cache

from modelgate.core import resources
from modelgate.core.findings import Finding, Location, Severity, manifest_path

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
def _validator(schema_name: str):
    from jsonschema import Draft202012Validator

    schema = resources.json_schema(schema_name)
    defs = schema.get("$defs", {})
    inlined = {k: _inline_local_refs(v, defs) for k, v in schema.items() if k != "$defs"}
    return Draft202012Validator(inlined)


def _describe(error) -> tuple[str, str | None, list]:
    path = list(error.absolute_path)
    where = manifest_path(path)
    validator = error.validator
    if validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extras = sorted(set(error.instance) - set(allowed)) if isinstance(error.instance, dict) else []
        key = extras[0] if extras else "?"
        import difflib  # only a typo pays for it

        close = difflib.get_close_matches(key, allowed, n=1)
        hint = f"Did you mean {close[0]!r}?" if close else f"Allowed keys here: {', '.join(allowed)}."
        names = ", ".join(repr(e) for e in extras)
        return (f"unknown key {names} in {where}", hint, path + ([key] if len(extras) == 1 else []))
    if validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return (f"{where} is missing the required key {missing!r}", None, path)
    if validator == "type":
        expected = error.validator_value
        expected = " or ".join(expected) if isinstance(expected, list) else expected
        hint = "Quote it to make it a string, e.g. \"1.10\"." if expected == "string" else None
        return (f"{where} must be {_article(expected)} {expected}, not {error.instance!r}", hint, path)
    if validator in ("pattern", "const", "enum", "maxLength", "minLength", "minimum",
                     "exclusiveMinimum", "minItems", "uniqueItems", "oneOf", "format"):
        last = next((p for p in reversed(path) if isinstance(p, str)), "")
        hint = _HINTS.get(last)
        if last in ("path",) or (path and path[0] in ("license_files", "benchmarks", "files")):
            hint = _HINTS["relpath"]
        if validator == "enum":
            options = ", ".join(str(v) for v in error.validator_value)
            return (f"{where} is {error.instance!r}; expected one of: {options}", hint, path)
        if validator == "const":
            return (f"{where} is {error.instance!r}; expected {error.validator_value!r}", hint, path)
        return (f"{where}: {error.message}", hint, path)
    return (f"{where}: {error.message}", None, path)


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def validate(instance, *, schema_name: str, rule: str, file: str) -> list[Finding]:
    """Validate ``instance`` against a shipped schema; one finding per problem."""
    validator = _validator(schema_name)
    findings = []
    errors = sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.absolute_path)))
    for error in errors:
        message, hint, path = _describe(error)
        findings.append(Finding(
            rule=rule,
            severity=Severity.ERROR,
            message=message,
            location=Location(file=file, path=manifest_path(path) if path else None),
            hint=hint,
        ))
    return findings
