"""The diagnostic wheel: a radar of the functions as standalone SVG, the same on the phone, the wall and in print."""

from __future__ import annotations

import math

from markupsafe import Markup, escape

SIZE = 400
CENTRE = SIZE / 2
RADIUS = 130
LABEL_GAP = 16


def _point(index: int, count: int, fraction: float) -> tuple[float, float]:
    """Return the point at `fraction` of the radius on the axis of function `index` (the first axis points up)."""
    angle = -math.pi / 2 + 2 * math.pi * index / count
    return (round(CENTRE + RADIUS * fraction * math.cos(angle), 1),
            round(CENTRE + RADIUS * fraction * math.sin(angle), 1))


def _polygon(points: list[tuple[float, float]]) -> str:
    return " ".join(f"{x},{y}" for x, y in points)


def _label_lines(label: str, width: int = 14) -> list[str]:
    """Split a label into at most two lines of about `width` characters."""
    words, lines = label.split(), [""]
    for word in words:
        if lines[-1] and len(lines[-1]) + 1 + len(word) > width and len(lines) < 2:
            lines.append(word)
        else:
            lines[-1] = f"{lines[-1]} {word}".strip()
    return lines


def wheel_svg(functions: list[dict], levels: list[str], title: str, description: str = "",
              ident: str = "wheel") -> Markup:
    """Return the wheel of `functions` ({label, score}: score from 0 to 1, or None when unanswered) as SVG.

    `levels` names the rings from the centre out (the grid's stages); `title` and `description` are what a screen
    reader says of the image; `ident` prefixes its element ids (two wheels on one page need two). A pure function of
    its arguments: no request, no database.
    """
    count = len(functions)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="diagnostic-wheel" viewBox="-90 -10 {SIZE + 180} {SIZE + 20}" '
             f'role="img" aria-labelledby="{ident}-title {ident}-desc">',
             f'<title id="{ident}-title">{escape(title)}</title><desc id="{ident}-desc">{escape(description)}</desc>']
    if count < 3:
        parts.append("</svg>")
        return Markup("".join(parts))
    rings = max(len(levels) - 1, 1)
    for ring in range(1, rings + 1):
        ring_points = [_point(i, count, ring / rings) for i in range(count)]
        parts.append(f'<polygon class="wheel-ring" points="{_polygon(ring_points)}" fill="none" stroke="#c9ccd1" '
                     f'stroke-width="1"/>')
    for i in range(count):
        x, y = _point(i, count, 1)
        parts.append(f'<line class="wheel-axis" x1="{CENTRE}" y1="{CENTRE}" x2="{x}" y2="{y}" stroke="#9aa0a8" '
                     f'stroke-width="1"/>')
    answered = [(i, f) for i, f in enumerate(functions) if f.get("score") is not None]
    if answered:
        shape = [_point(i, count, f["score"] if f.get("score") is not None else 0) for i, f in enumerate(functions)]
        parts.append(f'<polygon class="wheel-shape" points="{_polygon(shape)}" fill="#1f6f8b" fill-opacity="0.35" '
                     f'stroke="#1f6f8b" stroke-width="3" stroke-linejoin="round"/>')
        for i, f in answered:
            x, y = _point(i, count, f["score"])
            parts.append(f'<circle class="wheel-dot" cx="{x}" cy="{y}" r="5" fill="#1f6f8b"/>')
    for i, f in enumerate(functions):
        angle = -math.pi / 2 + 2 * math.pi * i / count
        cos, sin = math.cos(angle), math.sin(angle)
        x = round(CENTRE + (RADIUS + LABEL_GAP) * cos, 1)
        y = round(CENTRE + (RADIUS + LABEL_GAP) * sin, 1)
        anchor = "middle" if abs(cos) < 0.3 else ("start" if cos > 0 else "end")
        lines = _label_lines(str(f["label"]))
        # Labels above the wheel grow upwards, those below it downwards, so none crosses the shape.
        first = y - 21 * (len(lines) - 1) if sin < -0.3 else (y + 16 if sin > 0.3 else y + 6 - 10 * (len(lines) - 1))
        spans = "".join(f'<tspan x="{x}" y="{round(first + 21 * n, 1)}">{escape(line)}</tspan>'
                        for n, line in enumerate(lines))
        parts.append(f'<text class="wheel-label" text-anchor="{anchor}" font-size="19" font-weight="600" '
                     f'fill="#1d2127">{spans}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
