"""Round table: speakers debate, the room asks questions it upvotes, the speakers' closing words are quoted."""

from __future__ import annotations

from flask_babel import force_locale, ngettext
from flask_babel import lazy_gettext as _l

from app.services import records
from app.services.errors import ServiceError, whole_number
from app.services.text import clean_post_text, slugify
from workshops import MODERATION_SETTING, N_, Phase, WorkshopFormat, item_of, questions

SPEAKER_FRAMEWORK = "speaker"
QUOTE_PREFIX = "quote:"
QUOTE_MAX = 600
QUOTES_MAX = 1000
# How many of the room's questions the booklet prints.
BOOKLET_QUESTIONS = 10

SETTINGS_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "moderation": MODERATION_SETTING,
        "minutes": {"type": "integer", "minimum": 1, "maximum": 180,
                    "description": "Length of the audience's questions; the countdown starts with them."},
    },
}


def speakers_of(item: dict) -> list[dict]:
    """Return the item's speakers, each with its key (a slug of its name)."""
    return [{**speaker, "key": slugify(speaker["name"])} for speaker in item.get("speakers", [])]



def quote_number(key: str) -> int:
    """Return the number of a quote's record key (quote:<n>)."""
    return int(key[len(QUOTE_PREFIX):])


def quotes_of(session) -> list[dict]:
    """Return every quote recorded on the console, in the order written, as records: {key, data, rev}."""
    found = [records.record_payload(r) for r in records.find(session, QUOTE_PREFIX)]
    return sorted(found, key=lambda r: quote_number(r["key"]))


def checked_quote_key(session, payload: dict) -> str:
    """Return the key of an existing quote the payload names, or refuse it."""
    key = payload.get("key")
    if not isinstance(key, str) or not key.startswith(QUOTE_PREFIX) or not key[len(QUOTE_PREFIX):].isdigit() \
            or records.get(session, key) is None:
        raise ServiceError("unknown_quote", _l("This quote is not in the session."), 404)
    return key


def new_quote_key(payload: dict) -> str:
    """Return the key a new quote asks for (quote:<n>, n from 1 to QUOTES_MAX), or refuse it."""
    key = payload.get("key")
    number = key[len(QUOTE_PREFIX):] if isinstance(key, str) and key.startswith(QUOTE_PREFIX) else ""
    if not (number.isascii() and number.isdigit() and len(number) <= 6 and 1 <= int(number) <= QUOTES_MAX):
        raise ServiceError("unknown_quote", _l("This quote is not in the session."), 404)
    return f"{QUOTE_PREFIX}{int(number)}"


class RoundTable(WorkshopFormat):
    """Speakers debate; the room's questions rise by upvotes; the facilitator quotes each speaker's closing words."""

    slug = "round_table"
    title = _l("Round table")
    description = _l("Speakers debate while the room asks questions and upvotes them, shown at once or after "
                     "moderation; the facilitator records each speaker's closing words, published only with their "
                     "consent.")
    settings_schema = SETTINGS_SCHEMA
    questions = True
    strings = (
        N_("For %(name)s"),
        N_("Questions from the room"),
        N_("Who said it"),
        N_("Choose the speaker"),
        N_("Their words"),
        N_("Agreed to publication"),
        N_("Only quotes the speaker agreed to publish reach the booklet and the web page."),
        N_("Save the quote"),
        N_("Save the changes"),
        N_("Cancel"),
        N_("Edit"),
        N_("Delete"),
        N_("No quote yet."),
        N_("Published"),
        N_("Not published"),
        N_("The last word: quotes"),
    )
    example = {"id": "table-ronde", "start": "14:00", "end": "15:45", "kind": "round_table", "workshop": "round_table",
               "title": "Politiques publiques et coopérations territoriales, quels enjeux ?",
               "question": "Quelle question poseriez-vous aux intervenants ?",
               "speakers": [{"name": "Anne-Laure Federici", "role": "Animation, déléguée générale",
                             "organisation": "RTES"},
                            {"name": "Patricia Andriot", "role": "Vice-présidente", "organisation": "RTES"}],
               "settings": {"minutes": 30}}

    def review(self, settings: dict) -> bool:
        """Questions wait for a moderator when the settings ask for it."""
        return settings.get("moderation") == "review"

    def spotlight_scope(self, tags: dict) -> str:
        """One spotlighted question for the whole table."""
        return ""

    def tags(self, item: dict, event: dict) -> list[dict]:
        """A question may name the speaker it is for."""
        return [{"framework": SPEAKER_FRAMEWORK, "required": False}]

    def frameworks(self, item: dict, event: dict, derived: list[dict]) -> list[dict]:
        """The speakers a question may be addressed to."""
        with force_locale(event.get("language", "fr")):
            return [{"key": SPEAKER_FRAMEWORK, "label": str(_l("My question is for")), "required": False,
                     "items": [{"key": s["key"], "label": s["name"]} for s in speakers_of(item)]}]

    def phases(self, settings: dict) -> list[Phase]:
        """Welcome, the exchanges, the room's questions (timed when the settings say so), the closing words, the end."""
        return [Phase("welcome", _l("Welcome"), posting=False), Phase("talk", _l("Exchanges")),
                Phase("questions", _l("Questions from the room"), minutes=settings.get("minutes")),
                Phase("closing", _l("Closing words"), posting=False), Phase("done", _l("Done"), posting=False)]

    def check_settings(self, item: dict, event: dict) -> list[tuple[tuple, str]]:
        """The item lists its speakers, each with a name of their own; posts are tagged by the format."""
        problems = []
        if "tags" in item:
            problems.append((("tags",), "a round table tags questions with the speaker they are for: remove tags"))
        speakers = item.get("speakers") or []
        if not speakers:
            problems.append((("speakers",), "a round table needs its speakers: list them under speakers (name, role, "
                             "organisation)"))
        keys = [slugify(speaker.get("name", "")) for speaker in speakers]
        for n, key in enumerate(keys):
            if not key:
                problems.append((("speakers", n, "name"), "give this speaker a name with letters or digits"))
            elif key in keys[:n]:
                problems.append((("speakers", n, "name"), f"{speakers[n]['name']!r} is listed twice"))
        return problems

    def actions(self) -> dict:
        """The console records, changes, deletes and lists the speakers' quotes."""
        return {"quote": self.quote, "quote_delete": self.quote_delete, "quotes": self.quotes}

    def speaker_keys(self, session) -> set[str]:
        """Return the keys of the session's speakers."""
        framework = next((fw for fw in session.settings.get("frameworks", []) if fw["key"] == SPEAKER_FRAMEWORK),
                         {"items": []})
        return {speaker["key"] for speaker in framework["items"]}

    def quote(self, session, payload: dict) -> dict:
        """Record a speaker's words (a new quote without `key`), or change one if nobody did since revision `rev`."""
        speaker = payload.get("speaker")
        if not isinstance(speaker, str) or speaker not in self.speaker_keys(session):
            raise ServiceError("unknown_speaker", _l("This speaker is not at the round table."))
        text = payload.get("text")
        if not isinstance(text, str):
            raise ServiceError("invalid_field", _l("The field %(field)s must be text.", field="text"))
        text = clean_post_text(text)
        if not text:
            raise ServiceError("quote_empty", _l("Write the speaker's words."))
        if len(text) > QUOTE_MAX:
            raise ServiceError("field_too_long", _l("The field %(field)s is too long (at most %(max)s characters).",
                                                     field="text", max=QUOTE_MAX))
        consent = payload.get("consent")
        if not isinstance(consent, bool):
            raise ServiceError("invalid_field", _l("The field %(field)s must be true or false.", field="consent"))
        data = {"speaker": speaker, "text": text, "consent": consent}
        if payload.get("key") is None:
            if payload.get("rev", 0) != 0 or isinstance(payload.get("rev"), bool):
                raise ServiceError("invalid_field", _l("The field %(field)s must be a whole number.", field="rev"))
            last = max((quote_number(r.key) for r in records.find(session, QUOTE_PREFIX)), default=0)
            return {"record": records.record_payload(self._create(session, last + 1, data))}
        if payload.get("rev") == 0 and not isinstance(payload.get("rev"), bool):
            # A quote written under a key of its own choosing, once: sent again, it is `stale_record`.
            return {"record": records.record_payload(records.put(session, new_quote_key(payload), data, 0))}
        key = checked_quote_key(session, payload)
        rev = whole_number(payload.get("rev"), "rev", low=1)
        return {"record": records.record_payload(records.put(session, key, data, rev))}

    def _create(self, session, number: int, data: dict):
        """Store a new quote under the first free number from `number` (two consoles may add one at once)."""
        for attempt in range(number, number + 20):
            try:
                return records.put(session, f"{QUOTE_PREFIX}{attempt}", data, 0)
            except ServiceError as error:
                if error.code != "stale_record":
                    raise
        raise records.stale(session, f"{QUOTE_PREFIX}{number}")

    def quote_delete(self, session, payload: dict) -> dict:
        """Delete a quote if nobody changed it since revision `rev`."""
        key = checked_quote_key(session, payload)
        rev = whole_number(payload.get("rev"), "rev", low=1)
        if records.get(session, key).rev != rev:
            raise records.stale(session, key)
        records.delete(session, key)
        return {"key": key}

    def quotes(self, session, payload: dict) -> dict:
        """Return every quote, published or not: the console's list, never a public screen's."""
        return {"quotes": quotes_of(session)}

    def rehearsal_console(self, payload: dict, phase: str, lines, rng) -> list[tuple[str, dict]]:
        """At the close, the facilitator records the speakers' words the corpus has, with or without consent."""
        if phase != "closing":
            return []
        speakers = next((fw["items"] for fw in payload.get("frameworks", []) if fw["key"] == SPEAKER_FRAMEWORK), [])
        said = [(speaker["key"], text) for speaker in speakers for text in lines({SPEAKER_FRAMEWORK: speaker["key"]})
                if text.tags.get("consent") in ("yes", "no")]
        return [("quote", {"key": f"{QUOTE_PREFIX}{n}", "rev": 0, "speaker": key, "text": text.text,
                           "consent": text.tags["consent"] == "yes"}) for n, (key, text) in enumerate(said, 1)]

    def synthesise(self, session) -> dict:
        """Return the speakers, the room's questions most upvoted first and the quotes their speakers agreed to publish."""
        found = questions(session)
        speakers = [{"key": s["key"], "name": s["name"], "role": s.get("role"), "organisation": s.get("organisation")}
                    for s in speakers_of(item_of(session))]
        names = {s["key"]: s for s in speakers}
        asked = [{**post, "speaker": names.get(post["tags"].get(SPEAKER_FRAMEWORK), {}).get("name")} for post in found]
        # Only what a speaker agreed to publish leaves the console: the booklets, the web page and the export
        # are all built from this synthesis.
        quotes = []
        for record in quotes_of(session):
            data = record["data"]
            speaker = names.get(data.get("speaker"))
            if data.get("consent") is True and speaker is not None:
                quotes.append({"text": data["text"], "speaker": speaker["name"], "role": speaker["role"],
                               "organisation": speaker["organisation"]})
        figures = " · ".join((ngettext("%(num)s speaker", "%(num)s speakers", len(speakers)),
                              ngettext("%(num)s question", "%(num)s questions", len(asked)),
                              ngettext("%(num)s answered", "%(num)s answered", sum(p["answered"] for p in asked))))
        return {"format": self.slug, "title": session.title, "question": session.question, "total": len(found),
                "figures": figures, "speakers": speakers, "questions": asked, "top_questions": asked[:BOOKLET_QUESTIONS],
                "answered": sum(post["answered"] for post in asked), "quotes": quotes}


FORMAT = RoundTable()
