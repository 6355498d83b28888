"""What an organiser adds to the booklets: texts per section, photo places, publication and naming choices."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..models import Event
from .events import live_sessions


def photo_sections(event: Event) -> list[dict]:
    """Return the restitution's sections a photo can be placed in, in booklet order: [{key, label}]."""
    return ([{"key": "origin", "label": _l("Origin and context")},
             {"key": "programme", "label": _l("The programme as it happened")}]
            + [{"key": f"session:{s.key}", "label": s.title} for s in live_sessions(event)]
            + [{"key": "perspectives", "label": _l("Perspectives")}])


def text_slots(event: Event) -> list[dict]:
    """Return the organiser's texts of the restitution, in booklet order: [{key, label, section}].

    ``intro:<key>`` opens a session's section, ``retain:<key>`` is its « À retenir » box.
    """
    slots = [{"key": "origin", "label": _l("Origin and context"), "section": "origin"}]
    for s in live_sessions(event):
        slots.append({"key": f"intro:{s.key}", "label": _l("%(title)s: introduction", title=s.title),
                      "section": f"session:{s.key}"})
        slots.append({"key": f"retain:{s.key}", "label": _l("%(title)s: key points", title=s.title),
                      "section": f"session:{s.key}"})
    slots += [{"key": "perspectives", "label": _l("Perspectives"), "section": "perspectives"},
              {"key": "contacts", "label": _l("Contacts (besides the organisers of the event file)"),
               "section": "contacts"}]
    return slots
