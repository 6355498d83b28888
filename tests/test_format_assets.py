"""A format's files: served from its folder at /formats/<slug>/, nothing outside it, and its templates found by name."""

from __future__ import annotations

import pytest

from workshops import registry


@pytest.mark.parametrize("path,kind", [("/formats/board/wall.js", "text/javascript"),
                                       ("/formats/world_cafe/wall.css", "text/css"),
                                       ("/formats/world_cafe/wall_next.js", "text/javascript")])
def test_a_format_file_is_served_with_its_type_and_cached_like_the_core_static_files(client, path, kind):
    slug, name = path.split("/")[2:]
    with client.get(path) as response, client.get("/static/js/page.js") as core:
        assert response.status_code == 200 and response.mimetype == kind
        assert response.get_data() == (registry()[slug].folder() / "static" / name).read_bytes()
        assert response.headers.get("Cache-Control") == core.headers.get("Cache-Control")
        assert "Content-Security-Policy" in response.headers


@pytest.mark.parametrize("path", [
    "/formats/nope/wall.js",                     # no such format
    "/formats/board/nope.js",                    # no such file
    "/formats/board/",                           # no listing
    "/formats/board/../__init__.py",             # out of the static folder, normalised or not
    "/formats/board/..%2f__init__.py",
    "/formats/board/%2e%2e/__init__.py",
    "/formats/board/..%2f..%2f..%2fpyproject.toml",
    "/formats/board//etc/passwd",
    "/formats/board/%2fetc%2fpasswd",
    "/formats/board/wall.js%00",                 # NUL
    "/formats/board/%00",
    "/formats/%00/wall.js",
    "/formats/board/templates/wall.html",        # the format's templates are not files to fetch
])
def test_anything_but_a_file_of_the_format_static_folder_is_a_404(client, path):
    # Routing merges a doubled slash with a redirect, within the format's folder; where it leads is a 404 too.
    with client.get(path, follow_redirects=True) as response:
        assert response.status_code == 404, path
        assert all(r.headers["Location"].removeprefix("http://localhost").startswith("/formats/board/")
                   for r in response.history), path


def test_a_page_includes_a_format_template_by_name_and_an_unknown_one_is_not_found(app):
    from jinja2 import TemplateNotFound

    with app.test_request_context():
        env = app.jinja_env
        assert env.get_template("formats/board/wall.html").render().strip().startswith("<main")
        assert env.get_template("formats/world_cafe/booklet.html").filename.endswith("world_cafe/templates/booklet.html")
        for name in ("formats/nope/wall.html", "formats/board/nope.html", "formats/board", "formats/board/../__init__.py"):
            with pytest.raises(TemplateNotFound):
                env.get_template(name)
        # The core's own templates win: a format cannot shadow a page.
        assert env.get_template("wall.html").filename.endswith("templates/wall.html")
