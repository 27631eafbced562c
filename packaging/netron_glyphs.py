"""Make resources/fonts/modelgate-netron-glyphs.otf: the few glyphs Netron draws that common fonts lack.

Netron writes tensor types with CJK angle brackets (U+3008 〈 and U+3009 〉, e.g. float32〈1,3,224,224〉).
DejaVu, the font most Linux desktops fall back on, has no such glyphs, so the graph shows boxes.
The app ships this small subset of Noto Sans CJK (SIL Open Font License 1.1) and the graph page
loads it by @font-face, whatever fonts the machine has. It is renamed, as the licence asks of a
modified font, and carries the licence beside it (resources/fonts/OFL.txt).

Run once when Netron starts using other glyphs; the source is Debian's fonts-noto-cjk:
    apt-get download fonts-noto-cjk && dpkg-deb -x fonts-noto-cjk_*.deb noto
    python packaging/netron_glyphs.py noto/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc
"""

from __future__ import annotations

import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont

#: CJK brackets U+3008-U+3011 (Netron uses the first two); the page asks this font for nothing else.
CODEPOINTS = list(range(0x3008, 0x3012))
FAMILY = "ModelGate Netron Glyphs"
OUT = Path(__file__).resolve().parents[1] / "resources" / "fonts" / "modelgate-netron-glyphs.otf"


def main(source: str) -> None:
    font = TTFont(source, fontNumber=0)
    options = subset.Options()
    options.name_IDs = []          # every name is rewritten below
    options.notdef_outline = True
    options.layout_features = []
    subsetter = subset.Subsetter(options=options)
    subsetter.populate(unicodes=CODEPOINTS)
    subsetter.subset(font)
    names = font["name"]
    names.names = []
    for name_id, text in ((0, "Copyright 2014-2021 Adobe (http://www.adobe.com/), with Reserved Font Name "
                              "'Source'. Subset of Noto Sans CJK made for ModelGate."),
                          (1, FAMILY), (2, "Regular"), (3, f"{FAMILY} Regular"), (4, f"{FAMILY} Regular"),
                          (5, "Version 1.0"), (6, FAMILY.replace(" ", "") + "-Regular"),
                          (13, "This Font Software is licensed under the SIL Open Font License, Version 1.1."),
                          (14, "https://openfontlicense.org")):
        names.setName(text, name_id, 3, 1, 0x409)
    if "CFF " in font:
        cff = font["CFF "].cff
        cff.fontNames = [FAMILY.replace(" ", "") + "-Regular"]
        top = cff.topDictIndex[0]
        for key in ("FullName", "FamilyName", "Weight", "Notice", "Copyright"):
            if hasattr(top, key):
                setattr(top, key, FAMILY if key != "Weight" else "Regular")
    font.save(OUT)
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main(sys.argv[1])
