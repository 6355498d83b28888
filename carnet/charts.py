"""Bar charts as plain data for the booklet's SVG template: lengths in the chart's own units, nothing drawn here."""

from __future__ import annotations

# The chart's viewBox: labels take the left part, bars the rest.
WIDTH, LABEL, ROW = 600, 250, 26


def bars(title: str, rows: list[tuple[str, int]]) -> dict:
    """Return a horizontal bar chart: each row's label, value and bar length, scaled to the largest value."""
    top = max((value for _label, value in rows), default=0) or 1
    span = WIDTH - LABEL - 50
    return {"title": title, "width": WIDTH, "label_width": LABEL, "row": ROW, "height": ROW * len(rows) + 8,
            "rows": [{"label": label if len(label) <= 36 else label[:35].rstrip() + "…", "full": label, "value": value,
                      "length": round(span * value / top, 1), "y": ROW * index + 4} for index, (label, value) in
                     enumerate(rows)]}
