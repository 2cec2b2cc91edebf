#!/usr/bin/env bash
# Renders a `ringtrain report` page in a real browser (headless Chromium) and checks that the
# screenshot is not blank: enough distinct colours, enough coloured chart pixels, enough
# non-white. Python standard library only (zlib + struct decode the PNG). See docs/report.md.
#
#   scripts/check-report.sh REPORT.html OUT.png
#
# Thresholds (override from the environment): MIN_COLOURS distinct colours (a page of plain
# text has ~240 grey shades), MIN_CHART_COLOURS distinct saturated colours (the lines and the
# heatmap), MIN_INK_PERCENT percent of pixel channels darker than 235.
set -Eeuo pipefail
SCRIPT_DIR="$(cd "$(dirname "$0")" && pwd)"
source "$SCRIPT_DIR/lib.sh"

if [ "$#" -ne 2 ]; then
    echo "usage: $(basename "$0") REPORT.html OUT.png" >&2
    exit 2
fi
REPORT="$1"
OUT="$2"
if [ ! -f "$REPORT" ]; then
    echo "$(basename "$0"): $REPORT: no such file" >&2
    exit 2
fi
WIDTH=1280
HEIGHT=4000

step "finding chromium"
if ! command -v chromium >/dev/null 2>&1; then
    ensure_packages "${BROWSER_PACKAGES[@]}"
fi

step "rendering $REPORT in headless chromium"
URL="$(python3 -c 'import pathlib, sys; print(pathlib.Path(sys.argv[1]).resolve().as_uri())' "$REPORT")"
# A profile of its own: two checks at once (or a desktop chromium) never share a lock.
PROFILE="$(mktemp -d)"
LOG="$(mktemp)"
trap 'rm -rf "$PROFILE" "$LOG"' EXIT
rm -f "$OUT"
# --no-sandbox: we run as root (in containers), where chromium's sandbox refuses to start.
if ! timeout 120 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
        --user-data-dir="$PROFILE" --window-size="$WIDTH,$HEIGHT" --screenshot="$OUT" "$URL" >"$LOG" 2>&1; then
    tail -20 "$LOG" >&2
    echo "$(basename "$0"): chromium failed on $URL" >&2
    exit 1
fi
if [ ! -s "$OUT" ]; then
    tail -20 "$LOG" >&2
    echo "$(basename "$0"): chromium wrote no screenshot to $OUT" >&2
    exit 1
fi

step "checking the screenshot $OUT is not blank"
MIN_COLOURS="${MIN_COLOURS:-256}" MIN_CHART_COLOURS="${MIN_CHART_COLOURS:-20}" MIN_INK_PERCENT="${MIN_INK_PERCENT:-1}" \
    python3 - "$OUT" "$WIDTH" "$HEIGHT" <<'PY'
import os, struct, sys, zlib

def fail(message):
    print("check-report: " + message, file=sys.stderr)
    sys.exit(1)

def read_png(path):
    """(width, height, channels, rows): the unfiltered rows of an 8-bit, non-interlaced PNG."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        fail(f"{path} is not a PNG file")
    pos, idat, header = 8, [], None
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    if header is None or not idat:
        fail(f"{path}: no IHDR or no IDAT chunk")
    width, height, depth, colour, _, _, interlace = header
    channels = {0: 1, 2: 3, 4: 2, 6: 4}.get(colour)
    if depth != 8 or channels is None or interlace != 0:
        fail(f"{path}: bit depth {depth}, colour type {colour}, interlace {interlace}: "
             "only 8-bit non-interlaced grey or RGB(A) is read")
    raw = zlib.decompress(b"".join(idat))
    stride = width * channels
    if len(raw) != height * (stride + 1):
        fail(f"{path}: {len(raw)} bytes of image data, expected {height * (stride + 1)}")
    # Undo the per-row filters (PNG spec section 9); bpp = bytes per pixel.
    bpp, rows, previous = channels, [], bytearray(stride)
    low7, high = int.from_bytes(b"\x7f" * stride, "big"), int.from_bytes(b"\x80" * stride, "big")
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        if kind == 1:  # Sub
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif kind == 2:  # Up: bytewise sums without carries, the whole row as one integer
            a, b = int.from_bytes(line, "big"), int.from_bytes(previous, "big")
            line = bytearray((((a & low7) + (b & low7)) ^ ((a ^ b) & high)).to_bytes(stride, "big"))
        elif kind == 3:  # Average
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + previous[i]) >> 1)) & 255
        elif kind == 4:  # Paeth
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b = previous[i]
                c = previous[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        elif kind != 0:
            fail(f"{path}: unknown filter type {kind} in row {y}")
        rows.append(bytes(line))
        previous = line
    return width, height, channels, rows

path, want_width, want_height = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
width, height, channels, rows = read_png(path)
if (width, height) != (want_width, want_height):
    fail(f"{path} is {width}x{height}, expected the window's {want_width}x{want_height}")
colours, dark = set(), 0
dark_bytes = bytes(range(235))
for row in rows:
    if row.count(255) == len(row):  # an all-white row (with alpha 255): nothing to count
        continue
    dark += len(row) - len(row.translate(None, dark_bytes))
    colours.update(row[i:i + min(channels, 3)] for i in range(0, len(row), channels))
saturated = sum(1 for c in colours if len(c) == 3 and max(c) - min(c) >= 60)
ink = 100.0 * dark / (width * height * channels)
min_colours, min_chart = int(os.environ["MIN_COLOURS"]), int(os.environ["MIN_CHART_COLOURS"])
min_ink = float(os.environ["MIN_INK_PERCENT"])
summary = (f"{width}x{height}: {len(colours)} distinct colours, {saturated} saturated (chart) colours, "
           f"{ink:.2f}% non-white")
problems = []
if len(colours) < min_colours:
    problems.append(f"fewer than {min_colours} distinct colours")
if saturated < min_chart:
    problems.append(f"fewer than {min_chart} saturated colours: no chart or heatmap was drawn")
if ink < min_ink:
    problems.append(f"less than {min_ink}% non-white")
if problems:
    fail(f"{path} looks blank ({summary}): " + "; ".join(problems))
print(f"check-report: {path} OK ({summary})")
PY
