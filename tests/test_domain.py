"""Pure domain rules: join codes, post text cleaning, public URLs."""

from __future__ import annotations

import re

from app.services import network
from app.services.sessions import CODE_ALPHABET, new_join_code, normalise_code
from app.services.text import clean_post_text, slugify


def test_join_code_alphabet_has_no_ambiguous_characters():
    assert not set("01ILOilo") & set(CODE_ALPHABET)
    assert len(set(CODE_ALPHABET)) == len(CODE_ALPHABET) == 31


def test_join_codes_are_six_random_characters(app):
    with app.app_context():
        codes = [new_join_code() for _ in range(2000)]
    assert all(re.fullmatch(f"[{CODE_ALPHABET}]{{6}}", code) for code in codes)
    # Every position draws from the whole alphabet (a fixed or skewed position would show here).
    for position in range(6):
        assert len({code[position] for code in codes}) == len(CODE_ALPHABET)
    assert len(set(codes)) >= 1990


def test_join_code_skips_codes_already_taken(app, event, monkeypatch):
    import secrets

    taken = event.sessions[0].code
    fresh = "ABCDEF"
    queue = iter(taken + fresh)
    monkeypatch.setattr(secrets, "choice", lambda _alphabet: next(queue))
    with app.app_context():
        assert new_join_code() == fresh


def test_typed_codes_are_normalised():
    assert normalise_code(" ab-cd ef ") == "ABCDEF"
    assert normalise_code(None) == "" and normalise_code(12) == ""


def test_post_text_is_trimmed_normalised_and_stripped_of_control_characters():
    assert clean_post_text("  Cre\u0301er   la\tconfiance\u200b  ") == "Créer la confiance"
    assert clean_post_text("ligne 1\n\n\n  ligne 2  \r\n") == "ligne 1\nligne 2"
    assert clean_post_text("\x00\x07\u202e") == ""


def test_slugify_makes_ascii_keys():
    assert slugify("Arbres à idées : Amorcer !") == "arbres-a-idees-amorcer"
    assert slugify("???") == "item"


def test_reachability_warning_flags_addresses_phones_cannot_reach():
    assert network.reachability_warning("http://127.0.0.1:5000") == "loopback"
    assert network.reachability_warning("http://localhost:5000") == "loopback"
    assert network.reachability_warning("http://169.254.3.4:5000") == "link_local"
    assert network.reachability_warning("http://192.168.1.20:5000") is None
    assert network.reachability_warning("https://rouages.example.org") is None


def test_lan_addresses_never_offer_loopback():
    assert all(not address.startswith("127.") for address in network.lan_addresses())


def test_public_url_prefers_the_configured_one(app):
    with app.test_request_context():
        assert network.join_url("ABCDEF") == "http://127.0.0.1:5999/j/ABCDEF"
        app.config["PUBLIC_URL"] = None
        app.config["PORT"] = 8123
        url = network.public_url()
    assert re.fullmatch(r"http://[\d.]+:8123", url)
