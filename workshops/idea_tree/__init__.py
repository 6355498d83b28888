"""The idea tree: one question as the trunk, branches by theme, ideas as leaves, and roots and fruits when opened."""

from __future__ import annotations

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from app.services import sessions
from app.services.errors import ServiceError
from app.services.sessions import frameworks_of
from workshops import N_, NP_, Phase, WorkshopFormat, ideas

# Frameworks the format adds to the session: the branch of an explicit list, and the part of the tree.
BRANCH = "branch"
PART = "part"
# Parts of the tree, in drawing order; a root or a fruit is taken while the format state's flag is set.
LEAF, ROOT, FRUIT = "leaf", "root", "fruit"
FLAGS = {ROOT: "roots", FRUIT: "fruits"}


def part_framework() -> dict:
    """Return the part framework: leaves always, roots and fruits once the facilitator opens them."""
    # Stored at import in the server's language (French by default), as the event file's own labels are.
    return {"key": PART, "label": gettext("Part of the tree"), "required": False, "items": [
        {"key": LEAF, "label": gettext("Action idea")},
        {"key": ROOT, "label": gettext("Root"), "opens_with": FLAGS[ROOT]},
        {"key": FRUIT, "label": gettext("Fruit"), "opens_with": FLAGS[FRUIT]}]}


def branch_setting(item: dict):
    """Return the item's `branches` setting: a framework key (the movements by default) or a list of branches."""
    return item.get("settings", {}).get("branches", "movement")


def branch_framework(item: dict, event: dict) -> dict | None:
    """Return the framework whose items are the tree's branches, or None when the event does not define it."""
    setting = branch_setting(item)
    if isinstance(setting, list):
        return {"key": BRANCH, "label": gettext("Branch"), "required": True,
                "items": [{"key": b["key"], "label": b["label"]} for b in setting]}
    found = next((fw for fw in event.get("frameworks", []) if fw["key"] == setting), None)
    if found is None:
        return None
    return {"key": found["key"], "label": found["label"], "required": True,
            "items": [{"key": i["key"], "label": i["label"]} for i in found["items"]]}


def part_of(idea: dict) -> str:
    """Return the part of the tree an idea is (a leaf when it says none)."""
    return idea["tags"].get(PART) or LEAF


def check_parts(payload: dict) -> dict:
    """Return the roots/fruits switches a console sent, or refuse them."""
    changes = {}
    for flag in FLAGS.values():
        if flag in payload:
            if not isinstance(payload[flag], bool):
                raise ServiceError("invalid_field", _l("The field %(field)s must be true or false.", field=flag))
            changes[flag] = payload[flag]
    if not changes:
        raise ServiceError("invalid_field", _l("Say whether roots, fruits or both are open."))
    return changes


class IdeaTree(WorkshopFormat):
    """A tree per question: leaves on branches, roots and fruits opened by the facilitator, dot votes on them all."""

    slug = "idea_tree"
    title = _l("Idea tree")
    description = _l("One question as the trunk; participants hang action ideas on its branches, then roots and "
                     "fruits when the facilitator opens them.")
    settings_schema = {"type": "object", "additionalProperties": False, "properties": {
        "branches": {
            "description": "The tree's branches: the key of one of the event's frameworks (its items), or a list "
                           "of {key, label}. By default the movements (Amorcer, Maintenir, Renforcer).",
            "oneOf": [
                {"type": "string", "pattern": "^[a-z0-9_]+$"},
                {"type": "array", "minItems": 2, "maxItems": 8, "items": {
                    "type": "object", "additionalProperties": False, "required": ["key", "label"],
                    "properties": {"key": {"type": "string", "pattern": "^[a-z0-9_]+$", "maxLength": 40},
                                   "label": {"type": "string", "minLength": 1, "maxLength": 60}}}}]},
    }}
    example = {"id": "arbre-a-idees", "start": "15:45", "end": "17:00", "title": "Arbre à idées",
               "workshop": "idea_tree",
               "question": "Comment amorcer, maintenir et renforcer une coopération territoriale ?",
               "settings": {"branches": "movement"}}

    #: What the wall, phone and console modules pass to t().
    strings = (
        N_("Roots"), N_("On which branch of the tree?"), N_("What is it?"), N_("The tree's parts"),
        N_("Phones can send roots"), N_("Phones can send fruits"), N_("Roots are open"), N_("Roots are closed"),
        N_("Fruits are open"), N_("Fruits are closed"), N_("Ideas merged into this one"), N_("Page %(page)s/%(pages)s"),
        NP_("%(count)s root", "%(count)s roots"), NP_("%(count)s fruit", "%(count)s fruits"),
        NP_("said %(count)s time", "said %(count)s times"), NP_("%(count)s dot", "%(count)s dots"),
        NP_("%(count)s idea in all", "%(count)s ideas in all"), NP_("+ %(count)s more idea", "+ %(count)s more ideas"),
    )

    def check_settings(self, item: dict, event: dict) -> list[tuple[tuple, str]]:
        """The branches name a framework of the event (of two to eight items), or list distinct keys."""
        setting = branch_setting(item)
        keys = {fw["key"] for fw in event.get("frameworks", [])}
        if PART in keys:
            return [(("settings",), f"the event has a framework {PART!r}, which the idea tree uses for its parts")]
        if isinstance(setting, list):
            seen = [b["key"] for b in setting]
            dupes = sorted({k for k in seen if seen.count(k) > 1})
            problems = [(("settings", "branches"), f"{k!r} names two branches") for k in dupes]
            if BRANCH in keys:
                problems.append((("settings", "branches"), f"the event has a framework {BRANCH!r}: name the "
                                                            "branches by that framework's key instead"))
            return problems
        fw = branch_framework(item, event)
        if fw is None:
            return [(("settings", "branches"), f"{setting!r} is not a framework of this event")]
        if not 2 <= len(fw["items"]) <= 8:
            return [(("settings", "branches"), f"a tree has two to eight branches; {setting!r} has {len(fw['items'])}")]
        return []

    def tags(self, item: dict, event: dict) -> list[dict]:
        """Posts carry their branch (required), the item's other tags, and their part (a leaf when none)."""
        setting = branch_setting(item)
        branch = setting if isinstance(setting, str) else BRANCH
        others = [tag for tag in item.get("tags", []) if tag["framework"] not in (branch, PART)]
        return [{"framework": branch, "required": True}, *others, {"framework": PART}]

    def frameworks(self, item: dict, event: dict, derived: list[dict]) -> list[dict]:
        """The branches first, then the item's other frameworks, then the parts of the tree."""
        branch = branch_framework(item, event)
        others = [fw for fw in derived if fw["key"] not in ((branch or {}).get("key"), PART)]
        return [*([branch] if branch else []), *others, part_framework()]

    def phases(self, settings: dict) -> list[Phase]:
        """Grow the tree, vote on it, done."""
        return [Phase("grow", _l("Growing the tree")), Phase("vote", _l("Vote"), posting=False),
                Phase("done", _l("Done"), posting=False)]

    def actions(self) -> dict:
        """The console opens or closes roots and fruits."""
        return {"parts": self.set_parts}

    @staticmethod
    def set_parts(session, payload: dict) -> dict:
        """Open or close roots and fruits: `{roots?: bool, fruits?: bool}`."""
        return {"state": sessions.set_format_state(session, check_parts(payload))["state"]}

    def synthesise(self, session) -> dict:
        """Return the branches with their leaves most-dotted first, the roots, the fruits and the totals."""
        found = ideas(session)
        frameworks = frameworks_of(session)
        branch_fw = frameworks[0]
        labels = {item["key"]: item["label"] for item in branch_fw["items"]}
        for idea in found:
            idea["branch"] = idea["tags"].get(branch_fw["key"])
            idea["branch_label"] = labels.get(idea["branch"], "")
        leaves = [idea for idea in found if part_of(idea) == LEAF]
        branches = []
        for item in branch_fw["items"]:
            mine = [idea for idea in leaves if idea["branch"] == item["key"]]
            branches.append({"key": item["key"], "label": item["label"], "count": len(mine),
                             "dots": sum(idea["dots"] for idea in mine), "leaves": mine})
        roots = [idea for idea in found if part_of(idea) == ROOT]
        fruits = [idea for idea in found if part_of(idea) == FRUIT]
        return {
            "format": self.slug,
            "title": session.title,
            "question": session.question,
            "total": len(found),
            "leaves": len(leaves),
            "merged": sum(len(idea["merged"]) for idea in found),
            "dots": sum(idea["dots"] for idea in found),
            "branch_label": branch_fw["label"],
            "branches": branches,
            "roots": roots,
            "fruits": fruits,
        }


FORMAT = IdeaTree()
