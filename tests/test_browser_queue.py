"""A Redis restart seen in Chromium: the pages of the other worker, whose sockets never dropped, catch up."""

from __future__ import annotations

import re
import time

import pytest
from server import Redis

import test_browser
from test_browser import open_console
from test_server import Recorder, organiser_cookie, two_workers

from playwright.sync_api import expect  # noqa: E402  (after test_browser, which skips when chromium is missing)

pytestmark = pytest.mark.browser
browser = test_browser.browser


def post(phone: Recorder, code: str, client_id: str, text: str) -> dict:
    ack = phone.call("post", {"code": code, "client_id": client_id, "text": text, "tags": {}})
    assert ack["ok"], ack
    return ack["post"]


def test_wall_console_host_and_voting_phone_catch_up_after_redis_comes_back(browser, tmp_path, databases):
    with Redis(tmp_path / "redis") as queue:
        first, second, code = two_workers(tmp_path, databases, queue=queue.url, postgres=True)
        cafe = next(s for s in first.sessions if s["code"] == code)
        table = cafe["tables"][0]
        with first, second:
            console = Recorder(first.url, {"Cookie": organiser_cookie(first)})
            phone = Recorder(first.url)
            assert phone.call("join", {"code": table["code"], "name": "Ana"})["ok"]
            assert console.call("phase_set", {"code": code})["ok"]
            before = [post(phone, table["code"], f"browser-before-{n}", f"Avant {n}") for n in range(2)]
            assert console.call("vote_open", {"code": code, "budget": 3, "max_per_post": 1})["ok"]

            # Every page is on worker B; the room acts on worker A.
            wall = browser.new_page(viewport={"width": 1600, "height": 900})
            wall.goto(f"{second.url}/wall/{code}")
            board = open_console(browser, second, code, viewport={"width": 1280, "height": 1000})
            host = browser.new_page(viewport={"width": 360, "height": 900})
            host.goto(table["host_url"].replace(first.url, second.url))
            voter = browser.new_page(viewport={"width": 360, "height": 740})
            voter.goto(f"{second.url}/j/{table['code']}")
            expect(wall.locator(".card")).to_have_count(2)
            expect(board.locator(".console-post")).to_have_count(2)
            expect(host.locator("#table-posts .mine")).to_have_count(2)
            expect(voter.locator(".vote-post")).to_have_count(2)
            expect(wall.locator("#countdown")).to_have_text(re.compile(r"^(20:00|19:[0-5]\d)$"))  # the round's

            queue.kill()
            during = [post(phone, table["code"], f"browser-during-{n}", f"Pendant {n}") for n in range(3)]
            assert console.call("post_hide", {"code": code, "post_id": before[0]["id"]})["ok"]
            assert console.call("timer_start", {"code": code, "seconds": 300})["ok"]
            time.sleep(1.5)
            expect(wall.locator(".card")).to_have_count(2)  # nothing crossed: the pages do not know yet
            assert during

            queue.start()
            back = time.monotonic()
            for n in range(3):
                expect(wall.locator(".card", has_text=f"Pendant {n}")).to_have_count(1, timeout=10_000)
            expect(wall.locator(".card", has_text="Avant 0")).to_have_count(0)
            expect(wall.locator(".card")).to_have_count(4)
            expect(wall.locator("#countdown")).to_have_text(re.compile(r"^(5:00|4:[0-5]\d)$"))
            caught = time.monotonic() - back
            expect(board.locator(".console-post", has_text="Pendant 2")).to_have_count(1, timeout=10_000)
            expect(board.locator(".console-post--hidden", has_text="Avant 0")).to_have_count(1)
            expect(host.locator("#table-posts .mine", has_text="Pendant 2")).to_have_count(1, timeout=10_000)
            expect(voter.locator(".vote-post", has_text="Pendant 2")).to_have_count(1, timeout=10_000)
            expect(voter.locator(".vote-post", has_text="Avant 0")).to_have_count(0)
            print(f"wall complete {caught:.1f} s after Redis came back")
            # The wall never said it was offline: its socket held all along.
            assert wall.locator("#connection").get_attribute("data-state") in (None, "online")
            for client in (console, phone):
                client.client.disconnect()
