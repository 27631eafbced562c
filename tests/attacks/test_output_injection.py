"""Text from a bundle is shown as text: no escape sequence, C1 control or bidi override reaches
the terminal from any command, and chart labels are never parsed as mathtext."""

from __future__ import annotations

import pytest

from modelgate.core.cli.main import main
from modelgate.core.outputs import printable
from tests.factory import clean_manifest, make_bundle

#: Clears the screen, sets the window title, a one-byte C1 CSI, a right-to-left override, a NUL.
HOSTILE = "clean\x1b[2J\x1b]0;pwned\x07 \x9b31m \u202etxt.exe\u202c \x00end"
RAW = ("\x1b", "\x07", "\x9b", "\u202e", "\u202c", "\x00")


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_shown_not_sent(text: str) -> None:
    assert not any(char in text for char in RAW), repr(text)
    assert "\\u001b[2J" in text and "\\u202e" in text


def hostile_bundle(tmp_path, *, lock=True):
    manifest = clean_manifest()
    manifest["description"] = HOSTILE
    manifest["tags"] = ["tabular", HOSTILE]
    manifest["owners"][0]["name"] = HOSTILE
    return make_bundle(tmp_path / "hostile", manifest=manifest, lock=lock)


def test_printable_escapes_every_interpreted_character_and_keeps_json_meaning():
    import json

    shown = printable(HOSTILE + "\r\n\t\u2066\u2069\u200f\ufeff")
    assert not any(char in shown for char in (*RAW, "\r", "\u2066", "\u2069", "\u200f", "\ufeff"))
    assert shown.endswith("\\u000d\n\t\\u2066\\u2069\\u200f\\ufeff")
    # Inside a JSON string the escape is the same character again.
    encoded = json.dumps({"d": HOSTILE}, ensure_ascii=False)
    assert json.loads(printable(encoded)) == {"d": HOSTILE}


def test_inspect_and_validate_show_bundle_text_escaped(tmp_path, capsys):
    bundle = hostile_bundle(tmp_path)
    code, out, err = run(capsys, "inspect", str(bundle))
    assert code in (0, 1) and "Traceback" not in err  # 1: the hostile tag breaks the schema
    assert_shown_not_sent(out + err)
    code, out, err = run(capsys, "inspect", str(bundle), "--json")
    assert code in (0, 1) and not any(char in out for char in RAW)
    import json

    assert json.loads(out)["description"] == HOSTILE  # the JSON still carries the exact text


def test_validate_text_report_escapes_what_it_quotes(tmp_path, capsys):
    manifest = clean_manifest()
    manifest["license"] = "Apache-2.0 OR \x1b[2J\u202eevil"  # quoted back in the MG4xx findings
    bundle = make_bundle(tmp_path / "b", manifest=manifest)
    code, out, err = run(capsys, "validate", str(bundle), "--stage", "draft")
    assert code in (0, 1)
    assert not any(char in out + err for char in RAW)


def test_error_messages_are_escaped(tmp_path, capsys):
    missing = tmp_path / "no\x1b]0;pwned\x07such\u202e"
    code, out, err = run(capsys, "inspect", str(missing))
    assert code == 2 and err.startswith("modelgate: ")
    assert not any(char in out + err for char in RAW)
    assert "\\u001b]0;pwned\\u0007" in err


@pytest.mark.slow
def test_registry_show_list_and_audit_log_escape_bundle_text(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MODELGATE_REGISTRY", f"sqlite:///{tmp_path / 'registry.db'}")
    monkeypatch.setenv("MODELGATE_USER", "admin")
    assert run(capsys, "registry", "init")[0] == 0
    assert run(capsys, "users", "add", "ana", "--role", "submitter")[0] == 0
    bundle = hostile_bundle(tmp_path)
    code, out, err = run(capsys, "--user", "ana", "registry", "import", str(bundle))
    assert code == 0, err
    for argv in (("registry", "show", "tiny-classifier@1.0.0"), ("registry", "list"), ("audit", "log"),
                 ("review", "tiny-classifier@1.0.0", "request-changes", "--comment", HOSTILE)):
        code, out, err = run(capsys, "--user", "ana", *argv)
        assert not any(char in out + err for char in RAW), argv
    code, out, err = run(capsys, "audit", "log")
    assert code == 0 and not any(char in out + err for char in RAW)


def test_our_own_colours_still_reach_a_terminal(tmp_path, capsys, monkeypatch):
    """The escaping stream lets the CLI's own colour codes through, and only those."""
    import io

    from modelgate.core.cli.terminal import EscapingStream, paint

    class Tty(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    target = Tty()
    stream = EscapingStream(target)
    stream.write(paint("FAILED", "red", stream=target) + " " + HOSTILE)
    assert target.getvalue().startswith("\x1b[31mFAILED\x1b[0m ")
    assert target.getvalue().count("\x1b") == 2


@pytest.mark.slow
@pytest.mark.parametrize("metric", ["$\\frac{a}{b}$", "$\\undefinedcommand$", "cost in $ and $$", "$"])
def test_metric_names_are_not_mathtext_in_charts(metric):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from modelgate.core.benchmarks.charts import plain

    figure = Figure(figsize=(4, 2))
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.barh([0], [1.0])
    axes.set_yticks([0], [plain(metric)])
    axes.set_title(plain(metric))
    figure.canvas.draw()  # mathtext would raise ValueError on these, or draw a fraction
    assert axes.get_title() == plain(metric)
    label = axes.get_yticklabels()[0]
    assert label._preprocess_math(label.get_text()) == (metric, False)


@pytest.mark.slow
def test_the_report_charts_draw_a_mathtext_metric_name():
    """The auditor report's chart (the same code as the desktop app's) with hostile names."""
    from modelgate.core.benchmarks.rows import BenchmarkRow
    from modelgate.core.benchmarks.results import Result
    from modelgate.core.evidence.charts import chart_png, chart_svg
    from modelgate.core.evidence.pack import BenchmarkEvidence

    rows = tuple(BenchmarkRow(Result(file="benchmarks/r.json", index=k, dataset="d", split="test",
                                     metric=name, value=0.5, target=None, higher_is_better=True,
                                     unit=unit), 0.4, None, None, None)
                 for k, (name, unit) in enumerate([("$\\frac{a}{b}$", None), ("$\\nope{", "$")]))
    evidence = BenchmarkEvidence(stage="$\\sqrt{x}$", policy_name="p", champion="x@$1$", rows=rows)
    assert chart_png(evidence).startswith(b"\x89PNG")
    assert b"<svg" in chart_svg(evidence)
