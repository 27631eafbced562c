"""``make screenshots``, part three: the Interface and graph tab of one demo version per model
format other than ONNX (safetensors, GGUF, TFLite and the refused PyTorch pickle), in the
light and the dark theme, at a laptop's and a large monitor's window size."""

from __future__ import annotations

from pathlib import Path

#: The demo version that shows each format, by the format's name in the file names.
VERSIONS = (("safetensors", "support-assistant@1.0.0"), ("gguf", "support-assistant@1.1.0"),
            ("tflite", "keyword-spotter@1.0.0"), ("pickle-refused", "churn-predictor@0.3.0"))
#: A small laptop window and a large monitor's, as people use the app.
SIZES = (("small", (1100, 700)), ("large", (1600, 950)))
THEMES = ("light", "dark")
FIRST = 19   # file numbers go on after the other screenshots'


def shoot_formats(app, *, open_window, out: Path, select, settle) -> list[Path]:
    """Save the Interface and graph tab of every version in :data:`VERSIONS`, per theme and size.

    Each theme gets a window of its own, opened by ``open_window()`` once the theme is in force,
    as someone who runs the app in that theme sees it. ``select(window, ref)`` shows a version
    and returns once it is validated; ``settle()`` lets the window lay itself out and paint. The
    theme the settings ask for is put back afterwards.
    """
    from modelgate.gui.app.settings import THEME
    from modelgate.gui.app.theme import apply_theme

    written, restore = [], "system"
    try:
        for theme in THEMES:
            apply_theme(app, theme=theme)
            window = open_window()
            restore = window.settings.get(THEME)       # what the app itself would use
            try:
                for index, (label, ref) in enumerate(VERSIONS):
                    select(window, ref)
                    window.inspector.tabs.setCurrentWidget(window.inspector.interface)
                    for size_name, size in SIZES:
                        window.resize(*size)
                        settle()
                        path = out / f"{FIRST + index:02d}-format-{label}-{theme}-{size_name}.png"
                        window.grab().save(str(path))
                        written.append(path)
            finally:
                window.close()
    finally:
        apply_theme(app, theme=restore)
    return written
