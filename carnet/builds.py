"""Each booklet's print files, by format: the one function that writes each, for the render job and the CLI."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from pypdf import PdfReader


def build(event, booklet: str, fmt: str, output: Path, progress: Callable | None = None) -> int:
    """Write booklet `booklet` of `event` in format `fmt` to `output`; return its page count."""
    if booklet == "restitution":
        from .restitution import write_pdf

        return write_pdf(event, output, a5=fmt == "a5", progress=progress)
    if booklet == "badges":
        from .badges import write_badges

        return write_badges(event, output)
    if booklet == "table-tents":
        from .table_tents import write_table_tents

        return write_table_tents(event, output)
    from . import carnet

    if fmt in ("a5", "a4"):
        return carnet.write_pdf(event, output, a4=fmt == "a4", progress=progress)
    if fmt == "print-shop":
        return carnet.write_pdf(event, output, print_shop=True, progress=progress)
    # Named after the output (a render job's is `.<stem>-<random>.part`), so that the job's start sweeps what a
    # killed render left here too.
    with tempfile.TemporaryDirectory(dir=output.parent, prefix=f".{output.stem.lstrip('.')}-", suffix=".build") as work:
        if fmt == "imposed":
            from .imposition import impose_saddle_stitch

            single = Path(work) / "a5.pdf"
            carnet.write_pdf(event, single, progress=progress)
            return impose_saddle_stitch(single, output)
        if fmt == "personal":
            merged = carnet.write_personal(event, Path(work), progress=progress)[-1]
            shutil.move(merged, output)
            return len(PdfReader(output).pages)
    raise ValueError(f"no {booklet!r} booklet in {fmt!r}")
