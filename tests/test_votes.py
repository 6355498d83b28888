"""Dot voting: budgets, moving dots, no double counting, hidden results until the reveal."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models import Vote
from conftest import events_named, socket_client


def posted(phone, code, n):
    """Post n ideas from a joined phone and return their ids."""
    return [phone.emit("post", {"code": code, "client_id": f"vote-idea-{i:03d}", "text": f"Idée {i}",
                                "tags": {"function": "animation"}}, callback=True)["post"]["id"] for i in range(n)]


def test_a_full_vote_from_opening_to_ranked_results(app, phone, wall, console, cafe, read):
    token = phone.emit("join", {"code": cafe.code}, callback=True)["participant"]["token"]
    ideas = posted(phone, cafe.code, 3)
    listed = wall.emit("watch", {"code": cafe.code}, callback=True)["posts"]
    wall.get_received()
    phone.get_received()
    ack = console.emit("vote_open", {"code": cafe.code, "budget": 5, "max_per_post": 2}, callback=True)
    assert ack["vote"] == {"code": cafe.code, "state": "open", "budget": 5, "max_per_post": 2, "voters": 0,
                           "srev": ack["vote"]["srev"]}
    # The opening carries the ideas to vote on, so phones need not all fetch them at once.
    assert [p["id"] for p in listed] == ideas
    # With the cursors it is whole up to: a phone back from a lost connection asks only for what changed since.
    opening = {**ack["vote"], "posts": listed, "seq": 3, "rev": 3}
    assert events_named(wall, "vote_state") == [opening]
    assert events_named(phone, "vote_state") == [opening]

    other = socket_client(app)
    other.emit("join", {"code": cafe.code}, callback=True)
    first = phone.emit("vote", {"code": cafe.code, "dots": {str(ideas[0]): 2, str(ideas[1]): 2}}, callback=True)
    assert first == {"ok": True, "dots": {str(ideas[0]): 2, str(ideas[1]): 2}, "left": 1}
    # Moving dots replaces the allocation: nothing is counted twice, even when resent after a reconnect.
    phone.emit("vote", {"code": cafe.code, "dots": {str(ideas[0]): 2, str(ideas[2]): 1}}, callback=True)
    phone.emit("vote", {"code": cafe.code, "dots": {str(ideas[0]): 2, str(ideas[2]): 1}}, callback=True)
    other.emit("vote", {"code": cafe.code, "dots": {str(ideas[2]): 2, str(ideas[1]): 1}}, callback=True)
    assert read(lambda: db.session.scalar(select(func.sum(Vote.dots)))) == 6
    assert "results" not in wall.emit("watch", {"code": cafe.code}, callback=True)["vote"]

    console.emit("vote_close", {"code": cafe.code}, callback=True)
    late = phone.emit("vote", {"code": cafe.code, "dots": {}}, callback=True)
    assert late["error"]["code"] == "vote_not_open"
    wall.get_received()
    revealed = console.emit("vote_reveal", {"code": cafe.code}, callback=True)["vote"]
    assert revealed["state"] == "revealed" and revealed["voters"] == 2
    assert [(r["post_id"], r["dots"], r["rank"]) for r in revealed["results"]] == [
        (ideas[2], 3, 1), (ideas[0], 2, 2), (ideas[1], 1, 3)]
    assert events_named(wall, "vote_state") == [revealed]
    assert phone.emit("join", {"code": cafe.code, "token": token}, callback=True)["dots"] == {str(ideas[0]): 2, str(ideas[2]): 1}
    other.disconnect()


def test_vote_rules_are_enforced_and_change_nothing(phone, console, cafe, read):
    phone.emit("join", {"code": cafe.code}, callback=True)
    ideas = posted(phone, cafe.code, 4)
    assert phone.emit("vote", {"code": cafe.code, "dots": {}}, callback=True)["error"]["code"] == "vote_not_open"
    console.emit("vote_open", {"code": cafe.code, "budget": 3, "max_per_post": 2}, callback=True)
    cases = [
        ({str(ideas[0]): 3}, "too_many_dots_on_post"),
        ({str(ideas[0]): 2, str(ideas[1]): 2}, "over_budget"),
        ({"999": 1}, "unknown_post"),
        ({str(ideas[0]): -1}, "invalid_vote"),
        ({str(ideas[0]): True}, "invalid_vote"),
        ({str(ideas[0]): "2"}, "invalid_vote"),
        ([ideas[0]], "invalid_vote"),
    ]
    for dots, code in cases:
        assert phone.emit("vote", {"code": cafe.code, "dots": dots}, callback=True)["error"]["code"] == code, dots
    assert read(lambda: db.session.scalar(select(func.count(Vote.id)))) == 0
    console.emit("post_hide", {"code": cafe.code, "post_id": ideas[3]}, callback=True)
    hidden = phone.emit("vote", {"code": cafe.code, "dots": {str(ideas[3]): 1}}, callback=True)
    assert hidden["error"]["code"] == "unknown_post"


def test_vote_settings_are_checked_and_organiser_only(phone, console, cafe):
    for budget, per_post in ((0, 1), (21, 2), (5, 6), ("5", 2), (5, None)):
        ack = console.emit("vote_open", {"code": cafe.code, "budget": budget, "max_per_post": per_post}, callback=True)
        assert ack["error"]["code"] == "invalid_vote_settings", (budget, per_post)
    assert console.emit("vote_reveal", {"code": cafe.code}, callback=True)["error"]["code"] == "vote_not_open"
    for name in ("vote_open", "vote_close", "vote_reveal"):
        ack = phone.emit(name, {"code": cafe.code, "budget": 5, "max_per_post": 2}, callback=True)
        assert ack["error"]["code"] == "forbidden"


def test_voting_needs_a_joined_phone(phone, console, cafe):
    console.emit("vote_open", {"code": cafe.code, "budget": 5, "max_per_post": 2}, callback=True)
    assert phone.emit("vote", {"code": cafe.code, "dots": {}}, callback=True)["error"]["code"] == "not_joined"


def test_reopening_with_new_rules_starts_a_new_vote(phone, console, cafe, read):
    phone.emit("join", {"code": cafe.code}, callback=True)
    ideas = posted(phone, cafe.code, 2)
    console.emit("vote_open", {"code": cafe.code, "budget": 4, "max_per_post": 2}, callback=True)
    phone.emit("vote", {"code": cafe.code, "dots": {str(ideas[0]): 2, str(ideas[1]): 2}}, callback=True)
    console.emit("vote_close", {"code": cafe.code}, callback=True)
    console.emit("vote_open", {"code": cafe.code, "budget": 4, "max_per_post": 2}, callback=True)
    assert read(lambda: db.session.scalar(select(func.sum(Vote.dots)))) == 4
    console.emit("vote_open", {"code": cafe.code, "budget": 2, "max_per_post": 1}, callback=True)
    assert read(lambda: db.session.scalar(select(func.count(Vote.id)))) == 0


def test_the_opening_lists_only_visible_ideas_and_closing_sends_no_list(phone, console, cafe):
    phone.emit("join", {"code": cafe.code}, callback=True)
    ideas = posted(phone, cafe.code, 3)
    console.emit("post_hide", {"code": cafe.code, "post_id": ideas[1]}, callback=True)
    phone.get_received()
    console.emit("vote_open", {"code": cafe.code, "budget": 3, "max_per_post": 1}, callback=True)
    console.emit("vote_close", {"code": cafe.code}, callback=True)
    opened, closed = events_named(phone, "vote_state")
    assert [(p["id"], p["text"]) for p in opened["posts"]] == [(ideas[0], "Idée 0"), (ideas[2], "Idée 2")]
    assert closed["state"] == "closed" and "posts" not in closed


def test_a_phone_fetching_the_list_again_sees_new_and_hidden_ideas(phone, console, cafe):
    phone.emit("join", {"code": cafe.code}, callback=True)
    ideas = posted(phone, cafe.code, 2)
    console.emit("vote_open", {"code": cafe.code, "budget": 3, "max_per_post": 1}, callback=True)

    def listed():
        return [p["id"] for p in phone.emit("watch", {"code": cafe.code}, callback=True)["posts"]]

    assert listed() == ideas
    assert listed() == ideas  # read again unchanged
    late = phone.emit("post", {"code": cafe.code, "client_id": "vote-idea-late", "text": "Une de plus",
                               "tags": {"function": "animation"}}, callback=True)["post"]["id"]
    assert listed() == ideas + [late]
    console.emit("post_hide", {"code": cafe.code, "post_id": ideas[0]}, callback=True)
    assert listed() == [ideas[1], late]
    console.emit("post_restore", {"code": cafe.code, "post_id": ideas[0]}, callback=True)
    assert listed() == ideas + [late]
