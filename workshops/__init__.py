"""Workshop formats: the contract every format implements, and the registry that finds them.

A format is one folder (``workshops/<slug>/``) holding a ``WorkshopFormat`` subclass. Built-in formats
are listed in ``BUILTIN``; formats from other packages register through the ``rouages.workshops``
entry-point group and are found the same way. See docs/formats.md.
"""

from __future__ import annotations

import copy
import importlib
import inspect
import sys
from abc import ABC, abstractmethod
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, ClassVar

import jsonschema

from app.services import eventfile

# Module paths of the built-in formats; a new built-in format adds one line here.
BUILTIN = (
    "workshops.board",
    "workshops.world_cafe",
    "workshops.idea_tree",
    "workshops.keep_stop_create",
    "workshops.diagnostic",
    "workshops.duo",
    "workshops.round_table",
)

#: The screens a format may shape: the participant's phone, the projector wall, the organiser's console, a host's page.
VIEWS = ("phone", "wall", "console", "host")


@dataclass(frozen=True)
class Screen:
    """What a format brings to one view: a Jinja partial for the page's format slot, an ES module, stylesheets."""

    template: str | None
    script: str | None
    styles: tuple[str, ...] = ()



def N_(message: str) -> str:
    """Mark a string for extraction without translating it yet (a format's browser strings, say)."""
    return message


def NP_(singular: str, plural: str) -> tuple[str, str]:
    """Mark a string with a plural form for extraction without translating it yet."""
    return singular, plural


@dataclass(frozen=True)
class Phase:
    """One step of a workshop, advanced from the console."""

    key: str
    label: Any
    posting: bool = True
    minutes: int | None = None

    def as_dict(self) -> dict:
        """Return the phase as it is stored: its label as a message id and parameters, translated when shown."""
        msgid, params = label_source(self.label)
        return {"key": self.key, "label": msgid % params if params else msgid, "label_msgid": msgid,
                "label_params": params, "posting": self.posting, "minutes": self.minutes}


def label_source(label) -> tuple[str, dict]:
    """Return the message id and parameters of a label marked with lazy_gettext, or a plain label as its own id."""
    # Stored in one language, a label would stay in it for everyone: keep what lets each request translate it.
    args, params = getattr(label, "_args", None), getattr(label, "_kwargs", None)
    if args and isinstance(args[0], str) and isinstance(params, dict):
        return args[0], {name: value for name, value in params.items() if isinstance(value, (str, int, float))}
    return str(label), {}


class WorkshopFormat(ABC):
    """What a workshop format provides. Subclasses set the class attributes and override the hooks."""

    slug: ClassVar[str]
    title: ClassVar[Any]
    description: ClassVar[Any] = ""
    #: JSON Schema of the programme item's ``settings`` mapping in the event file.
    settings_schema: ClassVar[dict] = {"type": "object", "additionalProperties": False, "properties": {}}
    #: A complete programme item using this format with the default frameworks (docs and contract test).
    example: ClassVar[dict]
    #: Message ids the format's browser modules pass to ``t()``, marked with ``N_``/``NP_`` of this module.
    strings: ClassVar[tuple] = ()
    #: False for a format whose phones answer through its own actions and never post ideas: the core pages then
    #: leave out the idea count, the posting switch, the dot vote and the list of posts.
    takes_posts: ClassVar[bool] = True
    #: True for a question-and-answer format: its posts can be upvoted once per person, marked answered and put in
    #: the spotlight; its phones are sent every new post (to upvote others'), and posts are anonymous unless signed.
    questions: ClassVar[bool] = False
    #: Fields of a programme item that only this format reads (the duo's ``duos``): the event file refuses them on
    #: an item that does not run the format.
    item_fields: ClassVar[tuple[str, ...]] = ()

    def folder(self) -> Path:
        """Return the format's folder: its package's folder, or the folder of the module defining the class."""
        package = sys.modules.get(sys.modules[type(self).__module__].__package__ or "")
        origin = getattr(package, "__file__", None) or inspect.getfile(type(self))
        return Path(origin).resolve().parent

    def screen(self, view: str) -> Screen | None:
        """Return what the format shows on `view` (one of VIEWS), found from its files; None when it adds nothing."""
        if view not in VIEWS:
            return None
        folder = self.folder()
        template = f"formats/{self.slug}/{view}.html" if (folder / "templates" / f"{view}.html").is_file() else None
        script = f"/formats/{self.slug}/{view}.js" if (folder / "static" / f"{view}.js").is_file() else None
        if template is None and script is None:
            return None
        styles = tuple(f"/formats/{self.slug}/{name}" for name in (f"{view}.css", "format.css")
                       if (folder / "static" / name).is_file())
        return Screen(template, script, styles)

    def screens(self) -> dict:
        """Return the views the format shapes, as pages load them: {view: {"script": url or None, "styles": [url]}}."""
        # Every join's answer carries them: look at the folder once, not at each of a full room's joins.
        if "_screens" not in self.__dict__:
            self.__dict__["_screens"] = {view: {"script": screen.script, "styles": list(screen.styles)}
                                         for view in VIEWS if (screen := self.screen(view)) is not None}
        return copy.deepcopy(self.__dict__["_screens"])

    def review(self, settings: dict) -> bool:
        """Return whether new posts of a session with these settings wait for a moderator before they show."""
        return False

    def spotlight_scope(self, tags: dict) -> str:
        """Return the part of the session a post's spotlight belongs to ("" for the whole session)."""
        return ""

    def check_settings(self, item: dict, event: dict) -> list[tuple[tuple, str]]:
        """Return (path inside the item, message) for rules the settings schema cannot express."""
        return []

    def tables(self, item: dict, event: dict) -> list[dict]:
        """Return the session's physical tables, each with its own QR code: [{key, name, tags, host}]."""
        return []

    def harvest(self, item: dict, event: dict) -> list[dict]:
        """Return the categories a table's host writes up ([{key, label}]); none by default."""
        return []

    def phases(self, settings: dict) -> list[Phase]:
        """Return the ordered phases of a session with these settings."""
        return [Phase("collect", "Collect")]

    def item_phases(self, item: dict, event: dict) -> list[Phase]:
        """Return the phases of the session this programme item runs; by default ``phases`` of its settings.

        A format whose steps follow what the item lists (one phase per duo, say) overrides this one.
        """
        return self.phases(item.get("settings", {}))

    def tags(self, item: dict, event: dict) -> list[dict]:
        """Return the frameworks a post is tagged with: [{"framework": key, "required": bool}]."""
        return item.get("tags", [])

    def frameworks(self, item: dict, event: dict, derived: list[dict]) -> list[dict]:
        """Return the session's frameworks with their items; by default `derived`, those the item's `tags` name.

        A format may add its own (``{key, label, required, items: [{key, label}]}``); an item carrying
        ``opens_with: <flag>`` takes posts only while the session's format state has that flag set.
        """
        return derived

    def actions(self) -> dict:
        """Return the format's own console actions: {name: fn(session, payload) -> ack fields}.

        Each becomes the organiser-only Socket.IO event ``<slug>.<name>``.
        """
        return {}

    def participant_actions(self) -> dict:
        """Return the actions a participant's phone may take: {name: fn(session, participant, payload) -> ack fields}.

        Each becomes the Socket.IO event ``<slug>.<name>``, taken only by a phone that joined the session, counted
        against the same rate as posting. ``payload`` is the event's object as sent: the function validates it and
        raises ``ServiceError`` for anything it refuses, changing nothing.
        """
        return {}

    def screen_actions(self) -> dict:
        """Return what any screen may read of the session: {name: fn(session, payload) -> ack fields}.

        Each becomes the Socket.IO event ``<slug>.<name>`` for anyone who knows the session's code (a wall is
        neither signed in nor joined), rate-limited like ``watch``. It must change nothing and return only what a
        public wall may show.
        """
        return {}

    def documents(self) -> dict:
        """Return the files a participant's phone may download: {name: fn(session, participant) -> data}.

        Each is served as ``/j/<code>/documents/<name>.pdf`` to the phone whose cookie joined the session: the core
        lays out the format's template ``templates/<name>.html`` (loaded as ``<slug>/<name>.html``) with ``data``.
        The function raises ``ServiceError`` when this participant has nothing to download.
        """
        return {}

    def rehearsal(self, payload: dict, phase: str, rng) -> list[tuple[str, dict]]:
        """Return the participant actions one rehearsal phone sends in `phase`: [(name, data without code)].

        ``payload`` is the session as the phone's join received it; ``rng`` a ``random.Random``. None by default.
        """
        return []

    def rehearsal_console(self, payload: dict, phase: str, lines, rng) -> list[tuple[str, dict]]:
        """Return the console actions the facilitator takes at the end of `phase` in a rehearsal: [(name, data)].

        ``lines(tags)`` gives the corpus's facilitator texts whose tags include ``tags`` (each with ``text`` and
        ``tags``). None by default.
        """
        return []

    def joined(self, session, participant) -> None:
        """React to a participant joining the session (after the join is stored); nothing by default."""
        return None

    @abstractmethod
    def synthesise(self, session) -> dict:
        """Return the session's results as plain data for the booklets."""

    def booklet_template(self) -> Path:
        """Return the Jinja template printing the session's section of the booklets: ``templates/booklet.html``.

        It receives ``data`` (what ``synthesise`` returned), ``session``, ``show_names`` and the booklet's helpers.
        """
        return self.folder() / "templates" / "booklet.html"

    def carnet_template(self) -> Path | None:
        """Return the Jinja template of the session's note-taking page in the participants' carnet, or None.

        It receives ``session``, ``notes`` (the session's ``frameworks`` with their items, its ``tables`` as
        {name, tags}, its ``harvest`` categories and its format ``settings``) and the booklet's helpers. A format
        ships its own as ``templates/carnet.html``; None (no such file) prints the core's plain lined page.
        """
        own = self.folder() / "templates" / "carnet.html"
        return own if own.is_file() else None

    def programme_template(self) -> str | None:
        """Return the name of the format's ``templates/programme.html``, or None when it has none.

        What the format adds to its item in the event's programme, on the public page and in the carnet. It
        receives ``item`` (the programme item as the event file has it), ``print`` (True in the carnet) and
        ``paragraphs(text)``; on the page it may import ``person(contact, tag)`` from ``_people.html``.
        """
        return "programme.html" if (self.folder() / "templates" / "programme.html").is_file() else None

    def carnet_notes(self, session) -> dict:
        """Return what the format's carnet page needs beyond the core's notes; it receives it as ``notes.format``."""
        return {}

    def settings_problems(self, item: dict, event: dict) -> list[tuple[tuple, str]]:
        """Check an item's settings against the schema, then the format's own rules."""
        settings = item.get("settings", {})
        validator = jsonschema.Draft202012Validator(self.settings_schema, format_checker=eventfile.format_checker)
        found = [eventfile.schema_message(error) for error in validator.iter_errors(settings)]
        found = [(("settings",) + path, message) for path, message in found]
        return found or self.check_settings(item, event)


#: The settings entry of a format whose posts may wait for review (`review(settings)` reads it).
MODERATION_SETTING = {"enum": ["immediate", "review"],
                      "description": "immediate: questions appear at once; review: they wait for a moderator."}


def item_of(session) -> dict:
    """Return the programme item a session runs, as its event file gives it ({} once it left the file)."""
    from app.services.events import workshop_items

    return next((item for _position, _day, item in workshop_items(session.event.spec)
                 if item.get("id") == session.key), {})


def ideas(session, grouped: bool = True) -> list[dict]:
    """Return a session's visible ideas for a booklet, most dots first, then the largest groups.

    Each carries the texts merged into it and its dots. `grouped`, ideas that say the same thing are one entry
    (app/services/groups.py): its text is the organiser's title or the idea closest to the others, `merged` the
    other members' texts and theirs, `dots` and `upvotes` the group's, and `members` each idea of the group.
    """
    from app.services.groups import compute, title_of
    from app.services.moderation import merged_posts
    from app.services.posting import posts_since
    from app.services.votes import dots_per_post

    merged, dots = merged_posts(session), dots_per_post(session)
    posts = posts_since(session, 0)
    found = [{"id": p.id, "seq": p.seq, "text": p.text, "tags": p.tags, "dots": dots.get(p.id, 0),
              "merged": [m.text for m in merged.get(p.id, [])],
              "author": None if p.anonymous else p.participant.name,
              "organisation": None if p.anonymous else p.participant.organisation,
              "upvotes": p.upvotes, "answered": p.answered, "title": None, "members": []}
             for p in posts]
    if grouped and posts:
        grouping, entries = compute(session, posts), []
        for group in grouping.groups:
            members = [found[i] for i in group.members]
            first, title = members[0], title_of([posts[i] for i in group.members])
            others = [text for m in members[1:] for text in [m["text"], *m["merged"]]]
            entries.append({**first, "text": title or first["text"], "title": title,
                            "merged": first["merged"] + others, "dots": sum(m["dots"] for m in members),
                            "upvotes": sum(m["upvotes"] for m in members),
                            "members": [{"id": m["id"], "text": m["text"], "merged": m["merged"], "dots": m["dots"]}
                                        for m in members] if len(members) > 1 or title else []})
        found = entries
    return sorted(found, key=lambda idea: (-idea["dots"], -len(idea["merged"]), idea["seq"]))


def questions(session) -> list[dict]:
    """Return a question-and-answer session's visible posts for a booklet, most upvoted first, then oldest first.

    Questions are not grouped: each keeps its own upvotes, and the room merges duplicates itself.
    """
    return sorted(ideas(session, grouped=False), key=lambda post: (-post["upvotes"], post["seq"]))


_registry: dict[str, WorkshopFormat] | None = None


def _load() -> dict[str, WorkshopFormat]:
    found: dict[str, WorkshopFormat] = {}
    modules = [importlib.import_module(name) for name in BUILTIN]
    modules += [entry.load() for entry in entry_points(group="rouages.workshops")]
    for module in modules:
        fmt: WorkshopFormat = module.FORMAT
        if fmt.slug in found:
            raise RuntimeError(f"two workshop formats use the slug {fmt.slug!r}")
        found[fmt.slug] = fmt
    return found


def registry() -> dict[str, WorkshopFormat]:
    """Return every registered format by slug, built-in ones first."""
    global _registry
    if _registry is None:
        _registry = _load()
    return _registry


def get(slug: str) -> WorkshopFormat:
    """Return the format with this slug."""
    return registry()[slug]
