"""The rehearsal crowd: simulated phones, table hosts and an organiser running an event's live sessions on a server.

Everything goes over the real protocol (docs/protocol.md): python-socketio's asyncio clients for the phones, the
hosts' pages and the console, and one HTTP sign-in like a browser's. The choices (who gives a name, which idea,
which tags, where the dots go) come from one seed; only the timing varies from run to run.
"""

from __future__ import annotations

import asyncio
import csv
import json
import random
import secrets
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path

import aiohttp
import socketio
import yaml

from workshops import registry

CALL_TIMEOUT = 20.0  # seconds to wait for an ack
BROADCAST_TIMEOUT = 10.0  # seconds a phone waits for a broadcast it must receive (a step, the vote, its host link)
CONNECT_TIMEOUT = 15.0
ACTION_TURNS = 4  # times a phone asks its session's format for more actions in one step
RETRIES = 8  # attempts at a join, a post or a connection that a rate limit or a busy database refused
CONNECT_CONCURRENCY = 20
JOIN_CONCURRENCY = 20
MAX_TEXT = 500  # a post's text, as the server counts it
SLIPS = 0.35  # share of ideas typed with a slip: in capitals, without accents, a letter dropped, a « !! »
SUGGESTIONS_PER_ROUND = 4  # suggestions a host answers after each round
NAMED_SHARE = 0.3  # participants who type their name
ORGANISATION_SHARE = 0.8  # of those, who also give their organisation
ELSEWHERE_SHARE = 0.06  # participants who sit at another table than the plan's in a round
ABSTAIN_SHARE = 0.08  # participants who place no dot
IDEAS_PER_STEP = (1, 1, 2, 2, 2, 3)  # ideas a participant posts in one step that takes posts, drawn from this
UPVOTES_PER_STEP = (0, 1, 2, 2, 3)  # others' questions a participant upvotes in a Q&A step, drawn from this
WITHDRAW_SHARE = 0.1  # upvotes a participant takes back
REJECT_SHARE = 0.1  # questions waiting for review that the moderator turns down
ANSWERED = 2  # questions the moderator marks answered at the end of each Q&A step


class CorpusError(Exception):
    """A corpus file that cannot be used; the message says why and where."""


@dataclass(frozen=True)
class Text:
    """A sentence of the corpus and the tags it fits ({framework: item}, empty when it fits anywhere)."""

    text: str
    tags: dict = field(default_factory=dict)


@dataclass
class Corpus:
    """What the crowd writes: ideas, the hosts' harvest lines, and the names and organisations it gives."""

    ideas: list[Text]
    harvest: list[Text]
    names: list[str]
    organisations: list[str]
    facilitator: list[Text] = field(default_factory=list)


def builtin_corpus() -> Corpus:
    """Return the French corpus shipped with Rouages (app/data/rehearsal_corpus.yaml)."""
    doc = yaml.safe_load(resources.files("app.data").joinpath("rehearsal_corpus.yaml").read_text("utf-8"))
    return Corpus(ideas=[Text(t, dict(g.get("tags") or {})) for g in doc["ideas"] for t in g["texts"]],
                  harvest=[Text(t, dict(g.get("tags") or {})) for g in doc["harvest"] for t in g["lines"]],
                  names=list(doc["names"]), organisations=list(doc["organisations"]),
                  facilitator=[Text(t, dict(g.get("tags") or {})) for g in doc.get("facilitator", [])
                               for t in g["lines"]])


def _checked(texts: list[tuple[int, object]], path: Path, unit: str) -> list[str]:
    """Return the texts of a corpus file, or refuse one that is not text, is too long or is empty."""
    out = []
    for where, value in texts:
        if not isinstance(value, str):
            raise CorpusError(f"{path}: {unit} {where}: `text` must be a string.")
        value = value.strip()
        if len(value) > MAX_TEXT:
            raise CorpusError(f"{path}: {unit} {where}: the text has {len(value)} characters; a post takes at most "
                              f"{MAX_TEXT}.")
        if value:
            out.append(value)
    if not out:
        raise CorpusError(f"{path}: no text found.")
    return out


def _read_jsonl(path: Path, content: str) -> list[str]:
    texts = []
    for number, line in enumerate(content.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise CorpusError(f"{path}: line {number} is not JSON ({error.msg}).") from None
        if not isinstance(row, dict) or "text" not in row:
            raise CorpusError(f"{path}: line {number} is not an object with a `text` field.")
        texts.append((number, row["text"]))
    return _checked(texts, path, "line")


def _read_csv(path: Path, content: str) -> list[str]:
    try:
        reader = csv.DictReader(content.splitlines())
        columns = [name.strip().lower() for name in reader.fieldnames or []]
        if "text" not in columns:
            raise CorpusError(f"{path}: no `text` column (the first line names the columns: "
                              f"{', '.join(reader.fieldnames or []) or 'none'}).")
        column = (reader.fieldnames or [])[columns.index("text")]
        rows = [(reader.line_num, row.get(column) or "") for row in reader]
    except csv.Error as error:
        raise CorpusError(f"{path}: not a readable CSV file ({error}).") from None
    return _checked(rows, path, "line")


def load_corpus(path: Path) -> Corpus:
    """Read a corpus file: JSON Lines (one object with `text` a line) or CSV with a `text` column; other fields aside.

    Its texts are the ideas and the hosts' harvest lines; names and organisations stay the built-in ones.
    """
    try:
        content = Path(path).read_text("utf-8-sig")
    except UnicodeDecodeError:
        raise CorpusError(f"{path}: not UTF-8 text.") from None
    except OSError as error:
        raise CorpusError(f"{path}: cannot be read ({error.strerror}).") from None
    suffix = Path(path).suffix.lower()
    jsonl = suffix in (".jsonl", ".ndjson") or (suffix != ".csv" and content.lstrip().startswith("{"))
    texts = _read_jsonl(path, content) if jsonl else _read_csv(path, content)
    builtin = builtin_corpus()
    return Corpus(ideas=[Text(t) for t in texts], harvest=[Text(t) for t in texts], names=builtin.names,
                  organisations=builtin.organisations, facilitator=builtin.facilitator)


def fitting(texts: list[Text], frameworks: list[dict], fixed: dict) -> list[Text]:
    """Return the texts that best fit a session's frameworks, agreeing with the tags a table imposes.

    A text fits when each of its tags that the session knows names an item the session offers and no imposed tag
    says otherwise; the best fit the most of the session's frameworks, with the fewest tags it does not know
    (so a board without frameworks gets the untagged texts).
    """
    offered = {fw["key"]: {item["key"] for item in fw["items"]} for fw in frameworks}
    scored = []
    for text in texts:
        known = {k: v for k, v in text.tags.items() if k in offered}
        if any(v not in offered[k] or fixed.get(k, v) != v for k, v in known.items()):
            continue
        scored.append(((len(known), -(len(text.tags) - len(known))), text))
    if not scored:
        return list(texts)
    best = max(score for score, _ in scored)
    return [text for score, text in scored if score == best]


def typed(text: str, rng: random.Random) -> str:
    """Return a corpus text as a hurried phone may type it: now and then in capitals, without accents, a letter
    dropped, or with « !! »; the same idea, so the synthesis has near-duplicates to group."""
    roll = rng.random()
    if roll >= SLIPS:
        return text
    slip = rng.randrange(4)
    if slip == 0:
        return text.upper()
    if slip == 1:
        return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).lower()
    if slip == 2 and len(text) > 12:
        at = rng.randrange(4, len(text) - 4)
        return text[:at] + text[at + 1:]
    return f"{text} !!"


def open_items(frameworks: list[dict], state: dict) -> list[dict]:
    """Return the frameworks with only the items a post may name now (those a format-state flag opens, when set)."""
    return [{**fw, "items": [item for item in fw["items"] if not item.get("opens_with") or state.get(item["opens_with"])]}
            for fw in frameworks]


def tags_for(text: Text, frameworks: list[dict], fixed: dict, rng: random.Random) -> dict:
    """Return the tags a phone sends with a text: the text's own, then an item for every required framework left."""
    offered = {fw["key"]: [item["key"] for item in fw["items"]] for fw in frameworks}
    tags = {k: v for k, v in text.tags.items() if k in offered and v in offered[k]}
    tags.update({k: v for k, v in fixed.items() if k in offered})
    for fw in frameworks:
        if fw["key"] not in tags and fw["items"] and (fw["required"] or rng.random() < 0.5):
            tags[fw["key"]] = rng.choice(offered[fw["key"]])
    return tags


@dataclass
class Tally:
    """What the crowd did in one session."""

    key: str
    title: str
    code: str
    workshop: str
    joined: int = 0
    named: int = 0
    posts: int = 0
    votes: int = 0
    upvotes: int = 0  # upvotes acked (withdrawals included) in a question-and-answer session
    reviewed: int = 0  # posts the moderator published or turned down from the review queue
    harvests: int = 0
    grouped: int = 0  # suggestions a host answered (« the same idea » or not)
    actions: int = 0  # a format's own participant actions acked (a diagnostic's team and answers)
    steps: int = 0
    retried: int = 0  # requests a rate limit refused and the crowd sent again after the wait it was told
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Limits:
    """The server's rate limits the crowd keeps to (0: none), from the same settings as the server's."""

    joins_burst: int = 120
    joins_per_minute: int = 180
    connects_burst: int = 600
    connects_per_minute: int = 600

    @classmethod
    def from_config(cls, config) -> Limits:
        """Read the limits from an application's configuration."""
        return cls(config["LIMIT_JOINS_BURST"], config["LIMIT_JOINS_PER_MINUTE"], config["LIMIT_CONNECTS_BURST"],
                   config["LIMIT_CONNECTS_PER_MINUTE"])


class Bucket:
    """A token bucket like the server's: `burst` at once, then `per_minute`; a bucket of 0 never waits."""

    def __init__(self, burst: int, per_minute: int):
        self.burst, self.rate = burst, per_minute / 60
        self.tokens, self.stamp = float(burst), time.monotonic()
        self.lock = asyncio.Lock()

    async def take(self) -> None:
        """Wait until one more request fits."""
        if not self.burst or not self.rate:
            return
        async with self.lock:
            while True:
                now = time.monotonic()
                self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
                self.stamp = now
                if self.tokens >= 1:
                    self.tokens -= 1
                    return
                await asyncio.sleep((1 - self.tokens) / self.rate)


class _CsrfField(HTMLParser):
    """Finds the value of the sign-in form's hidden `csrf_token` field."""

    def __init__(self):
        super().__init__()
        self.value: str | None = None

    def handle_starttag(self, tag, attrs):
        found = dict(attrs)
        if tag == "input" and found.get("name") == "csrf_token":
            self.value = found.get("value")


class RehearsalError(Exception):
    """The crowd cannot start: no server, or a sign-in refused."""


def _cookies(response: aiohttp.ClientResponse, jar: dict) -> None:
    for name, morsel in response.cookies.items():
        jar[name] = morsel.value


def _cookie_header(jar: dict) -> str:
    return "; ".join(f"{name}={value}" for name, value in jar.items())


async def sign_in(url: str, email: str, password: str) -> str:
    """Sign in through the login form as a browser does (CSRF token included); return the Cookie header to send."""
    jar: dict[str, str] = {}
    # The cookies are kept by hand: aiohttp's jar holds none for an IP address, nor a Secure one over plain HTTP.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar(),
                                     timeout=aiohttp.ClientTimeout(total=CALL_TIMEOUT)) as http:
        try:
            async with http.get(f"{url}/healthz") as answer:
                if answer.status != 200:
                    raise RehearsalError(f"{url}/healthz answered {answer.status}: is this a Rouages server?")
            async with http.get(f"{url}/login") as answer:
                _cookies(answer, jar)
                form = _CsrfField()
                form.feed(await answer.text())
            if not form.value:
                raise RehearsalError(f"{url}/login has no sign-in form: is this a Rouages server?")
            async with http.post(f"{url}/login", allow_redirects=False, headers={"Cookie": _cookie_header(jar)},
                                 data={"email": email, "password": password, "csrf_token": form.value}) as answer:
                if answer.status != 302:
                    raise RehearsalError(f"The sign-in of {email} was refused ({answer.status}).")
                _cookies(answer, jar)
        except (TimeoutError, aiohttp.ClientError, OSError) as error:
            raise RehearsalError(f"No Rouages server answers at {url} ({error or type(error).__name__}): start "
                                 "`rouages serve`, or give its address with --url.") from None
    return _cookie_header(jar)


# The broadcasts the crowd waits for; the others (posts, plans sent at each late join…) are counted and dropped, or
# a crowd re-run on a busy event would hold gigabytes of them.
KEPT = ("phase", "host", "vote_state")


class Client:
    """One Socket.IO connection that keeps the broadcasts the crowd waits for, numbered in order of arrival."""

    def __init__(self, crowd: Crowd, label: str):
        self.crowd, self.label = crowd, label
        self.sio = socketio.AsyncClient(reconnection=False)
        self.count = 0
        self.kept: list[tuple[int, str, dict]] = []
        self.closing = False
        self.sio.on("*", self._record)
        self.sio.on("disconnect", self._dropped)

    async def _record(self, event, data=None):
        self.count += 1
        if event in KEPT and isinstance(data, dict):
            if "posts" in data:  # a vote's opening: the ideas' ids are what a phone needs to place its dots
                data = {**data, "posts": [p.get("id") for p in data["posts"] if isinstance(p, dict)]}
            self.kept.append((self.count, event, data))

    async def _dropped(self, *_reason):
        if not self.closing:
            self.crowd.problem(None, f"{self.label}: the server closed the connection")

    async def connect(self, headers: dict | None = None) -> None:
        """Connect over WebSocket, waiting and trying again while the server's connection limit refuses."""
        for attempt in range(RETRIES):
            await self.crowd.connects.take()
            try:
                await self.sio.connect(self.crowd.url, transports=["websocket"], headers=headers or {},
                                       wait_timeout=CONNECT_TIMEOUT)
                return
            except socketio.exceptions.ConnectionError as error:
                if attempt == RETRIES - 1:
                    raise RehearsalError(f"{self.label} could not connect to {self.crowd.url}: {error}") from None
                await asyncio.sleep(min(2 ** attempt, 15))

    async def call(self, event: str, data: dict) -> dict:
        """Send an event and return its ack; a lost connection or a late ack becomes an error ack."""
        try:
            return await self.sio.call(event, data, timeout=CALL_TIMEOUT)
        except socketio.exceptions.TimeoutError:
            return {"ok": False, "error": {"code": "timeout", "message": f"no answer within {CALL_TIMEOUT:.0f} s"}}
        except socketio.exceptions.SocketIOError as error:
            return {"ok": False, "error": {"code": "disconnected", "message": str(error) or "not connected"}}

    async def wait_for(self, event: str, test: Callable[[dict], bool], since: int = 0,
                       timeout: float = BROADCAST_TIMEOUT):
        """Return the latest `event` received after the first `since` that passes `test`, waiting a while; or None."""
        deadline = time.monotonic() + timeout
        while True:
            for number, name, data in reversed(self.kept):
                if number <= since:
                    break
                if name == event and test(data):
                    return data
            if time.monotonic() >= deadline:
                return None
            await asyncio.sleep(0.02)

    async def close(self) -> None:
        """Disconnect on purpose."""
        self.closing = True
        await self.sio.disconnect()


@dataclass
class Phone:
    """One participant: a name and an organisation or not, a token once joined, their participant id."""

    index: int
    name: str | None
    organisation: str | None
    client: Client | None = None
    token: str | None = None
    id: int | None = None


def _error(ack: dict) -> str:
    error = ack.get("error") or {}
    return f"{error.get('code')} ({error.get('message')})"


class Crowd:
    """Runs every live session of an event, in programme order, with N phones, the hosts and an organiser."""

    def __init__(self, url: str, sessions: list[dict], corpus: Corpus, participants: int, seed: int, cookie: str,
                 limits: Limits = Limits(), say: Callable[[str], None] = print):
        self.url, self.sessions, self.corpus, self.seed, self.cookie = url, sessions, corpus, seed, cookie
        self.say = say
        self.joins = Bucket(limits.joins_burst, limits.joins_per_minute)
        self.connects = Bucket(limits.connects_burst, limits.connects_per_minute)
        self.limits = limits
        people = random.Random(f"{seed}/people")
        self.phones = []
        for index in range(participants):
            named = people.random() < NAMED_SHARE
            name = f"{people.choice(corpus.names)} {people.choice('ABCDEFGHIJKLMNOPRSTUVW')}." if named else None
            organisation = people.choice(corpus.organisations) if named and people.random() < ORGANISATION_SHARE \
                else None
            self.phones.append(Phone(index, name, organisation))
        self.tallies: list[Tally] = []
        self.current: Tally | None = None
        self.general: list[str] = []

    def rng(self, *parts) -> random.Random:
        """Return the random source of one choice, the same for the same seed whatever the timing."""
        return random.Random("/".join(str(p) for p in (self.seed, *parts)))

    def problem(self, tally: Tally | None, message: str) -> None:
        """Record an error, in the session it happened in when known."""
        target = tally or self.current
        (target.errors if target is not None else self.general).append(message)

    async def run(self) -> list[Tally]:
        """Connect everyone, run each session in turn, disconnect; return what happened per session."""
        self.organiser = Client(self, "organiser")
        await self.organiser.connect({"Cookie": self.cookie})
        new = len(self.phones)
        if self.limits.joins_burst and new > self.limits.joins_burst:
            minutes = (new - self.limits.joins_burst) / max(self.limits.joins_per_minute, 1)
            self.say(f"Pacing the first joins: the server takes {self.limits.joins_burst} new phones at once, then "
                     f"{self.limits.joins_per_minute} a minute (about {minutes:.1f} min more). Raise "
                     "ROUAGES_LIMIT_JOINS_BURST and ROUAGES_LIMIT_JOINS_PER_MINUTE on the server (and here) to go "
                     "faster.")
        gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

        async def connect(phone: Phone) -> None:
            async with gate:
                phone.client = Client(self, f"participant {phone.index + 1}")
                await phone.client.connect()

        try:
            await asyncio.gather(*(connect(phone) for phone in self.phones))
            for session in self.sessions:
                tally = Tally(session["key"], session["title"], session["code"], session["workshop"])
                self.tallies.append(tally)
                self.current = tally
                started = time.monotonic()
                try:
                    await Run(self, tally).play()
                except RehearsalError as error:
                    tally.errors.append(str(error))
                tally.seconds = time.monotonic() - started
        finally:
            self.current = None
            await asyncio.gather(*(client.close() for client in [self.organiser, *(phone.client for phone in
                                                                                  self.phones if phone.client)]))
        return self.tallies


class Run:
    """One session played through: joins, hosts, the plan, every step, posts, the harvest and the vote."""

    def __init__(self, crowd: Crowd, tally: Tally):
        self.crowd, self.tally, self.code = crowd, tally, tally.code
        self.members: list[Phone] = []  # the phones that joined this session, in the crowd's order
        self.hosts: dict[str, tuple[Phone, Client, str]] = {}  # table key -> phone, host page connection, token
        self.plan: dict = {}
        self.is_open = False
        self.voted = self.harvested = False
        self.posted: list[tuple[int, dict]] = []  # (phone index, post as its ack returned it) in this session
        self.sources: dict[int, str] = {}  # post id -> the corpus text it was typed from: what a host knows it means

    def fail(self, message: str) -> None:
        """Record an error of this session."""
        self.tally.errors.append(message)

    async def organise(self, event: str, data: dict, required: bool = True) -> dict:
        """Send an organiser event; a refusal is an error, and stops the session when `required`."""
        ack = await self.crowd.organiser.call(event, {"code": self.code, **data})
        if not ack.get("ok"):
            message = f"organiser {event}: {_error(ack)}"
            if required:
                raise RehearsalError(message)
            self.fail(message)
        return ack

    async def step(self, phase: dict) -> None:
        """Move the session to a step; every phone must hear it."""
        marks = {phone.index: phone.client.count for phone in self.members}
        ack = await self.organise("phase_set", {"phase": phase["key"]})
        self.is_open = ack["is_open"]

        async def heard(phone: Phone) -> None:
            if await phone.client.wait_for("phase", lambda d: d.get("code") == self.code and
                                           (d.get("phase") or {}).get("key") == phase["key"],
                                           since=marks[phone.index]) is None:
                self.fail(f"participant {phone.index + 1} did not receive the step {phase['key']!r}")

        await asyncio.gather(*(heard(phone) for phone in self.members))

    async def play(self) -> None:
        """Run the session from its first step to its last."""
        info = self.info = (await self.organise("watch", {}))["session"]
        self.phases, self.tables, self.is_open = info["phases"], info["tables"], info["is_open"]
        workshop, actions = info["workshop"], info["actions"]
        if (info["phase"] or {}).get("key") != self.phases[0]["key"]:
            self.is_open = (await self.organise("phase_set", {"phase": self.phases[0]["key"]}))["is_open"]
        await self.join_everyone()
        try:
            if self.tables and "host" in actions:
                await self.pick_hosts(f"{workshop}.host")
            if "plan" in actions:
                self.plan = (await self.organise(f"{workshop}.plan", {}))["plan"]
            for number, phase in enumerate(self.phases):
                if number:
                    await self.step(phase)
                self.tally.steps += 1
                if phase["posting"]:
                    await self.post_round(phase)
                    if self.info.get("questions"):
                        await self.questions_round(phase)
                    elif self.hosts:
                        await self.answer_suggestions()
                await self.format_actions(phase)
                await self.console_actions(phase)
                if phase["key"] == "harvest" and self.hosts:
                    await self.harvest()
                if phase["key"] == "vote":
                    await self.vote()
            if self.hosts and not self.harvested:
                await self.harvest()
            # A session that takes no posts (a diagnostic) has nothing to vote on; questions rise by upvotes instead.
            if not self.voted and self.tally.posts and not self.info.get("questions"):
                if self.is_open:
                    await self.organise("session_open", {"open": False})
                await self.vote()
        finally:
            await asyncio.gather(*(page.close() for _phone, page, _token in self.hosts.values()))

    async def join(self, phone: Phone) -> None:
        """A phone joins, through a table's card or the session's code; new phones give their name, if any."""
        rng = self.crowd.rng(self.tally.key, "join", phone.index)
        code = rng.choice(self.tables)["code"] if self.tables and rng.random() < 0.5 else self.code
        data = {"code": code, "token": phone.token} if phone.token else \
            {"code": code, "name": phone.name, "organisation": phone.organisation}
        for attempt in range(RETRIES):
            if phone.token is None:
                await self.crowd.joins.take()
            ack = await phone.client.call("join", data)
            retry = (ack.get("error") or {}).get("retry_after")
            if ack.get("ok") or retry is None or attempt == RETRIES - 1:
                break
            self.tally.retried += 1
            await asyncio.sleep(retry)
        if not ack.get("ok"):
            self.fail(f"participant {phone.index + 1} join: {_error(ack)}")
            return
        participant = ack["participant"]
        if phone.token is not None and participant["token"] != phone.token:
            self.fail(f"participant {phone.index + 1} join: the server did not keep their token")
        phone.token, phone.id = participant["token"], participant["id"]
        self.tally.joined += 1
        self.tally.named += bool(participant["name"])
        self.members.append(phone)

    async def join_everyone(self) -> None:
        """Every phone joins; in the crowd's order where the order matters (new participants' ids, a plan's seats)."""
        ordered = "plan" in self.info["actions"]  # a plan seats people in the order they joined
        gate = asyncio.Semaphore(JOIN_CONCURRENCY)

        async def gated(phone: Phone) -> None:
            async with gate:
                await self.join(phone)

        if ordered:
            for phone in self.crowd.phones:
                await self.join(phone)
        else:
            for phone in [p for p in self.crowd.phones if p.token is None]:
                await self.join(phone)
            await asyncio.gather(*(gated(p) for p in self.crowd.phones if p.token is not None and p not in self.members))
        self.members.sort(key=lambda p: p.index)

    async def pick_hosts(self, action: str) -> None:
        """The organiser makes one participant each table's host; their phone gets the link and opens the host page."""
        rng = self.crowd.rng(self.tally.key, "hosts")
        # Hosts are mostly people who gave their name, as organisers pick them from the list of who joined.
        candidates = [p for p in self.members if p.name] + [p for p in self.members if not p.name]
        pool = candidates[:max(2 * len(self.tables), 1)]
        chosen = sorted(rng.sample(pool, min(len(self.tables), len(pool))), key=lambda p: p.index)
        for table, phone in zip(self.tables, chosen, strict=False):
            mark = phone.client.count
            await self.organise(action, {"table": table["key"], "participant": phone.id})
            link = await phone.client.wait_for("host", lambda d, key=table["key"]: d.get("code") == self.code
                                               and bool(d.get("url")) and (d.get("table") or {}).get("key") == key,
                                               since=mark)
            if link is None:
                self.fail(f"participant {phone.index + 1} did not receive the host link of {table['name']}")
                continue
            token = link["url"].rstrip("/").rsplit("/", 1)[-1]
            page = Client(self.crowd, f"host of {table['name']}")
            await page.connect()
            ack = await page.call("host_join", {"token": token})
            if not ack.get("ok"):
                self.fail(f"host of {table['name']} host_join: {_error(ack)}")
                await page.close()
                continue
            self.hosts[table["key"]] = (phone, page, token)

    async def post_round(self, phase: dict) -> None:
        """Open posting if it is closed, then every phone posts at its seat."""
        if not self.is_open:
            self.is_open = (await self.organise("session_open", {"open": True}))["is_open"]
        hosted = {phone.index: key for key, (phone, _page, _token) in self.hosts.items()}
        await asyncio.gather(*(self.post_ideas(p, phase, hosted.get(p.index)) for p in self.members))

    async def format_actions(self, phase: dict) -> None:
        """Every phone takes the participant actions the session's format rehearses in this step, if any."""
        fmt = registry().get(self.info["workshop"])
        if fmt is not None and fmt.participant_actions():
            await asyncio.gather(*(self.act(fmt, phone, phase) for phone in self.members))

    async def console_actions(self, phase: dict) -> None:
        """The facilitator writes on the console what the session's format rehearses in this step, if anything."""
        fmt = registry().get(self.info["workshop"])
        if fmt is None:
            return

        def lines(tags: dict) -> list[Text]:
            return [text for text in self.crowd.corpus.facilitator
                    if all(text.tags.get(k) == v for k, v in tags.items())]

        rng = self.crowd.rng(self.tally.key, phase["key"], "console")
        for name, data in fmt.rehearsal_console(self.info, phase["key"], lines, rng):
            ack = await self.crowd.organiser.call(f"{fmt.slug}.{name}", {"code": self.code, **data})
            if ack.get("ok"):
                self.tally.actions += 1
            elif (ack.get("error") or {}).get("code") == "stale_record":
                pass  # written by an earlier rehearsal of the same event: the facilitator's text stands
            else:
                self.fail(f"console {fmt.slug}.{name}: {_error(ack)}")

    async def act(self, fmt, phone: Phone, phase: dict) -> None:
        """Send a phone's actions, asking the format for more with the acks so far, until it has none."""
        rng = self.crowd.rng(self.tally.key, phase["key"], "actions", phone.index)
        acks: dict[str, dict] = {}
        for _turn in range(ACTION_TURNS):
            actions = fmt.rehearsal({**self.info, "acks": acks}, phase["key"], rng)
            if not actions:
                return
            for name, data in actions:
                for attempt in range(RETRIES):
                    ack = await phone.client.call(f"{fmt.slug}.{name}", {"code": self.code, **data})
                    retry = (ack.get("error") or {}).get("retry_after")
                    if ack.get("ok") or retry is None or attempt == RETRIES - 1:
                        break
                    self.tally.retried += 1
                    await asyncio.sleep(retry)
                acks[name] = ack
                error = ack.get("error") or {}
                if ack.get("ok"):
                    self.tally.actions += 1
                elif error.get("code") != "stale_record":  # a teammate's change came first: theirs stands, as on a phone
                    self.fail(f"participant {phone.index + 1} {fmt.slug}.{name}: {_error(ack)}")

    async def seat(self, phone: Phone, phase: dict, hosted: str | None, rng: random.Random) -> dict | None:
        """Ask where the phone is seated, or say where it sits (a host at their table, a few people elsewhere)."""
        label = f"participant {phone.index + 1}"
        stated = hosted or (rng.choice(self.tables)["key"] if rng.random() < ELSEWHERE_SHARE else None)
        ack = await phone.client.call("seat", {"code": self.code, **({"table": stated} if stated else {})})
        if not ack.get("ok"):
            self.fail(f"{label} seat: {_error(ack)}")
            return None
        seat = ack["seat"] or {}
        rounds = [p["key"] for p in self.phases if p["key"].startswith("round_")]
        planned = self.plan.get("assignments", {}).get(str(phone.id)) or []
        expected = stated or (planned[rounds.index(phase["key"])]
                              if phase["key"] in rounds and rounds.index(phase["key"]) < len(planned) else None)
        if expected and seat.get("key") != expected:
            self.fail(f"{label} is seated at {seat.get('key')!r} instead of {expected!r} "
                      f"({'where they said they sit' if stated else 'the plan'})")
        return seat or None

    async def post_ideas(self, phone: Phone, phase: dict, hosted: str | None) -> None:
        """Post one to three ideas from the corpus, with tags valid for the session, through the seat's table."""
        rng = self.crowd.rng(self.tally.key, phase["key"], phone.index)
        seat = await self.seat(phone, phase, hosted, rng) if self.tables else None
        code, fixed = (seat["code"], seat["tags"]) if seat else (self.code, {})
        frameworks = open_items(self.info["frameworks"], self.info.get("state") or {})
        candidates = fitting(self.crowd.corpus.ideas, frameworks, fixed)
        for text in rng.sample(candidates, min(len(candidates), rng.choice(IDEAS_PER_STEP))):
            data = {"code": code, "client_id": secrets.token_hex(16), "text": typed(text.text, rng),
                    "tags": tags_for(text, frameworks, fixed, rng)}
            for attempt in range(RETRIES):
                ack = await phone.client.call("post", data)
                error = ack.get("error") or {}
                if ack.get("ok") or attempt == RETRIES - 1 or \
                        error.get("code") not in ("too_many_posts", "storage_unavailable", "timeout"):
                    break
                self.tally.retried += error.get("code") == "too_many_posts"
                await asyncio.sleep(error.get("retry_after") or 1)  # the same client_id: stored once whatever happens
            if ack.get("ok"):
                self.tally.posts += 1
                self.posted.append((phone.index, ack["post"]))
                self.sources[ack["post"]["id"]] = text.text
            else:
                self.fail(f"participant {phone.index + 1} post: {_error(ack)}")

    async def paced(self, phone: Phone, event: str, data: dict) -> dict:
        """Send a phone's event, again after the wait a rate limit asks for."""
        for attempt in range(RETRIES):
            ack = await phone.client.call(event, data)
            retry = (ack.get("error") or {}).get("retry_after")
            if ack.get("ok") or retry is None or attempt == RETRIES - 1:
                return ack
            self.tally.retried += 1
            await asyncio.sleep(retry)
        return ack

    async def questions_round(self, phase: dict) -> None:
        """The moderator goes through the review queue, phones upvote others' questions, the top ones get answered."""
        rng = self.crowd.rng(self.tally.key, phase["key"], "review")
        for _index, post in [(i, p) for i, p in self.posted if p.get("held")]:
            event = "post_reject" if rng.random() < REJECT_SHARE else "post_approve"
            if (await self.organise(event, {"post_id": post["id"]}, required=False)).get("ok"):
                self.tally.reviewed += 1
                post["held"], post["hidden"] = False, event == "post_reject"
        visible = [(i, p) for i, p in self.posted if not p.get("held") and not p.get("hidden")]
        counts: dict[int, int] = {}

        async def upvote(phone: Phone) -> None:
            rng = self.crowd.rng(self.tally.key, phase["key"], "upvotes", phone.index)
            others = sorted(p["id"] for i, p in visible if i != phone.index)
            for post_id in rng.sample(others, min(len(others), rng.choice(UPVOTES_PER_STEP))):
                ack = await self.paced(phone, "upvote", {"code": self.code, "post_id": post_id, "on": True})
                if ack.get("ok") and rng.random() < WITHDRAW_SHARE:
                    self.tally.upvotes += 1
                    ack = await self.paced(phone, "upvote", {"code": self.code, "post_id": post_id, "on": False})
                if ack.get("ok"):
                    self.tally.upvotes += 1
                    counts[post_id] = ack["upvotes"]
                else:
                    self.fail(f"participant {phone.index + 1} upvote: {_error(ack)}")

        await asyncio.gather(*(upvote(phone) for phone in self.members))
        # The acks' last counts are a floor of each question's final count: enough to pick the risen ones.
        top = sorted(counts, key=lambda post_id: (-counts[post_id], post_id))
        for post_id in top[:ANSWERED]:
            await self.organise("question_answered", {"post_id": post_id, "answered": True}, required=False)
        if len(top) > ANSWERED:
            await self.organise("question_spotlight", {"post_id": top[ANSWERED], "on": True}, required=False)
        self.posted = [(i, p) for i, p in self.posted if p["id"] not in set(top[:ANSWERED])]

    async def answer_suggestions(self) -> None:
        """Each host answers a few of the grouping suggestions of their table, as someone who read both ideas would."""

        async def answer(key: str, page: Client, token: str) -> None:
            ack = await page.call("host_suggestions", {"token": token})
            if not ack.get("ok"):
                self.fail(f"host of {key} host_suggestions: {_error(ack)}")
                return
            for suggestion in ack["suggestions"][:SUGGESTIONS_PER_ROUND]:
                first, second = suggestion["post"]["id"], suggestion["other"]["id"]
                same = self.sources.get(first) == self.sources.get(second) is not None
                done = await page.call("host_group_answer", {"token": token, "post_id": first, "other_id": second,
                                                             "same": same})
                if done.get("ok") or (done.get("error") or {}).get("code") == "already_hidden":
                    self.tally.grouped += bool(done.get("ok"))
                else:
                    self.fail(f"host of {key} host_group_answer: {_error(done)}")

        await asyncio.gather(*(answer(key, page, token) for key, (_phone, page, token) in self.hosts.items()))

    async def harvest(self) -> None:
        """Each host writes, category by category, a few lines of what their table keeps."""
        self.harvested = True
        categories = self.info["harvest_categories"]
        keys = {c["key"] for c in categories}
        framework = next((fw["key"] for fw in self.info["frameworks"] if {i["key"] for i in fw["items"]} >= keys), None)

        async def write(key: str, page: Client, token: str) -> None:
            table = next(t for t in self.tables if t["key"] == key)
            for category in categories:
                rng = self.crowd.rng(self.tally.key, "harvest", key, category["key"])
                wanted = {**table["tags"], **({framework: category["key"]} if framework else {})}
                lines = fitting(self.crowd.corpus.harvest,
                                [{"key": k, "items": [{"key": v}]} for k, v in wanted.items()], wanted)
                chosen = rng.sample(lines, min(len(lines), rng.choice((2, 3, 3, 4))))
                ack = await page.call("harvest_save", {"token": token, "category": category["key"],
                                                       "text": "\n".join(t.text for t in chosen)})
                if ack.get("ok"):
                    self.tally.harvests += 1
                else:
                    self.fail(f"host of {table['name']} harvest_save {category['key']}: {_error(ack)}")

        await asyncio.gather(*(write(key, page, token) for key, (_phone, page, token) in self.hosts.items()))

    async def vote(self) -> None:
        """The organiser opens the dot vote, the phones spend their dots, the organiser closes and reveals it."""
        self.voted = True
        rules = self.info["vote"]
        marks = {phone.index: phone.client.count for phone in self.members}
        opened = await self.organise("vote_open", {"budget": rules["budget"], "max_per_post": rules["max_per_post"]},
                                     required=False)
        if not opened.get("ok"):
            return

        async def dots(phone: Phone) -> None:
            rng = self.crowd.rng(self.tally.key, "vote", phone.index)
            if rng.random() < ABSTAIN_SHARE:
                return
            state = await phone.client.wait_for("vote_state", lambda d: d.get("code") == self.code and
                                                d.get("state") == "open" and "posts" in d, since=marks[phone.index])
            if state is None:
                self.fail(f"participant {phone.index + 1} did not receive the opening of the vote")
                return
            ideas = sorted(state["posts"])
            allocation: dict[str, int] = {}
            room = min(rules["budget"], rules["max_per_post"] * len(ideas))
            while sum(allocation.values()) < room:
                post = str(rng.choice(ideas))
                if allocation.get(post, 0) < rules["max_per_post"]:
                    allocation[post] = allocation.get(post, 0) + 1
            ack = await phone.client.call("vote", {"code": self.code, "dots": allocation})
            if ack.get("ok"):
                self.tally.votes += 1
            else:
                self.fail(f"participant {phone.index + 1} vote: {_error(ack)}")

        await asyncio.gather(*(dots(phone) for phone in self.members))
        await self.organise("vote_close", {}, required=False)
        await self.organise("vote_reveal", {}, required=False)
