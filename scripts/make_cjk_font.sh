#!/usr/bin/env bash
# Makes assets/fonts/NotoSansSC-keyconsole.otf, the CJK font the console falls back to when the
# machine has none: Noto Sans CJK SC (SIL Open Font License 1.1, Debian's fonts-noto-cjk) cut
# down to every hanzi it has in the CJK Unified Ideographs blocks (the basic block, extensions
# A to I and the compatibility ideographs: the 8,105 characters of the Table of General Standard
# Chinese Characters, rare name characters such as 喆 and 堃, and the traditional forms), every
# character of the Chinese catalog, CJK punctuation and full-width forms. No Hangul, kana or
# vertical forms: the console speaks Chinese and English. Run it again after adding Chinese text
# that needs another character (the catalog test says which).
set -euo pipefail
cd "$(dirname "$0")/.."
work=target/cjk-font
mkdir -p "$work"
if [[ ! -f $work/NotoSansCJK-Regular.ttc ]]; then
  (cd "$work" && apt-get download fonts-noto-cjk && dpkg-deb -x fonts-noto-cjk_*.deb deb)
  cp "$work"/deb/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc "$work"/
  cp "$work"/deb/usr/share/doc/fonts-noto-cjk/copyright "$work"/copyright
fi
if [[ ! -x $work/venv/bin/pyftsubset ]]; then
  python3 -m venv "$work/venv"
  "$work/venv/bin/pip" install -q 'fonttools==4.*'
fi
"$work/venv/bin/python" - "$work/chars.txt" "$work/NotoSansCJK-Regular.ttc" <<'PY'
import sys
from fontTools.ttLib import TTCollection
chars = set()
# Every ideograph the SC face maps (face 2 of the collection is Noto Sans CJK SC).
ideograph_blocks = [
    (0x4E00, 0x9FFF),    # CJK Unified Ideographs
    (0x3400, 0x4DBF),    # Extension A
    (0x20000, 0x323AF),  # Extensions B to H
    (0x2EBF0, 0x2EE5F),  # Extension I
    (0xF900, 0xFAFF),    # Compatibility Ideographs
    (0x2F800, 0x2FA1F),  # Compatibility Ideographs Supplement
]
cmap = TTCollection(sys.argv[2]).fonts[2].getBestCmap()
chars.update(
    chr(c) for c in cmap if any(lo <= c <= hi for lo, hi in ideograph_blocks)
)
# GB 2312 level 1: rows 16-55, 94 cells each (3,755 hanzi; the last row has 89).
for row in range(0xB0, 0xD8):
    for cell in range(0xA1, 0xFF):
        try:
            chars.add(bytes([row, cell]).decode("gb2312"))
        except UnicodeDecodeError:
            pass
chars.update(open("assets/locales/zh-CN.yml", encoding="utf-8").read())
chars.update(chr(c) for c in range(0x3000, 0x3040))  # CJK symbols and punctuation
chars.update(chr(c) for c in range(0xFF00, 0xFFF0))  # full-width forms
chars.update("“”‘’…—·")
open(sys.argv[1], "w", encoding="utf-8").write("".join(sorted(c for c in chars if c.isprintable())))
PY
"$work/venv/bin/pyftsubset" "$work/NotoSansCJK-Regular.ttc" --font-number=2 \
  --text-file="$work/chars.txt" --layout-features='' --no-hinting --name-IDs='*' \
  --output-file=assets/fonts/NotoSansSC-keyconsole.otf
ls -l assets/fonts/NotoSansSC-keyconsole.otf
