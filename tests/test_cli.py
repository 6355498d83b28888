"""The `rouages` command: event files, sessions, organisers, and the entry point's runtime choice."""

from __future__ import annotations

import json
import os

import yaml
from sqlalchemy import func, select

from app.extensions import db
from app.models import Event, Organiser, Session
from app.cli import cli
from app.server import _group_options
from conftest import DATA, PUBLIC_URL


def test_validate_prints_each_problem_with_its_line_and_fails(runner, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text((DATA / "small.yaml").read_text("utf-8").replace('end: "11:30"', 'end: "10:70"'), "utf-8")
    result = runner.invoke(cli, args=["event", "validate", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}: programme[0].items[1].end: 10:70 is not a time (HH:MM) (line 15)" in result.output
    assert "1 problem(s) found." in result.output


def test_validate_accepts_a_good_file(runner):
    result = runner.invoke(cli, args=["event", "validate", str(DATA / "small.yaml")])
    assert result.exit_code == 0 and "valid" in result.output


def test_import_is_idempotent_and_keeps_join_codes(app, runner, read):
    first = runner.invoke(cli, args=["event", "import", str(DATA / "small.yaml")])
    assert first.exit_code == 0, first.output
    assert "Created event 'petite-rencontre': 2 session(s) created" in first.output
    codes = read(lambda: sorted(db.session.scalars(select(Session.code))))
    again = runner.invoke(cli, args=["event", "import", str(DATA / "small.yaml")])
    assert "Updated event 'petite-rencontre': 0 session(s) created, 0 updated, 0 retired." in again.output
    assert read(lambda: sorted(db.session.scalars(select(Session.code)))) == codes
    assert read(lambda: db.session.scalar(select(func.count(Event.id)))) == 1


def test_reimport_updates_changed_sessions_and_retires_dropped_ones(runner, read, tmp_path):
    runner.invoke(cli, args=["event", "import", str(DATA / "small.yaml")])
    changed = tmp_path / "changed.yaml"
    text = (DATA / "small.yaml").read_text("utf-8").replace("title: World café", "title: Le world café")
    text = text[: text.index("      - id: arbres")]
    changed.write_text(text, "utf-8")
    result = runner.invoke(cli, args=["event", "import", str(changed)])
    assert "0 session(s) created, 1 updated, 1 retired." in result.output
    rows = read(lambda: [(s.key, s.title, s.removed) for s in db.session.scalars(select(Session).order_by(Session.key))])
    assert rows == [("arbres", "Arbres à idées", True), ("world-cafe", "Le world café", False)]


def test_import_refuses_a_bad_file_and_changes_nothing(runner, read, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text((DATA / "small.yaml").read_text("utf-8").replace("workshop: board", "workshop: nope", 1), "utf-8")
    result = runner.invoke(cli, args=["event", "import", str(bad)])
    assert result.exit_code == 1 and "'nope' is not a workshop format" in result.output
    assert read(lambda: db.session.scalar(select(func.count(Event.id)))) == 0


def test_export_reimports_to_the_same_event(runner, read, tmp_path):
    runner.invoke(cli, args=["event", "import", "--demo"])
    out = tmp_path / "demo.yaml"
    assert runner.invoke(cli, args=["event", "export", "demo", "-o", str(out)]).exit_code == 0
    before = read(lambda: (db.session.scalar(select(Event)).spec, sorted(db.session.scalars(select(Session.code)))))
    result = runner.invoke(cli, args=["event", "import", str(out)])
    assert "0 session(s) created, 0 updated, 0 retired." in result.output
    after = read(lambda: (db.session.scalar(select(Event)).spec, sorted(db.session.scalars(select(Session.code)))))
    assert after == before
    assert yaml.safe_load(out.read_text("utf-8"))["slug"] == "demo"


def test_export_of_an_unknown_event_fails(runner):
    result = runner.invoke(cli, args=["event", "export", "nope"])
    assert result.exit_code == 1 and "No event has the slug 'nope'" in result.output


def test_sessions_json_lists_codes_and_loopback_urls(runner, event):
    result = runner.invoke(cli, args=["sessions", "petite-rencontre", "--json"])
    rows = json.loads(result.output)
    assert [(r["key"], r["code"]) for r in rows] == [(s.key, s.code) for s in event.sessions]
    assert rows[0]["join_url"] == f"{PUBLIC_URL}/j/{rows[0]['code']}"
    assert rows[0]["wall_url"] == f"{PUBLIC_URL}/wall/{rows[0]['code']}"


def test_user_add_hashes_the_password_with_scrypt(runner, read):
    result = runner.invoke(cli, args=["user", "add", "Orga@Example.org", "--password", "long-enough-pass"])
    assert result.exit_code == 0, result.output
    stored = read(lambda: db.session.scalar(select(Organiser)))
    assert stored.email == "orga@example.org"
    assert stored.password_hash.startswith("scrypt:") and "long-enough-pass" not in stored.password_hash


def test_user_add_refuses_short_passwords_and_duplicates(runner, read):
    assert "au moins 10 caractères" in runner.invoke(cli, args=["user", "add", "a@example.org", "--password", "short"]).output
    runner.invoke(cli, args=["user", "add", "a@example.org", "--password", "long-enough-pass"])
    result = runner.invoke(cli, args=["user", "add", "A@example.org", "--password", "long-enough-pass"])
    assert result.exit_code == 1 and "déjà" in result.output
    assert read(lambda: db.session.scalar(select(func.count(Organiser.id)))) == 1


def test_only_serve_and_demo_patch_the_runtime():
    assert _group_options(["serve", "--port", "5000"])[0] == "serve"
    assert _group_options(["--data", "/tmp/x", "demo"])[0] == "demo"
    assert _group_options(["event", "import", "--demo"])[0] == "event"
    assert _group_options(["--help"])[0] is None


def test_user_password_changes_the_password_and_signs_out_everywhere(runner, read):
    from app.services.accounts import authenticate

    runner.invoke(cli, args=["user", "add", "a@example.org", "--password", "long-enough-pass"])
    before = read(lambda: db.session.scalar(select(Organiser)).login_token)
    result = runner.invoke(cli, args=["user", "password", "A@example.org", "--password", "another-long-pass"])
    assert result.exit_code == 0, result.output
    assert read(lambda: authenticate("a@example.org", "another-long-pass")) is not None
    assert read(lambda: authenticate("a@example.org", "long-enough-pass")) is None
    assert read(lambda: db.session.scalar(select(Organiser)).login_token) != before
    missing = runner.invoke(cli, args=["user", "password", "nobody@example.org", "--password", "another-long-pass"])
    assert missing.exit_code == 1 and "No organiser" in missing.output


def test_formats_lists_every_registered_format(runner):
    result = runner.invoke(cli, args=["formats"])
    assert result.exit_code == 0
    assert [line.split()[0] for line in result.output.splitlines()] == [
        "board", "world_cafe", "idea_tree", "keep_stop_create", "diagnostic", "duo", "round_table"]


CAFE = (DATA / "cafe.yaml").read_text("utf-8")


def _tables(read):
    from app.models import Table

    return read(lambda: [(t.key, t.name, t.removed) for t in db.session.scalars(select(Table).order_by(Table.position))])


def test_validate_and_import_agree_on_table_keys(runner, read, tmp_path):
    clash = tmp_path / "clash.yaml"
    clash.write_text(CAFE.replace("name: Tables sociales", "name: Économie"), "utf-8")
    line = CAFE.splitlines().index("              name: Tables sociales") + 1
    expected = (f"{clash}: programme[0].items[1].settings.tables[1].name: 'Économie' names another table too "
                f"('Économie'): give each table its own name (line {line})")
    result = runner.invoke(cli, args=["event", "validate", str(clash)])
    assert result.exit_code == 1 and expected in result.output.splitlines()
    result = runner.invoke(cli, args=["event", "import", str(clash)])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert result.output.splitlines() == [expected, "1 problem(s) found; nothing was imported."]
    assert read(lambda: db.session.scalar(select(func.count(Event.id)))) == 0


def test_an_import_the_database_refuses_is_rolled_back_with_a_message(runner, read, tmp_path, monkeypatch):
    from sqlalchemy.exc import IntegrityError

    from app.services import events

    cafe = tmp_path / "cafe.yaml"
    cafe.write_text(CAFE, "utf-8")
    assert runner.invoke(cli, args=["event", "import", str(cafe)]).exit_code == 0
    before = read(lambda: (db.session.scalar(select(Event)).spec, _tables(read)))
    cafe.write_text(CAFE.replace("title: Café", "title: Nouveau café").replace("Tables sociales", "Social"), "utf-8")

    def refuse(session, wanted):
        raise IntegrityError("INSERT INTO session_table", {}, Exception("UNIQUE constraint failed: session_table.key"))

    monkeypatch.setattr(events, "sync_tables", refuse)
    result = runner.invoke(cli, args=["event", "import", str(cafe)])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert result.output == (f"{cafe}: the database refused the import (IntegrityError: UNIQUE constraint failed: "
                             "session_table.key); nothing was changed\n")
    assert read(lambda: (db.session.scalar(select(Event)).spec, _tables(read))) == before
    assert read(lambda: db.session.scalar(select(Event)).title) == "Café"


def test_world_cafe_tags_are_refused_on_import(runner, read, tmp_path):
    tagged = tmp_path / "tagged.yaml"
    tagged.write_text(CAFE.replace("        workshop: world_cafe\n",
                                   "        workshop: world_cafe\n        tags:\n          - framework: pillar\n"), "utf-8")
    result = runner.invoke(cli, args=["event", "import", str(tagged)])
    assert result.exit_code == 1
    assert (f"{tagged}: programme[0].items[1].tags: a world café tags posts with its tables' themes "
            "(settings.theme_framework) and settings.category_framework: remove tags (line 26)") in result.output
    assert read(lambda: db.session.scalar(select(func.count(Event.id)))) == 0


def test_reimport_counts_changed_plain_items_and_details(runner, read, tmp_path):
    cafe = tmp_path / "cafe.yaml"
    cafe.write_text(CAFE, "utf-8")
    runner.invoke(cli, args=["event", "import", str(cafe)])
    cafe.write_text(CAFE.replace("title: Déjeuner", "title: Déjeuner partagé"), "utf-8")
    result = runner.invoke(cli, args=["event", "import", str(cafe)])
    assert result.output.splitlines() == [
        "Updated event 'cafe': 0 session(s) created, 0 updated, 0 retired.",
        "Other programme items: 0 added, 1 updated, 0 removed; event details unchanged."]
    spec = read(lambda: db.session.scalar(select(Event)).spec)
    assert spec["programme"][0]["items"][0]["title"] == "Déjeuner partagé"
    cafe.write_text(CAFE.replace("title: Café", "title: Grand café"), "utf-8")
    result = runner.invoke(cli, args=["event", "import", str(cafe)])
    assert result.output.splitlines()[1] == "Other programme items: 0 added, 1 updated, 0 removed; event details updated."


def test_sessions_lists_each_tables_code_and_host_link(runner, read, tmp_path):
    from app.models import Table

    cafe = tmp_path / "cafe.yaml"
    cafe.write_text(CAFE, "utf-8")
    runner.invoke(cli, args=["event", "import", str(cafe)])
    tables = read(lambda: [(t.key, t.code, t.host_token) for t in db.session.scalars(select(Table).order_by(Table.position))])
    rows = json.loads(runner.invoke(cli, args=["sessions", "cafe", "--json"]).output)
    assert rows[0]["tables"] == [
        {"key": "economie", "name": "Économie", "code": tables[0][1], "host": "Camille",
         "join_url": f"{PUBLIC_URL}/j/{tables[0][1]}", "host_url": f"{PUBLIC_URL}/h/{tables[0][2]}"},
        {"key": "tables-sociales", "name": "Tables sociales", "code": tables[1][1], "host": None,
         "join_url": f"{PUBLIC_URL}/j/{tables[1][1]}", "host_url": f"{PUBLIC_URL}/h/{tables[1][2]}"}]
    plain = runner.invoke(cli, args=["sessions", "cafe"]).output.splitlines()
    assert plain[0] == f"Event page: {PUBLIC_URL}/e/cafe"
    assert plain[3:] == [
        f"  {tables[0][1]}  Économie (host: Camille)", f"        join {PUBLIC_URL}/j/{tables[0][1]}",
        f"        host {PUBLIC_URL}/h/{tables[0][2]}",
        f"  {tables[1][1]}  Tables sociales", f"        join {PUBLIC_URL}/j/{tables[1][1]}",
        f"        host {PUBLIC_URL}/h/{tables[1][2]}"]


def test_data_is_accepted_before_and_after_every_command(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from app.cli import _RouagesGroup

    for name in ("ROUAGES_DATA_DIR", "ROUAGES_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ROUAGES_PUBLIC_URL", PUBLIC_URL)
    small, before, after = str(DATA / "small.yaml"), str(tmp_path / "before"), str(tmp_path / "after")
    fresh = CliRunner()
    commands = [["event", "import", small], ["event", "validate", small], ["event", "export", "petite-rencontre"],
                ["sessions", "petite-rencontre", "--json"], ["user", "add", "a@example.org", "--password", "long-enough-pass"],
                ["formats"], ["backup", "-o", "{data}/copy.db"]]
    for args in commands:
        first = fresh.invoke(cli, args=["--data", before, *[a.format(data=before) for a in args]])
        second = fresh.invoke(cli, args=[*[a.format(data=after) for a in args], "--data", after])
        assert (first.exit_code, second.exit_code) == (0, 0), (args, first.output, second.output)
        assert first.output.replace(before, after) == second.output or args[0] in ("sessions",), args
    assert (tmp_path / "after" / "copy.db").exists()
    codes = [json.loads(fresh.invoke(cli, args=["sessions", "petite-rencontre", "--json", "--data", d]).stdout)
             for d in (before, after)]
    assert len(codes[0]) == len(codes[1]) == 2 and codes[0] != codes[1]
    context = cli.make_context("rouages", ["formats"], resilient_parsing=True)
    for name in cli.list_commands(context):
        command = cli.get_command(context, name)
        nested = command.commands.values() if hasattr(command, "commands") else [command]
        assert all(any(p.name == "data" for p in sub.params) for sub in nested), name
    assert isinstance(cli, _RouagesGroup)


def test_commands_read_the_env_file_name_their_database_and_migrate_an_empty_one(tmp_path, databases):
    import subprocess
    import sys

    from app.cli import database_label

    url = databases.empty_url()
    settings = tmp_path / "rouages.env"
    # The format systemd's EnvironmentFile reads too: NAME=value, one per line, no `export`.
    settings.write_text(f"ROUAGES_DATA_DIR={tmp_path / 'data'}\nROUAGES_DATABASE_URL={url}\n"
                        f"ROUAGES_PUBLIC_URL={PUBLIC_URL}\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROUAGES_")}

    def rouages(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "app.server", "--env-file", str(settings), *args], env=env,
                              capture_output=True, text=True, timeout=120)

    named = f"Database: {database_label(url)}"
    # On an empty database, a command that reads says what is missing, not « no such table ».
    missing = rouages("sessions", "demo")
    assert missing.returncode == 1 and missing.stderr.splitlines() == [named, "Error: No event has the slug 'demo'."]
    imported = rouages("event", "import", "--demo")
    assert imported.returncode == 0 and imported.stderr.splitlines() == [named], imported.stderr
    added = rouages("user", "add", "orga@example.org", "--password", "correct-horse-battery")
    assert added.stdout == "Organiser orga@example.org created.\n" and added.stderr.splitlines() == [named]
    listed = rouages("sessions", "demo", "--json")
    assert listed.returncode == 0 and len(json.loads(listed.stdout)) == 7
    # A password is never printed.
    assert database_label("postgresql+psycopg://rouages:s3cret@127.0.0.1:5432/rouages") == (
        "postgresql+psycopg://rouages:***@127.0.0.1:5432/rouages")
    assert database_label(f"sqlite:///{tmp_path}/x.db") == f"{tmp_path}/x.db (SQLite)"
    # Without the file, the same command names another database: the mistake shows at once.
    elsewhere = subprocess.run([sys.executable, "-m", "app.server", "--data", str(tmp_path / "other"), "sessions",
                                "demo"], env=env, capture_output=True, text=True, timeout=120)
    assert elsewhere.returncode == 1
    assert elsewhere.stderr.splitlines()[0] == f"Database: {tmp_path / 'other' / 'rouages.db'} (SQLite)"
