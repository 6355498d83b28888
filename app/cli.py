"""The `rouages` command: serve, demo, events, registrants, exports, sessions, print files and organiser accounts."""

from __future__ import annotations

import copy
import gc
import json
import sys
from pathlib import Path

import click
from flask.cli import FlaskGroup, ScriptInfo

from workshops import registry

from . import create_app
from .factory import ensure_schema


# Commands that leave the schema as they find it: Flask-Migrate's own, the copies of the database, and the servers,
# which migrate once they hold the server lock (_load).
_SCHEMA_AS_IS = {"db", "backup", "restore", "serve", "demo"}


def _make_app():
    ctx = click.get_current_context()
    info = ctx.find_object(ScriptInfo)
    overrides = dict(getattr(info, "rouages_overrides", {}) or {})
    app = create_app(overrides)
    # A command run without the deployment's settings would write to another database and say it did well:
    # every command names the one it uses, on standard error (standard output may be JSON or a file).
    click.echo(f"Database: {database_label(app.config['SQLALCHEMY_DATABASE_URI'])}", err=True)
    command = ctx.command_path.split()[1:2]
    if app.config.get("AUTO_MIGRATE", True) and not _SCHEMA_AS_IS.intersection(command):
        ensure_schema(app)  # an empty database gets its tables rather than a « no such table » at the first query
    return app


def database_label(url: str) -> str:
    """Return how a command names its database: the SQLite file, or the URL without its password."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return f"{parsed.database} (SQLite)"
    return parsed.render_as_string(hide_password=True)


def _set_data(ctx: click.Context, _param, value):
    if value:
        info = ctx.ensure_object(ScriptInfo)
        overrides = getattr(info, "rouages_overrides", {}) or {}
        overrides["DATA_DIR"] = value
        info.rouages_overrides = overrides
    return value


_DATA_HELP = "Data directory (database, uploads, generated files)."
data_option = click.option("--data", type=click.Path(file_okay=False), callback=_set_data, expose_value=False,
                           is_eager=True, help=_DATA_HELP)


def _accepting_data(command: click.Command | None) -> click.Command | None:
    """Return a copy of a command (and of a group's sub-commands) that takes --data after its name too."""
    if command is None:
        return None
    command = copy.copy(command)
    if not any(param.name == "data" for param in command.params):
        command.params = [*command.params, click.Option(["--data"], type=click.Path(file_okay=False),
                                                        callback=_set_data, expose_value=False, is_eager=True,
                                                        help=_DATA_HELP)]
    if isinstance(command, click.Group):
        command.commands = {name: _accepting_data(sub) for name, sub in command.commands.items()}
    return command


class _RouagesGroup(FlaskGroup):
    """Flask's command group, where every command (Flask's and plugins' included) accepts --data in either place."""

    def get_command(self, ctx: click.Context, name: str):
        """Return the named command, taking --data before or after its name alike."""
        return _accepting_data(super().get_command(ctx, name))


@click.group(cls=_RouagesGroup, create_app=_make_app, add_version_option=False, set_debug_flag=False,
             load_dotenv=False)
@data_option
def cli():
    """Rouages: live workshops and booklets for in-person events."""


def _load(ctx: click.Context, *, server: bool = False, **overrides):
    """Create the application for a command, with the schema up to date; a server also takes the server lock."""
    info = ctx.ensure_object(ScriptInfo)
    info.rouages_overrides = {**(getattr(info, "rouages_overrides", {}) or {}), **overrides}
    app = info.load_app()
    if server:
        from .services.backup import BackupError, ServerLock

        # Held until the process ends, before the schema is touched: `rouages restore` refuses to run meanwhile.
        try:
            app.extensions["rouages.server_lock"] = ServerLock(app.config["DATA_DIR"], exclusive=False)
        except BackupError as exc:
            raise click.ClickException(str(exc)) from None
        if app.config.get("AUTO_MIGRATE", True):
            ensure_schema(app)
    return app


def _print_sessions(event) -> None:
    from .services import network, qr
    from .services.events import live_sessions

    url = network.public_url()
    warning = network.reachability_warning(url)
    if warning:
        click.secho(f"Warning: {url} is a {warning.replace('_', '-')} address: phones will not reach it. "
                    "Set ROUAGES_PUBLIC_URL or connect this machine to the venue's network.", fg="yellow")
    click.echo(f"Event page: {network.event_url(event.slug)}")
    for session in live_sessions(event):
        click.secho(f"\n{session.title}", bold=True)
        click.echo(f"  code {session.code}   join {network.join_url(session.code)}   wall {network.wall_url(session.code)}")
    first = next(iter(live_sessions(event)), None)
    if first is not None:
        click.echo(f"\nScan to join « {first.title} »:")
        click.echo(qr.terminal(network.join_url(first.code)))


def _run_server(app, host: str, port: int) -> None:
    from .extensions import socketio
    from .server import wsgi_server_options

    click.echo(f"Rouages listening on http://{host}:{port} ({app.config['ASYNC_MODE']}); press Ctrl+C to stop.")
    # What start-up built (the app, its models, its templates) lives as long as the process: kept out of the garbage
    # collector's scans, and collections made rarer, a room of phones reconnecting at once costs the server about
    # 7 % less time and the wall's posts wait less (bench/storm.py).
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)
    socketio.run(app, host=host, port=port, log_output=False, use_reloader=False, debug=False,
                 **wsgi_server_options(app.config["ASYNC_MODE"]))


def _log_to_stderr() -> None:
    """Send the server's log (errors with their cause) to standard error."""
    import logging

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _server_options(fn):
    fn = click.option("--port", default=None, type=int, help="Port to listen on [5000].")(fn)
    fn = click.option("--host", default=None, help="Address to listen on [0.0.0.0: every interface].")(fn)
    return data_option(fn)


def _server_app(ctx: click.Context, host: str | None, port: int | None, **overrides):
    """Create the application a server command runs, logging to standard error."""
    _log_to_stderr()
    return _load(ctx, server=True, **{k: v for k, v in {"HOST": host, "PORT": port}.items() if v is not None},
                 **overrides)


@cli.command(with_appcontext=False)
@_server_options
@click.pass_context
def serve(ctx, host, port):
    """Start the server for real use."""
    app = _server_app(ctx, host, port)
    _run_server(app, app.config["HOST"], app.config["PORT"])


@cli.command(with_appcontext=False)
@_server_options
@click.pass_context
def demo(ctx, host, port):
    """Import the demo event if needed, print how to join, and start the server."""
    # DEMO lets the demo account sign in: `rouages serve` on the same data directory refuses it.
    app = _server_app(ctx, host, port, DEMO=True)
    import secrets

    from .services import accounts, network
    from .services.events import demo_text, get_event, import_event

    with app.app_context():
        event = get_event("demo") or import_event(demo_text(), registry())[0]
        # A new password at each start, so that a demo once run is no standing way into this data directory.
        password = secrets.token_urlsafe(12)
        organiser = accounts.find_organiser(accounts.DEMO_EMAIL)
        if organiser is None:
            accounts.add_organiser(accounts.DEMO_EMAIL, password, "Demo")
        else:
            accounts.set_password(organiser, password)
        base = network.public_url()
        click.secho(f"\n{event.title}", bold=True)
        click.echo(f"Console: {base}/console/   sign in as {accounts.DEMO_EMAIL} / {password} "
                   "(a new password at each start)")
        exposed = network.exposed_urls(app.config["HOST"], app.config["PORT"])
        if exposed is not None:
            click.secho(f"Reachable from the network at {', '.join(exposed) or 'every address of this machine'}: "
                        "anyone on it can open the demo. Start it with --host 127.0.0.1 to keep it to this "
                        "machine.", fg="yellow")
        _print_sessions(event)
    _run_server(app, app.config["HOST"], app.config["PORT"])


@cli.command("formats", with_appcontext=False)
def formats_command():
    """List the workshop formats an event file can use."""
    for slug, fmt in registry().items():
        click.echo(f"{slug:<20} {fmt.description}")


@cli.command("group", with_appcontext=False)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="File to write [stdout].")
@click.option("--by", default="", help="Group within these comma-separated columns (a tag, a table) [the whole file].")
@click.option("--threshold", type=click.FloatRange(0, 1), default=None,
              help="Similarity (0-1) from which texts are grouped [ROUAGES_GROUPING_THRESHOLD, or the synthesis' own].")
@click.option("--synonyms", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A YAML file of synonyms added to the field's (the event file's `grouping: synonyms:` shape).")
@click.option("--column", default="group", show_default=True, help="Name of the column added.")
def group_command(file: Path, output: Path | None, by: str, threshold: float | None, synonyms: Path | None,
                  column: str):
    """Group the rows of a CSV or JSON Lines file by their `text` column, as the synthesis groups ideas."""
    import os

    from .config import grouping_from
    from .grouping import Grouper, Settings, merged_synonyms, read_synonyms
    from .grouping.files import FileError, group_file

    chosen = grouping_from(os.environ)
    settings = Settings(threshold=chosen["GROUPING_THRESHOLD"] if threshold is None else threshold,
                        suggest=chosen["GROUPING_SUGGEST"], embedder=chosen["GROUPING_EMBEDDER"])
    try:
        extra = read_synonyms(synonyms) if synonyms else {}
        text, rows, groups = group_file(file, Grouper(settings, merged_synonyms(extra)),
                                        [c for c in by.split(",") if c], column, output)
    except (FileError, ValueError, OSError) as error:
        raise click.ClickException(str(error)) from None
    if output is None:
        click.echo(text, nl=False)
    click.echo(f"{rows} rows in {groups} groups (threshold {settings.threshold}).", err=True)


@cli.group()
def event():
    """Validate, import and export event files."""


@event.command("validate", with_appcontext=False)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def event_validate(file: Path):
    """Check an event file and print every problem with its line."""
    from .services import eventfile

    try:
        eventfile.load(file, registry())
    except eventfile.EventFileError as exc:
        for problem in exc.problems:
            click.echo(f"{file}: {problem}", err=True)
        click.echo(f"{len(exc.problems)} problem(s) found.", err=True)
        sys.exit(1)
    click.echo(f"{file}: valid.")


@event.command("import", with_appcontext=False)
@click.argument("file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--demo", "use_demo", is_flag=True, help="Import the bundled demo event.")
@data_option
@click.pass_context
def event_import(ctx, file: Path | None, use_demo: bool):
    """Create or update the event a file describes (re-importing never duplicates)."""
    from .services import eventfile
    from .services.events import ImportFailed, demo_text, import_event

    if bool(file) == use_demo:
        raise click.UsageError("Give either FILE or --demo.")
    app = _load(ctx)
    with app.app_context():
        try:
            event, counts = import_event(demo_text() if use_demo else file, registry())
        except eventfile.EventFileError as exc:
            for problem in exc.problems:
                click.echo(f"{file or 'demo'}: {problem}", err=True)
            click.echo(f"{len(exc.problems)} problem(s) found; nothing was imported.", err=True)
            sys.exit(1)
        except ImportFailed as exc:
            click.echo(f"{file or 'demo'}: {exc}", err=True)
            sys.exit(1)
        verb = "Created" if counts["event_created"] else "Updated"
        click.echo(f"{verb} event {event.slug!r}: {counts['sessions_created']} session(s) created, "
                   f"{counts['sessions_updated']} updated, {counts['sessions_removed']} retired.")
        if not counts["event_created"]:
            click.echo(f"Other programme items: {counts['items_added']} added, {counts['items_updated']} updated, "
                       f"{counts['items_removed']} removed; event details "
                       f"{'updated' if counts['details_updated'] else 'unchanged'}.")


@event.command("export")
@click.argument("slug")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="File to write [stdout].")
def event_export(slug: str, output: Path | None):
    """Write an event back as an event file."""
    from .services.events import export_event, get_event

    found = get_event(slug)
    if found is None:
        raise click.ClickException(f"No event has the slug {slug!r}.")
    text = export_event(found)
    if output:
        output.write_text(text, "utf-8")
    else:
        click.echo(text, nl=False)


@cli.command("export")
@click.argument("slug")
@click.option("--format", "kind", type=click.Choice(["json", "csv"]), default="json", show_default=True,
              help="json: everything the booklets are made of; csv: one idea per row, for a spreadsheet.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="File to write [stdout].")
def export_command(slug: str, kind: str, output: Path | None):
    """Export an event's ideas, votes and texts; works while the event runs."""
    from .services import exports
    from .services.events import get_event

    found = get_event(slug)
    if found is None:
        raise click.ClickException(f"No event has the slug {slug!r}.")
    data = exports.as_csv(found) if kind == "csv" else exports.as_json(found, registry())
    if output:
        output.write_bytes(data)
        click.echo(f"Wrote {output} ({_size(len(data))}).")
    else:
        click.echo(data, nl=False)  # bytes: written as they are, the CSV's byte-order mark included


@cli.command("sessions")
@click.argument("slug")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def sessions_command(slug: str, as_json: bool):
    """List an event's sessions with their join codes and URLs."""
    from .services import network
    from .services.events import get_event, live_sessions

    found = get_event(slug)
    if found is None:
        raise click.ClickException(f"No event has the slug {slug!r}.")
    from .services.sessions import live_tables

    base = network.public_url()
    rows = [{"key": s.key, "title": s.title, "code": s.code, "workshop": s.workshop,
             "join_url": network.join_url(s.code), "wall_url": network.wall_url(s.code),
             # Whoever opens a host link hosts that table: organisers print these for the table hosts only.
             "tables": [{"key": t.key, "name": t.name, "code": t.code, "host": t.host,
                         "join_url": network.join_url(t.code), "host_url": f"{base}/h/{t.host_token}"}
                        for t in live_tables(s)]}
            for s in live_sessions(found)]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    click.echo(f"Event page: {network.event_url(found.slug)}")
    for row in rows:
        click.echo(f"{row['code']}  {row['title']}\n        {row['join_url']}")
        for table in row["tables"]:
            host = f" (host: {table['host']})" if table["host"] else ""
            click.echo(f"  {table['code']}  {table['name']}{host}\n        join {table['join_url']}\n"
                       f"        host {table['host_url']}")


@cli.command("restitution")
@click.argument("slug")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True, help="PDF file to write.")
@click.option("--a5", is_flag=True, help="Print on A5 instead of A4.")
@click.option("--tagged", is_flag=True, help="Write the tagged PDF/UA variant, for screen readers.")
def restitution_command(slug: str, output: Path, a5: bool, tagged: bool):
    """Write an event's restitution booklet as a PDF."""
    from carnet.restitution import write_pdf

    from .services.events import get_event

    found = get_event(slug)
    if found is None:
        raise click.ClickException(f"No event has the slug {slug!r}.")
    pages = write_pdf(found, output, a5=a5, progress=_progress_printer(), tagged=tagged)
    _progress_done()
    click.echo(f"{output}: {pages} pages, {output.stat().st_size / 1e6:.1f} MB.")


def _progress_printer():
    """Return a progress callback that shows each new message on one line of a terminal (nothing in a log file)."""
    shown: list[str] = []
    terminal = sys.stderr.isatty()

    def progress(message: str) -> None:
        if terminal and (not shown or shown[-1] != message):
            shown.append(message)
            click.echo(f"\r{message:<40}", nl=False, err=True)

    return progress


def _progress_done() -> None:
    """End the terminal's progress line."""
    if sys.stderr.isatty():
        click.echo("", err=True)


@cli.command("carnet")
@click.argument("slug")
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              help="PDF file to write (a folder with --per-participant).")
@click.option("--a4", is_flag=True, help="A4 pages instead of A5.")
@click.option("--imposed", is_flag=True, help="A5 pages two per A4 side in saddle-stitch order, for an office printer.")
@click.option("--print-shop", is_flag=True, help="A5 pages with 3 mm of bleed and crop marks, for a print shop.")
@click.option("--per-participant", is_flag=True,
              help="One carnet per person of the registration list in the output folder, and carnets-all.pdf.")
def carnet_command(slug: str, output: Path, a4: bool, imposed: bool, print_shop: bool, per_participant: bool):
    """Write an event's participants' carnet (Carnet de Bord) as a PDF."""
    from carnet.builds import build
    from carnet.carnet import write_personal

    from .services.errors import ServiceError
    from .services.events import get_event

    if sum((a4, imposed, print_shop)) > 1 or (per_participant and (imposed or print_shop)):
        raise click.UsageError("Choose one of --a4, --imposed and --print-shop (--per-participant takes --a4 only).")
    found = get_event(slug)
    if found is None:
        raise click.ClickException(f"No event has the slug {slug!r}.")
    progress = _progress_printer()
    try:
        if per_participant:
            if output.exists() and not output.is_dir():
                raise click.ClickException(f"{output} is a file: give a folder to write the carnets in.")
            written = write_personal(found, output, a4=a4, progress=progress)
            _progress_done()
            click.echo(f"{output}: {len(written) - 1} carnets and {written[-1].name}.")
            return
        fmt = "a4" if a4 else "imposed" if imposed else "print-shop" if print_shop else "a5"
        pages = build(found, "carnet", fmt, output, progress=progress)
    except (ServiceError, ValueError) as exc:
        raise click.ClickException(str(getattr(exc, "message", exc))) from None
    _progress_done()
    click.echo(f"{output}: {pages} pages, {output.stat().st_size / 1e6:.1f} MB.")


@cli.command("badges")
@click.argument("slug")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True, help="PDF file to write.")
def badges_command(slug: str, output: Path):
    """Write name badges for an event's registration list: eight per A4 sheet, in list order."""
    from carnet.badges import write_badges

    from .services.errors import ServiceError
    from .services.events import get_event

    found = get_event(slug)
    if found is None:
        raise click.ClickException(f"No event has the slug {slug!r}.")
    try:
        sheets = write_badges(found, output)
    except ServiceError as exc:
        raise click.ClickException(str(exc.message)) from None
    click.echo(f"{output}: {sheets} A4 sheet(s) of badges.")


@cli.command("table-tents")
@click.argument("slug")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True, help="PDF file to write.")
@click.option("--session", "session_key", default=None, help="Only this session's tables (its id in the event file).")
def table_tents_command(slug: str, output: Path, session_key: str | None):
    """Write a folding table tent for each world café table: one A4 page each."""
    from carnet.table_tents import write_table_tents

    from .services.errors import ServiceError
    from .services.events import get_event, live_sessions

    found = get_event(slug)
    if found is None:
        raise click.ClickException(f"No event has the slug {slug!r}.")
    target = found
    if session_key is not None:
        target = next((s for s in live_sessions(found) if s.key == session_key), None)
        if target is None:
            raise click.ClickException(f"The event {slug!r} has no session {session_key!r}.")
    try:
        pages = write_table_tents(target, output)
    except ServiceError as exc:
        raise click.ClickException(str(exc.message)) from None
    click.echo(f"{output}: {pages} table tent(s), one A4 page each.")


@cli.group()
def registrants():
    """The event's registration list and each person's own QR code."""


@registrants.command("import")
@click.argument("slug")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def registrants_import(slug: str, file: Path):
    """Make a CSV file (name, organisation, email, role) the event's registration list, keeping who is who."""
    from .services.errors import ServiceError
    from .services.events import get_event
    from .services.registrations import import_registrants, read_list

    found = get_event(slug)
    if found is None:
        raise click.ClickException(f"No event has the slug {slug!r}.")
    try:
        with file.open("rb") as stream:
            counts = import_registrants(found, read_list(stream))
    except ServiceError as error:
        raise click.ClickException(str(error.message)) from None
    click.echo("{added} added, {updated} already known, {removed} no longer on the list, {skipped} lines skipped."
               .format(**counts))


@registrants.command("list")
@click.argument("slug")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def registrants_list(slug: str, as_json: bool):
    """List the event's registrants in list order, with their personal URLs and whether a phone claimed them."""
    from .services.events import get_event
    from .services.registrants import personal_url
    from .services.registrants import registrants as listed

    found = get_event(slug)
    if found is None:
        raise click.ClickException(f"No event has the slug {slug!r}.")
    rows = [{"position": p.registered_position, "name": p.name, "organisation": p.organisation, "email": p.email,
             "role": p.role, "url": personal_url(p),
             "claimed_at": p.badge_claimed_at.isoformat() + "Z" if p.badge_claimed_at else None}
            for p in listed(found)]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        who = f"{row['name']} ({row['organisation']})" if row["organisation"] else row["name"]
        state = f"claimed {row['claimed_at']}" if row["claimed_at"] else "not claimed"
        click.echo(f"{row['position']:>4}  {who}\n      {row['url']}  [{state}]")


REHEARSAL_EMAIL = "rehearsal@rouages.invalid"


def _rehearsal_sessions(slug: str) -> list[dict]:
    """Return the live sessions of an event in programme order, as the crowd needs them."""
    from .services.events import get_event, live_sessions

    found = get_event(slug)
    if found is None:
        raise click.ClickException(f"No event has the slug {slug!r}.")
    sessions = [{"key": s.key, "title": s.title, "code": s.code, "workshop": s.workshop} for s in live_sessions(found)]
    if not sessions:
        raise click.ClickException(f"The event {slug!r} has no live session to rehearse.")
    from sqlalchemy import func, select

    from .extensions import db
    from .models import Post, Session

    ideas = db.session.scalar(select(func.count(Post.id)).join(Session).where(Session.event_id == found.id))
    if ideas:
        click.secho(f"Note: {slug!r} already holds {ideas} ideas; the crowd adds its participants, ideas, dots and "
                    "harvests to them. Rehearse on a copy of the event (docs/rehearsal.md).", fg="yellow")
    return sessions


def _rehearsal_password() -> str:
    """Give the rehearsal's organiser account a new random password (creating it if needed) and return it."""
    import secrets

    from .services import accounts

    password = secrets.token_urlsafe(24)
    organiser = accounts.find_organiser(REHEARSAL_EMAIL)
    if organiser is None:
        accounts.add_organiser(REHEARSAL_EMAIL, password, "Rehearsal")
    else:
        accounts.set_password(organiser, password)
    return password


@cli.command("rehearse", with_appcontext=False)
@click.argument("slug")
@click.option("--participants", type=click.IntRange(1, 2000), required=True, help="How many phones take part.")
@click.option("--seed", type=int, default=None, help="Seed of every choice, to replay a run [random].")
@click.option("--corpus", type=click.Path(dir_okay=False, path_type=Path),
              help="Texts to post: JSON Lines or CSV with a `text` column [the built-in French corpus].")
@click.option("--url", default=None, help="The running server's address [http://127.0.0.1:<configured port>].")
@data_option
@click.pass_context
def rehearse(ctx, slug: str, participants: int, seed: int | None, corpus: Path | None, url: str | None):
    """Run a simulated crowd through every live session of an event, on a running server."""
    import asyncio
    import random
    import time

    from . import rehearsal

    try:
        texts = rehearsal.load_corpus(corpus) if corpus else rehearsal.builtin_corpus()
    except rehearsal.CorpusError as exc:
        raise click.BadParameter(str(exc), param_hint="'--corpus'") from None
    app = _load(ctx)
    from .extensions import db

    with app.app_context():
        try:
            sessions = _rehearsal_sessions(slug)
            password = _rehearsal_password()
        finally:
            db.session.remove()
            db.engine.dispose()  # no connection held while the crowd runs, for minutes
    limits = rehearsal.Limits.from_config(app.config)
    sockets = app.config["LIMIT_WEBSOCKETS_PER_ADDRESS"]
    if sockets and participants + 32 > sockets:  # the phones, at most 30 hosts' pages and the console
        raise click.BadParameter(f"the server keeps {sockets} WebSockets open per address: rehearse with fewer "
                                 "participants, or raise ROUAGES_LIMIT_WEBSOCKETS_PER_ADDRESS on the server.",
                                 param_hint="'--participants'")
    url = (url or f"http://127.0.0.1:{app.config['PORT']}").rstrip("/")
    seed = random.SystemRandom().randrange(10**6) if seed is None else seed
    click.echo(f"Rehearsing {slug!r} at {url} with {participants} participants, seed {seed} "
               f"(--seed {seed} replays the same choices), as organiser {REHEARSAL_EMAIL}.")
    started = time.monotonic()

    async def run() -> rehearsal.Crowd:
        cookie = await rehearsal.sign_in(url, REHEARSAL_EMAIL, password)
        crowd = rehearsal.Crowd(url, sessions, texts, participants, seed, cookie, limits, click.echo)
        await crowd.run()
        return crowd

    try:
        crowd = asyncio.run(run())
    except rehearsal.RehearsalError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        with app.app_context():
            _rehearsal_password()  # forgotten at once: the account signs in no more, and its cookie is void
            db.session.remove()
            db.engine.dispose()
    tallies, errors = crowd.tallies, len(crowd.general)
    for message in crowd.general:
        click.echo(f"error: {message}", err=True)
    for tally in tallies:
        errors += len(tally.errors)
        click.echo(f"\n{tally.title} ({tally.workshop}, {tally.code})\n"
                   f"  joined {tally.joined} ({tally.named} named), steps {tally.steps}, posts acked {tally.posts}, "
                   f"votes cast {tally.votes}, harvests written {tally.harvests}, "
                   + (f"upvotes acked {tally.upvotes}, " if tally.upvotes else "")
                   + (f"questions reviewed {tally.reviewed}, " if tally.reviewed else "")
                   + (f"suggestions answered {tally.grouped}, " if tally.grouped else "")
                   + (f"format actions acked {tally.actions}, " if tally.actions else "")
                   + (f"waits for a rate limit {tally.retried}, " if tally.retried else "")
                   + f"errors {len(tally.errors)} ({tally.seconds:.0f} s)")
        for message in tally.errors[:20]:
            click.echo(f"  error: {message}", err=True)
        if len(tally.errors) > 20:
            click.echo(f"  … and {len(tally.errors) - 20} more errors", err=True)
    click.echo(f"\n{len(tallies)} session(s) in {time.monotonic() - started:.0f} s: "
               f"posts acked {sum(t.posts for t in tallies)}, votes cast {sum(t.votes for t in tallies)}, "
               f"harvests written {sum(t.harvests for t in tallies)}, errors {errors}.")
    if errors:
        sys.exit(1)


@cli.group()
def user():
    """Manage organiser accounts."""


@user.command("add", with_appcontext=False)
@click.argument("email")
@click.option("--name", default="", help="Name shown in the console.")
@click.password_option(help="Password (prompted when not given).")
@click.pass_context
def user_add(ctx, email: str, name: str, password: str):
    """Create an organiser account."""
    from .services import accounts
    from .services.errors import ServiceError

    app = _load(ctx)
    with app.app_context():
        try:
            accounts.add_organiser(email, password, name)
        except ServiceError as exc:
            raise click.ClickException(str(exc.message)) from None
    click.echo(f"Organiser {accounts.normalise_email(email)} created.")


@user.command("password", with_appcontext=False)
@click.argument("email")
@click.password_option(help="New password (prompted when not given).")
@click.pass_context
def user_password(ctx, email: str, password: str):
    """Set an organiser's password; their open sessions are signed out."""
    from .services import accounts
    from .services.errors import ServiceError

    app = _load(ctx)
    with app.app_context():
        organiser = accounts.find_organiser(email)
        if organiser is None:
            raise click.ClickException(f"No organiser has the address {email!r}.")
        try:
            accounts.set_password(organiser, password)
        except ServiceError as exc:
            raise click.ClickException(str(exc.message)) from None
    click.echo(f"Password of {accounts.normalise_email(email)} changed.")


def _size(size: int) -> str:
    return f"{size / 1024:.0f} KiB" if size < 1024 * 1024 else f"{size / 1024 / 1024:.1f} MiB"


def _postgres_advice(database_url: str, output: Path, restoring: bool) -> None:
    """Say how to back up or restore a PostgreSQL database with its own tools, and fail."""
    from .services.backup import pg_commands

    dump, restore, password = pg_commands(database_url, output)
    click.echo(f"rouages {'restore' if restoring else 'backup'} handles SQLite databases; this one is on PostgreSQL.",
               err=True)
    if restoring:
        click.echo(f"Stop every worker, then restore a pg_dump file with:\n  {restore}", err=True)
    else:
        click.echo(f"Back it up, even while the workers run, with:\n  {dump}", err=True)
    if password:
        click.echo("The password of ROUAGES_DATABASE_URL is left out: give it in PGPASSWORD or ~/.pgpass.", err=True)
    sys.exit(2)


@cli.command("backup", with_appcontext=False)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="File to write [backups/rouages-YYYYmmdd-HHMMSS.db in the data directory].")
@data_option
@click.pass_context
def backup_command(ctx, output: Path | None):
    """Write a consistent copy of the database, also while the server runs and posts arrive."""
    import sqlite3

    from .services import backup

    app = ctx.ensure_object(ScriptInfo).load_app()
    data_dir, url = app.config["DATA_DIR"], app.config["SQLALCHEMY_DATABASE_URI"]
    database = backup.sqlite_path(url)
    if database is None:
        _postgres_advice(url, output or backup.default_name(data_dir, ".dump"), restoring=False)
    try:
        copy = backup.backup(database, output or backup.default_name(data_dir))
    except (backup.BackupError, sqlite3.Error) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Wrote {copy.path} ({_size(copy.size)}, {copy.posts} posts).")


@cli.command("restore", with_appcontext=False)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database that holds data (a copy of it is kept).")
@data_option
@click.pass_context
def restore_command(ctx, file: Path, force: bool):
    """Bring back a backup made by `rouages backup`; every server on the data directory must be stopped."""
    import sqlite3

    from .services import backup

    app = ctx.ensure_object(ScriptInfo).load_app()
    data_dir, url = app.config["DATA_DIR"], app.config["SQLALCHEMY_DATABASE_URI"]
    database = backup.sqlite_path(url)
    if database is None:
        _postgres_advice(url, file.absolute(), restoring=True)
    try:
        with backup.ServerLock(data_dir, exclusive=True):
            done = backup.restore(file, database, data_dir, force=force)
            ensure_schema(app)  # a backup made by an older Rouages gets this version's migrations
    except (backup.BackupError, sqlite3.Error) as exc:
        raise click.ClickException(str(exc)) from None
    if done.previous is not None:
        click.echo(f"Kept the replaced database in {done.previous.path} ({done.previous.posts} posts).")
    click.echo(f"Restored {file} into {done.database.path} ({_size(done.database.size)}, {done.database.posts} posts).")
