"""The French catalogue is complete for every string in the code and its compiled form is current."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
FR = ROOT / "app" / "translations" / "fr" / "LC_MESSAGES"
PLACEHOLDER = re.compile(r"%\(\w+\)s")


def forms(value) -> tuple:
    """Return a message's id or translation as a tuple of its forms (plural messages have several)."""
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def extracted_ids(tmp_path) -> set[str]:
    """Extract every message id from the sources, as `pybabel extract` sees them."""
    pot = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", "-k", "_l",
                    "-k", "N_", "-k", "NP_:1,2", "-o", str(pot), "."], cwd=ROOT, check=True, capture_output=True)
    with open(pot, "rb") as fh:
        return {m.id for m in read_po(fh) if m.id}


def test_every_interface_string_has_a_french_translation(tmp_path):
    with open(FR / "messages.po", "rb") as fh:
        catalogue = read_po(fh)
    translated = {m.id for m in catalogue if m.id and all(forms(m.string)) and not m.fuzzy}
    missing = sorted(extracted_ids(tmp_path) - translated)
    assert missing == [], "run pybabel extract/update and translate these"


def test_compiled_catalogue_matches_the_po_file():
    with open(FR / "messages.po", "rb") as po, open(FR / "messages.mo", "rb") as mo:
        source = {forms(m.id): forms(m.string) for m in read_po(po) if m.id and m.string}
        compiled = {forms(m.id): forms(m.string) for m in read_mo(mo) if m.id}
    assert compiled == source, "run: pybabel compile -d app/translations"


def test_placeholders_survive_translation():
    with open(FR / "messages.po", "rb") as fh:
        messages = [m for m in read_po(fh) if m.id and m.string]
    for message in messages:
        wanted = sorted(PLACEHOLDER.findall(forms(message.id)[-1]))
        for translated in forms(message.string):
            assert sorted(PLACEHOLDER.findall(translated)) == wanted, message.id


def test_strings_that_depend_on_a_number_have_both_forms_in_french(app):
    from app.views.strings import js_strings

    with app.test_request_context(headers={"Accept-Language": "fr"}):
        strings = js_strings("world_cafe")
    assert strings["Plan for %(count)s people"] == {"one": "Plan pour %(count)s personne",
                                                    "other": "Plan pour %(count)s personnes"}
    assert strings["Vote open: %(count)s voters"]["one"] == "Vote en cours\u00a0: %(count)s votant"
