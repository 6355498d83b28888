"""What workshop formats bring to the core's pages: their static files and their templates."""

from __future__ import annotations

from flask import Blueprint, Flask, abort, send_from_directory
from jinja2 import BaseLoader, ChoiceLoader, FileSystemLoader, TemplateNotFound

from workshops import Screen, registry

bp = Blueprint("formats", __name__)


@bp.get("/formats/<slug>/<path:filename>")
def asset(slug: str, filename: str):
    """Serve a file of a format's ``static/`` folder (its view modules and stylesheets)."""
    fmt = registry().get(slug)
    if fmt is None or "\x00" in filename:
        abort(404)
    # send_from_directory answers 404 to ".." and absolute paths, and never lists a folder.
    return send_from_directory(fmt.folder() / "static", filename)


class FormatLoader(BaseLoader):
    """Find ``formats/<slug>/<name>`` in the ``templates/`` folder of the format registered under that slug."""

    def get_source(self, environment, template):
        """Return the template's source from its format's folder, or raise TemplateNotFound."""
        prefix, _, rest = template.partition("/")
        slug, _, name = rest.partition("/")
        # Read at each lookup, not at start-up: the registry holds whatever formats are installed when asked.
        fmt = registry().get(slug) if prefix == "formats" and name else None
        if fmt is None:
            raise TemplateNotFound(template)
        return FileSystemLoader(fmt.folder() / "templates").get_source(environment, name)


def install_loader(app: Flask) -> None:
    """Let the core's pages include a format's templates as ``formats/<slug>/<name>``."""
    app.jinja_env.loader = ChoiceLoader([app.jinja_env.loader, FormatLoader()])


def format_screen(slug: str | None, view: str) -> Screen | None:
    """Return what the format registered under `slug` shows on `view`, for a page's format slot (None: nothing)."""
    fmt = registry().get(slug) if slug else None
    return fmt.screen(view) if fmt is not None else None
