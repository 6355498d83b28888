"""Redis, which joins the workers, restarted during a session: every screen catches up without a reload."""

from __future__ import annotations

import re
import time

import pytest
import requests
from server import Redis
from test_server import Recorder, organiser_cookie, two_workers, wait_until

pytestmark = pytest.mark.server


def watch(client: Recorder, code: str, since: int = 0, rev: int = 0) -> dict:
    """Read a session as a screen does, from its cursors; return the ack."""
    ack = client.call("watch", {"code": code, "since": since, "rev": rev})
    assert ack["ok"], ack
    return ack


def post(phone: Recorder, code: str, client_id: str, text: str) -> dict:
    """Post an idea from a phone; return the stored post."""
    ack = phone.call("post", {"code": code, "client_id": client_id, "text": text, "tags": {}})
    assert ack["ok"], ack
    return ack["post"]


def test_screens_of_the_other_worker_catch_up_on_what_was_said_while_redis_was_down(tmp_path, databases):
    with Redis(tmp_path / "redis") as queue:
        first, second, code = two_workers(tmp_path, databases, queue=queue.url)
        cafe = next(s for s in first.sessions if s["code"] == code)
        with first, second:
            table = cafe["tables"][0]
            # Worker B holds the screens: a wall, a console, a table's host page and a phone that will vote.
            wall = Recorder(second.url)
            console_b = Recorder(second.url, {"Cookie": organiser_cookie(second)})
            host = Recorder(second.url)
            voter = Recorder(second.url)
            assert host.call("host_join", {"token": table["host_url"].rsplit("/", 1)[1]})["ok"]
            assert voter.call("join", {"code": table["code"], "name": "Votante"})["ok"]
            # Worker A is where the room acts meanwhile.
            console = Recorder(first.url, {"Cookie": organiser_cookie(first)})
            phone = Recorder(first.url)
            assert phone.call("join", {"code": table["code"], "name": "Ana"})["ok"]
            assert console.call("phase_set", {"code": code})["ok"]
            before = [post(phone, table["code"], f"outage-before-{n}", f"Avant {n}") for n in range(3)]
            wall_ack = watch(wall, code)
            console_ack = watch(console_b, code)
            assert [p["id"] for p in wall_ack["posts"]] == [p["id"] for p in before]
            assert console.call("vote_open", {"code": code, "budget": 3, "max_per_post": 1})["ok"]
            voter_ack = watch(voter, code)
            wait_until(lambda: all(c.got("vote_state") for c in (wall, console_b, host, voter)))
            assert all(c.got("vote_state") for c in (wall, console_b, host, voter))

            queue.kill()
            # Acked on worker A while Redis is down: three ideas, a hide, a merge, a restore and a change of state.
            during = [post(phone, table["code"], f"outage-during-{n}", f"Pendant {n}") for n in range(3)]
            assert console.call("post_hide", {"code": code, "post_id": before[0]["id"]})["ok"]
            assert console.call("post_merge", {"code": code, "post_id": during[2]["id"],
                                               "into": during[1]["id"]})["ok"]
            assert console.call("post_hide", {"code": code, "post_id": before[1]["id"]})["ok"]
            assert console.call("post_restore", {"code": code, "post_id": before[1]["id"]})["ok"]
            assert console.call("vote_close", {"code": code})["ok"]
            time.sleep(1.5)  # long enough for a broadcast to have arrived had one been relayed
            screens = (wall, console_b, host, voter)
            assert not any(c.got("post_hidden") for c in screens), "nothing crossed while Redis was down"
            assert not any(c.got("resync") for c in screens)

            queue.start()
            back = time.monotonic()
            wait_until(lambda: all(c.got("resync") for c in screens), timeout=15)
            assert all(c.got("resync") for c in screens), [c.got("resync") for c in screens]
            told = time.monotonic() - back
            assert told < 5, f"screens were told to catch up {told:.1f} s after Redis came back"
            print(f"every screen of worker B told to catch up {told:.2f} s after Redis came back")

            # What each screen asks for then, from the cursors it held, is every change it missed.
            session = wall_ack["session"]
            caught = watch(wall, code, session["seq"], session["rev"])
            posts = {p["id"]: p for p in caught["posts"]}
            assert {during[0]["id"], during[1]["id"]} <= set(posts)
            assert [m["id"] for m in posts[during[1]["id"]]["merged"]] == [during[2]["id"]]
            changed = {p["id"]: p for p in caught["changed"]}
            assert changed[before[0]["id"]]["hidden"] is True and "text" not in changed[before[0]["id"]]
            assert changed[before[1]["id"]]["hidden"] is False
            assert caught["vote"]["state"] == "closed" and caught["session"]["srev"] > session["srev"]
            organiser = watch(console_b, code, console_ack["session"]["seq"], console_ack["session"]["rev"])
            assert organiser["changed"] and organiser["vote"]["state"] == "closed"
            assert {p["id"] for p in organiser["posts"]} >= {during[0]["id"], during[1]["id"]}
            rejoined = voter.call("join", {"code": table["code"], "name": "Votante"})
            assert rejoined["ok"] and rejoined["session"]["vote"]["state"] == "closed"
            phones_list = watch(voter, code, voter_ack["session"]["seq"], voter_ack["session"]["rev"])
            assert {p["id"] for p in phones_list["changed"]} >= {before[0]["id"], before[1]["id"]}
            hosted = host.call("host_join", {"token": table["host_url"].rsplit("/", 1)[1]})
            assert {p["id"] for p in hosted["posts"]} >= {during[0]["id"], during[1]["id"]}

            # After that, broadcasts cross again, and each worker said once that the queue was lost and once back.
            post(phone, table["code"], "outage-after", "Après")
            wait_until(lambda: any(p["text"] == "Après" for p in wall.got("post")))
            assert any(p["text"] == "Après" for p in wall.got("post"))
            for worker in (first, second):
                log = worker.log.read_text()
                assert len(re.findall(r"Message queue lost", log)) == 1, log
                assert len(re.findall(r"Message queue back", log)) == 1, log
            for client in (*screens, console, phone):
                client.client.disconnect()
            assert requests.get(f"{second.url}/healthz", timeout=5).json() == {"status": "ok"}


def test_a_publication_refused_while_the_subscriptions_hold_is_followed_by_a_resync(tmp_path, databases):
    import redis

    with Redis(tmp_path / "redis") as queue:
        first, second, code = two_workers(tmp_path, databases, queue=queue.url)
        table = next(s for s in first.sessions if s["code"] == code)["tables"][0]
        with first, second:
            wall = Recorder(second.url)
            ack = watch(wall, code)
            console = Recorder(first.url, {"Cookie": organiser_cookie(first)})
            assert console.call("phase_set", {"code": code})["ok"]
            phone = Recorder(first.url)
            assert phone.call("join", {"code": table["code"], "name": "Ana"})["ok"]
            wait_until(lambda: wall.got("phase"))
            # Redis now asks new connections for a password: the workers' subscriptions, open already, hold, but
            # worker A's publications, on a connection opened anew, are refused.
            admin = redis.Redis.from_url(queue.url)
            admin.config_set("requirepass", "refused")
            admin.client_kill_filter(_type="normal", skipme=True)
            refused = post(phone, table["code"], "outage-refused", "Refusée par Redis")
            time.sleep(1)
            assert not wall.got("post") and not wall.got("resync")
            admin.config_set("requirepass", "")
            later = post(phone, table["code"], "outage-later", "Publiée ensuite")
            wait_until(lambda: wall.got("resync") and wall.got("post"))
            assert [p["id"] for p in wall.got("post")] == [later["id"]] and wall.got("resync") == [{}]
            caught = watch(wall, code, ack["session"]["seq"], ack["session"]["rev"])
            assert [p["id"] for p in caught["posts"]] == [refused["id"], later["id"]]
            assert len(re.findall("Message queue lost", first.log.read_text())) == 1
            assert len(re.findall("Message queue back", first.log.read_text())) == 1
            assert "Message queue" not in second.log.read_text()
            for client in (wall, console, phone):
                client.client.disconnect()
