"""The Rouages diagnostic: teams of one cooperation say how far each of its functions has come, and get their wheel."""

from __future__ import annotations

from collections import Counter

from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l

from app.services import records
from app.services.errors import ServiceError, whole_number
from app.services.text import clean_line, person_key
from workshops import N_, NP_, Phase, WorkshopFormat, ideas

from . import grid as defaults
from .wheel import wheel_svg

TEAM_MAX = 80
# How many of a team's lowest functions get a suggested next step.
WEAKEST = 2

SETTINGS_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "function_framework": {"type": "string", "description": "Framework whose items are the functions diagnosed."},
        "stages": {
            "type": "array", "minItems": 2, "maxItems": 8,
            "description": "The stages a function goes through, from the first to the last.",
            "items": {"type": "object", "additionalProperties": False, "required": ["key", "label"],
                      "properties": {"key": {"type": "string", "pattern": "^[a-z0-9_-]{1,40}$"},
                                     "label": {"type": "string", "minLength": 1, "maxLength": 60},
                                     "description": {"type": "string", "maxLength": 300}}},
        },
        "functions": {
            "type": "object",
            "description": "Per function (an item of function_framework): its indicators and next step per stage.",
            "additionalProperties": {
                "type": "object", "additionalProperties": False,
                "properties": {
                    "indicators": {"type": "array", "maxItems": 12,
                                   "items": {"type": "object", "additionalProperties": False,
                                             "required": ["key", "label"],
                                             "properties": {"key": {"type": "string",
                                                                    "pattern": "^[a-z0-9_-]{1,40}$"},
                                                            "label": {"type": "string", "minLength": 1,
                                                                      "maxLength": 160}}}},
                    "next_steps": {"type": "object",
                                   "additionalProperties": {"type": "string", "minLength": 1, "maxLength": 300}},
                },
            },
        },
    },
}


def settings_of(settings: dict) -> dict:
    """Return the settings with the defaults filled in."""
    return {"function_framework": "function", "stages": defaults.STAGES, **settings}


def build_grid(settings: dict, frameworks: list[dict]) -> dict:
    """Return the reference grid: {stages, functions: [{key, label, description, indicators, next_steps}]}."""
    settings = settings_of(settings)
    framework = next((fw for fw in frameworks if fw["key"] == settings["function_framework"]), {"items": []})
    own = settings.get("functions", {})
    functions = []
    for item in framework["items"]:
        given = own.get(item["key"]) or defaults.FUNCTIONS.get(item["key"], {})
        functions.append({"key": item["key"], "label": item["label"], "description": item.get("description", ""),
                          "indicators": given.get("indicators", []), "next_steps": given.get("next_steps", {})})
    return {"stages": settings["stages"], "functions": functions}


def grid_of(session) -> dict:
    """Return the reference grid of a session."""
    return build_grid(session.settings.get("format", {}), session.event.spec.get("frameworks", []))


def _team_key(name: str) -> str:
    return "team:" + person_key(name)


def _member_key(participant_id: int) -> str:
    return f"member:{participant_id}"


def _answer_prefix(team: str) -> str:
    return f"answer:{team}:"


def team_of(session, participant) -> tuple[str, dict] | None:
    """Return (team key, team data) of the team this participant is in, or None."""
    member = records.get(session, _member_key(participant.id))
    if member is None:
        return None
    team = records.get(session, member.data["team"])
    return (team.key, team.data) if team is not None else None


def answers_of(session, team: str) -> dict[str, dict]:
    """Return a team's answers by function: {function: {stage, indicators, rev}}."""
    prefix = _answer_prefix(team)
    return {r.key[len(prefix):]: {**r.data, "rev": r.rev} for r in records.find(session, prefix)}


def members_of(session, team: str) -> list[int]:
    """Return the ids of the participants in a team."""
    return [int(r.key.split(":", 1)[1]) for r in records.find(session, "member:") if r.data.get("team") == team]


def scores(grid: dict, answers: dict[str, dict]) -> list[dict]:
    """Return each function of the grid with a team's stage (None when unanswered) and score from 0 to 1."""
    stages = [s["key"] for s in grid["stages"]]
    labels = {s["key"]: s["label"] for s in grid["stages"]}
    out = []
    for function in grid["functions"]:
        answer = answers.get(function["key"])
        stage = answer["stage"] if answer and answer.get("stage") in stages else None
        done = set(answer.get("indicators", [])) if answer else set()
        out.append({"key": function["key"], "label": function["label"], "stage": stage,
                    "stage_label": labels.get(stage), "score": stages.index(stage) / (len(stages) - 1)
                    if stage is not None else None,
                    "indicators": [{**i, "done": i["key"] in done} for i in function["indicators"]],
                    "rev": answer["rev"] if answer else 0})
    return out


def weakest(functions: list[dict]) -> list[dict]:
    """Return a team's lowest answered functions (at most WEAKEST, in grid order among ties)."""
    order = {f["key"]: n for n, f in enumerate(functions)}
    lowest = sorted((f for f in functions if f["score"] is not None), key=lambda f: (f["score"], order[f["key"]]))
    return sorted(lowest[:WEAKEST], key=lambda f: order[f["key"]])


def next_steps(grid: dict, functions: list[dict]) -> list[dict]:
    """Return the suggested next steps of a team's weakest gears: the grid's step for its stage, and what is missing."""
    by_key = {f["key"]: f for f in grid["functions"]}
    return [{"function": f["key"], "label": f["label"], "stage_label": f["stage_label"],
             "text": by_key[f["key"]]["next_steps"].get(f["stage"], ""),
             "missing": [i["label"] for i in f["indicators"] if not i["done"]]} for f in weakest(functions)]


def levels(grid: dict) -> list[str]:
    """Return the stage labels, the wheel's rings from the centre out."""
    return [s["label"] for s in grid["stages"]]


def describe(functions: list[dict]) -> str:
    """Return what a wheel shows, in words, for a screen reader and the PDF's text."""
    return "; ".join(f"{f['label']} : {f['stage_label'] or gettext('not answered')}" for f in functions)


def team_result(session, team: str, name: str, grid: dict | None = None) -> dict:
    """Return a team's diagnostic as its phones and its PDF show it: answers, wheel, next steps."""
    grid = grid or grid_of(session)
    functions = scores(grid, answers_of(session, team))
    return {"code": session.code, "team": {"name": name, "members": len(members_of(session, team))},
            "functions": functions, "answered": sum(f["stage"] is not None for f in functions),
            "wheel": str(wheel_svg(functions, levels(grid), gettext("Wheel of %(team)s", team=name),
                                   describe(functions), ident="team-wheel")),
            "next_steps": next_steps(grid, functions)}


def team_keys(session) -> dict[str, str]:
    """Return every team of the session by key: its name."""
    return {r.key: r.data["name"] for r in records.find(session, "team:")}


def aggregate(session, grid: dict | None = None) -> dict:
    """Return the teams' diagnostics put together, with no team's name: per function its stages and mean."""
    grid = grid or grid_of(session)
    stages = [s["key"] for s in grid["stages"]]
    # One read of every answer, grouped by team: this runs after each answer of the room.
    by_team: dict[str, dict[str, dict]] = {}
    for record in records.find(session, "answer:"):
        team, _, function = record.key[len("answer:"):].rpartition(":")
        by_team.setdefault(team, {})[function] = {**record.data, "rev": record.rev}
    results = []
    for answers in by_team.values():
        functions = scores(grid, answers)
        if any(f["stage"] is not None for f in functions):
            results.append(functions)
    weak = Counter(f["key"] for functions in results for f in weakest(functions))
    out = []
    for n, function in enumerate(grid["functions"]):
        answered = [functions[n] for functions in results if functions[n]["stage"] is not None]
        counts = Counter(f["stage"] for f in answered)
        mean = sum(f["score"] for f in answered) / len(answered) if answered else None
        common = counts.most_common(1)[0][0] if counts else None
        stuck = Counter(functions[n]["stage"] for functions in results if functions[n]["key"] in
                        {f["key"] for f in weakest(functions)})
        step_stage = stuck.most_common(1)[0][0] if stuck else common
        out.append({"key": function["key"], "label": function["label"], "answered": len(answered),
                    "stages": [{"key": s["key"], "label": s["label"], "count": counts.get(s["key"], 0)}
                               for s in grid["stages"]],
                    "score": round(mean, 3) if mean is not None else None,
                    "mean_stage": round(mean * (len(stages) - 1), 2) if mean is not None else None,
                    "weakest": weak.get(function["key"], 0),
                    "next_step": function["next_steps"].get(step_stage, "") if step_stage else ""})
    described = "; ".join(f"{f['label']} : {f['mean_stage'] + 1 if f['mean_stage'] is not None else '–'}/{len(stages)}"
                          for f in out)
    return {"code": session.code, "teams": len(results), "stage_count": len(stages), "functions": out,
            "common_weakest": [f["key"] for f in sorted((f for f in out if f["weakest"]), key=lambda f: -f["weakest"])],
            "wheel": str(wheel_svg(out, levels(grid), gettext("Wheel of every team"), described,
                                   ident="all-wheel"))}


class Diagnostic(WorkshopFormat):
    """Each cooperation places its functions on the grid's stages; its wheel and the room's come out."""

    slug = "diagnostic"
    title = _l("Rouages diagnostic")
    description = _l("Teams of one cooperation place each function on the reference grid's stages and tick the "
                     "indicators they have; each team gets its wheel and next steps, the room an anonymous wheel.")
    settings_schema = SETTINGS_SCHEMA
    takes_posts = False
    strings = (
        NP_("%(count)s team answered", "%(count)s teams answered"),
        NP_("%(count)s team", "%(count)s teams"),
        NP_("Team %(team)s · %(count)s person · %(answered)s of %(total)s functions answered",
            "Team %(team)s · %(count)s people · %(answered)s of %(total)s functions answered"),
        N_("A teammate changed this at the same time: here is their answer. Change it again if you disagree."),
        N_("Already in place:"),
        N_("Answered"),
        N_("Choose a stage first."),
        N_("Function"),
        N_("No team has answered yet."),
        N_("Not connected: try again in a moment."),
        N_("People"),
        N_("Saved."),
        N_("Saving…"),
        N_("Stage reached"),
        N_("Still to put in place:"),
        N_("Team"),
        N_("The diagnostic is closed: your answers are kept as they are."),
    )
    example = {"id": "diagnostic", "start": "17:00", "end": "18:00",
               "title": "Le diagnostic des Rouages de la Coopération", "workshop": "diagnostic",
               "question": "Où en sont les rouages de votre coopération ?"}

    def carnet_notes(self, session) -> dict:
        """The worksheet prints the session's grid."""
        return grid_of(session)

    def check_settings(self, item: dict, event: dict) -> list[tuple[tuple, str]]:
        """The functions must be items of the function framework; next steps must name stages of the grid."""
        settings = settings_of(item.get("settings", {}))
        frameworks = {fw["key"]: fw for fw in event.get("frameworks", [])}
        if settings["function_framework"] not in frameworks:
            return [(("settings", "function_framework"), f"{settings['function_framework']!r} is not a framework of "
                     f"this event (known: {', '.join(frameworks)})")]
        items = {i["key"] for i in frameworks[settings["function_framework"]]["items"]}
        problems = []
        if len(items) < 3:
            problems.append((("settings", "function_framework"), "a diagnostic wheel needs at least three functions "
                             f"({settings['function_framework']!r} has {len(items)})"))
        stage_keys = [s["key"] for s in settings["stages"]]
        for n, key in enumerate(stage_keys):
            if key in stage_keys[:n]:
                problems.append((("settings", "stages", n, "key"), f"{key!r} names another stage too"))
        for function, given in settings.get("functions", {}).items():
            if function not in items:
                problems.append((("settings", "functions", function), f"{function!r} is not an item of "
                                 f"{settings['function_framework']!r} (known: {', '.join(sorted(items))})"))
            keys = [i["key"] for i in given.get("indicators", [])]
            for n, key in enumerate(keys):
                if key in keys[:n]:
                    problems.append((("settings", "functions", function, "indicators", n, "key"),
                                     f"{key!r} names another indicator of {function!r} too"))
            for stage in given.get("next_steps", {}):
                if stage not in stage_keys:
                    problems.append((("settings", "functions", function, "next_steps", stage),
                                     f"{stage!r} is not a stage of the grid (stages: {', '.join(stage_keys)})"))
        return problems

    def tags(self, item: dict, event: dict) -> list[dict]:
        """Answers are not posts: no framework to tag."""
        return []

    def phases(self, settings: dict) -> list[Phase]:
        """Teams answer, then the room looks at the wheels together; answers are not posts, so posting stays closed."""
        return [Phase("answer", _l("Self-diagnosis"), posting=False), Phase("share", _l("Sharing"), posting=False)]

    def participant_actions(self) -> dict:
        """A phone names its team, reads its team's diagnostic and answers one function at a time."""
        return {"team": self.join_team, "state": self.state, "answer": self.answer}

    def actions(self) -> dict:
        """The console lists the teams and how far each has got."""
        return {"teams": self.teams}

    def screen_actions(self) -> dict:
        """A wall reads the room's anonymous wheel when it opens; later changes reach it as they happen."""
        return {"overview": self.overview}

    def overview(self, session, payload: dict) -> dict:
        """Return the teams' diagnostics put together, with no team's name."""
        return {"aggregate": aggregate(session)}

    def documents(self) -> dict:
        """A team's member downloads the team's wheel as one page."""
        return {"wheel": self.wheel_document}

    def state(self, session, participant, payload: dict) -> dict:
        """Return the grid, and the participant's team and its diagnostic if they are in one."""
        grid = grid_of(session)
        team = team_of(session, participant)
        return {"grid": grid, "result": team_result(session, team[0], team[1]["name"], grid) if team else None}

    def join_team(self, session, participant, payload: dict) -> dict:
        """Put the participant in the team named `name` (found whatever its case, accents and spacing)."""
        name = payload.get("name")
        if not isinstance(name, str):
            raise ServiceError("invalid_field", _l("The field %(field)s must be text.", field="name"))
        name = clean_line(name)
        if not person_key(name):
            raise ServiceError("team_name_missing", _l("Give your cooperation's name."))
        if len(name) > TEAM_MAX:
            raise ServiceError("field_too_long", _l("The field %(field)s is too long (at most %(max)s characters).",
                                                     field="name", max=TEAM_MAX))
        key = _team_key(name)
        team = records.get(session, key)
        if team is None:
            try:
                team = records.put(session, key, {"name": name}, 0)
            except ServiceError:
                team = records.get(session, key)  # a teammate created it at the same moment: join theirs
        records.put(session, _member_key(participant.id), {"team": key}, None)
        result = team_result(session, key, team.data["name"])
        records.tell_participants(members_of(session, key), "diagnostic.result", result)
        records.tell_screens(session, "diagnostic.aggregate", aggregate(session))
        return {"grid": grid_of(session), "result": result}

    def answer(self, session, participant, payload: dict) -> dict:
        """Store the team's stage and indicators for one function, if nobody changed it since revision `rev`."""
        if session.phase != "answer":
            raise ServiceError("answers_closed", _l("The diagnostic is closed: answers can no longer change."), 409)
        team = team_of(session, participant)
        if team is None:
            raise ServiceError("no_team", _l("Give your cooperation's name before answering."), 409)
        grid = grid_of(session)
        function = next((f for f in grid["functions"] if f["key"] == payload.get("function")), None)
        if function is None:
            raise ServiceError("unknown_function", _l("This function is not in the diagnostic's grid."))
        stage = payload.get("stage")
        if not isinstance(stage, str) or stage not in {s["key"] for s in grid["stages"]}:
            raise ServiceError("unknown_stage", _l("This stage is not in the diagnostic's grid."))
        chosen = payload.get("indicators", [])
        known = [i["key"] for i in function["indicators"]]
        if not isinstance(chosen, list) or not all(isinstance(k, str) for k in chosen):
            raise ServiceError("invalid_field", _l("The field %(field)s must be a list of texts.", field="indicators"))
        if any(k not in known for k in chosen) or len(set(chosen)) != len(chosen):
            raise ServiceError("unknown_indicator", _l("One of these indicators is not in this function's grid."))
        rev = whole_number(payload.get("rev"), "rev")
        key, data = team
        stored = records.put(session, _answer_prefix(key) + function["key"],
                             {"stage": stage, "indicators": [k for k in known if k in chosen]}, rev)
        result = team_result(session, key, data["name"], grid)
        records.tell_participants(members_of(session, key), "diagnostic.result", result)
        records.tell_screens(session, "diagnostic.aggregate", aggregate(session, grid))
        return {"record": records.record_payload(stored), "result": result}

    def teams(self, session, payload: dict) -> dict:
        """Return each team's name, members and how many functions it answered, with the aggregate."""
        grid = grid_of(session)
        out = []
        for key, name in team_keys(session).items():
            functions = scores(grid, answers_of(session, key))
            out.append({"name": name, "members": len(members_of(session, key)),
                        "answered": sum(f["stage"] is not None for f in functions),
                        "stages": {f["key"]: f["stage"] for f in functions}})
        out.sort(key=lambda t: person_key(t["name"]))
        return {"teams": out, "functions": len(grid["functions"]), "aggregate": aggregate(session, grid)}

    def wheel_document(self, session, participant) -> dict:
        """Return what the team's one-page PDF prints; refuse a participant who is in no team."""
        team = team_of(session, participant)
        if team is None:
            raise ServiceError("no_team", _l("Give your cooperation's name before answering."), 404)
        grid = grid_of(session)
        return {"session": {"title": session.title, "question": session.question},
                "event": {"title": session.event.title}, "stages": grid["stages"],
                "result": team_result(session, team[0], team[1]["name"], grid)}

    def rehearsal(self, payload: dict, phase: str, rng) -> list[tuple[str, dict]]:
        """A rehearsal phone names one of a few teams, then answers every function of the grid it was sent."""
        acks = payload.get("acks", {})
        if phase != "answer" or "answer" in acks:
            return []
        team = acks.get("team")
        if team is None:
            return [("team", {"name": rng.choice(REHEARSAL_TEAMS)})]
        if not team.get("ok"):
            return []
        revs = {f["key"]: f["rev"] for f in team["result"]["functions"]}
        return [("answer", {"function": function["key"], "stage": rng.choice(team["grid"]["stages"])["key"],
                            "indicators": [i["key"] for i in function["indicators"] if rng.random() < 0.5],
                            "rev": revs.get(function["key"], 0)})
                for function in team["grid"]["functions"]]

    def synthesise(self, session) -> dict:
        """Return the teams' diagnostics put together, anonymously: per function the stages reached and the mean.

        A team's own answers stay its own: the restitution is public, and a self-assessment is not a ranking.
        """
        grid = grid_of(session)
        found = aggregate(session, grid)
        return {"format": self.slug, "title": session.title, "question": session.question, "total": len(ideas(session)),
                "figures": ngettext("%(num)s cooperation", "%(num)s cooperations", found["teams"]),
                "teams": found["teams"], "stages": grid["stages"], "functions": found["functions"],
                "common_weakest": found["common_weakest"], "wheel": found["wheel"]}


REHEARSAL_TEAMS = ("Tiers-lieu La Fabrique", "PTCE Pays de Bray", "Coopérative Terres Communes",
                   "Collectif Bourg Vivant", "Réseau Tisser Local")

FORMAT = Diagnostic()
