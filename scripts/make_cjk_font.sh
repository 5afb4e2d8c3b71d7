#!/usr/bin/env bash
# Makes assets/fonts/NotoSansSC-keyconsole.otf, the CJK font the console falls back to when the
# machine has none: Noto Sans CJK SC (SIL Open Font License 1.1, Debian's fonts-noto-cjk) cut
# down to the 3,755 common hanzi of GB 2312 level 1, every character of the Chinese catalog,
# CJK punctuation and full-width forms. Run it again after adding Chinese text that needs a
# rarer character (the catalog test says which).
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
python3 - "$work/chars.txt" <<'PY'
import sys
chars = set()
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
