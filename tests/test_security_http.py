"""Sign-in throttling, trusted proxies, the Host check, security headers and the demo account, over HTTP."""

from __future__ import annotations

import html
import re
import time

import pytest
from itsdangerous import URLSafeTimedSerializer

from app import create_app
from app.extensions import db
from app.services.accounts import DEMO_EMAIL, add_organiser, find_organiser, set_password
from conftest import base_config

WRONG = "Adresse e-mail ou mot de passe incorrect."
TOO_MANY = "Trop de tentatives de connexion. Réessayez dans {} minutes."
DEVICE = "rouages_device"
DEMO_REFUSED = ("Le compte de démonstration ne fonctionne que pendant « rouages demo » : créez un compte "
                "d’organisateur avec « rouages user add ».")


def make_app(tmp_path, databases, migrated_db, **overrides):
    """An application on its own copy of the migrated database, with settings changed."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    config = base_config(tmp_path, databases.copy_url(migrated_db, tmp_path))
    return create_app({**config, **overrides})


@pytest.fixture
def apps(tmp_path, databases, migrated_db):
    """Build applications with changed settings; their engines are closed at the end."""
    made = []

    def build(**overrides):
        made.append(make_app(tmp_path / str(len(made)), databases, migrated_db, **overrides))
        return made[-1]

    yield build
    for application in made:
        with application.app_context():
            db.engine.dispose()


def sign_in(http, email, password, address="192.0.2.1", **headers):
    """Post the real sign-in form from a client address; return the response."""
    environ = {"REMOTE_ADDR": address}
    page = http.get("/login", environ_base=environ, headers=headers).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]
    return http.post("/login", data={"email": email, "password": password, "csrf_token": token},
                     environ_base=environ, headers=headers)


def sign_out(http):
    """Sign out through the console's form."""
    page = http.get("/console/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1]
    assert http.post("/logout", data={"csrf_token": token}).status_code == 302


def device_browser(app, email="orga@example.org", password="correct-horse-battery"):
    """A browser that signed in to an account from the room's address, then signed out: it keeps its device cookie."""
    http = app.test_client()
    assert sign_in(http, email, password).status_code == 302
    sign_out(http)
    assert http.get("/console/").status_code == 302
    return http


def flashed(response) -> list[str]:
    """Return the messages flashed on a page."""
    return [html.unescape(m) for m in re.findall(r'<p class="flash[^"]*" role="status">([^<]*)</p>',
                                                 response.get_data(as_text=True))]


def test_an_unknown_address_gets_the_same_answer_as_a_wrong_password(client, organiser):
    wrong = sign_in(client, organiser, "not-the-password")
    unknown = sign_in(client, "nobody@example.org", "not-the-password")
    assert (wrong.status_code, flashed(wrong)) == (unknown.status_code, flashed(unknown)) == (401, [WRONG])


def test_an_address_is_refused_after_ten_failures_with_a_retry_after(client, organiser):
    for n in range(10):  # ten accounts, so that only the address limit is reached
        assert sign_in(client, f"guess{n}@example.org", "not-the-password").status_code == 401
    refused = sign_in(client, organiser, "correct-horse-battery")
    assert refused.status_code == 429
    assert flashed(refused) == [TOO_MANY.format(5)]
    assert 290 <= int(refused.headers["Retry-After"]) <= 300
    # The organiser, from another address, is not locked out by someone else's guessing.
    assert sign_in(client, organiser, "correct-horse-battery", address="192.0.2.2").status_code == 302


def test_an_account_is_refused_after_five_failures_from_any_address(client, organiser):
    for n in range(5):
        assert sign_in(client, organiser, "not-the-password", address=f"198.51.100.{n}").status_code == 401
    refused = sign_in(client, organiser, "correct-horse-battery", address="198.51.100.99")
    assert refused.status_code == 429 and flashed(refused) == [TOO_MANY.format(5)]
    assert refused.headers["Retry-After"]
    # An address without an account is throttled the same, so the limit reveals nothing either.
    for n in range(5):
        assert sign_in(client, "nobody@example.org", "not-the-password", address=f"198.51.100.{n}").status_code == 401
    assert sign_in(client, "nobody@example.org", "x" * 12, address="198.51.100.99").status_code == 429


def test_the_account_lock_lifts_when_the_window_has_passed(apps):
    app = apps(SIGNIN_WINDOW_SECONDS=2)
    with app.app_context():
        add_organiser("orga@example.org", "correct-horse-battery")
    http = app.test_client()
    for n in range(5):
        sign_in(http, "orga@example.org", "not-the-password", address=f"198.51.100.{n}")
    refused = sign_in(http, "orga@example.org", "correct-horse-battery", address="198.51.100.50")
    assert refused.status_code == 429 and refused.headers["Retry-After"] in ("1", "2")
    assert flashed(refused) == ["Trop de tentatives de connexion. Réessayez dans 1 minute."]
    time.sleep(2.1)
    assert sign_in(http, "orga@example.org", "correct-horse-battery", address="198.51.100.50").status_code == 302


def test_a_successful_sign_in_neither_counts_nor_clears_the_failures_of_its_address(client, organiser):
    for n in range(9):
        assert sign_in(client, f"guess{n}@example.org", "not-the-password").status_code == 401
    assert sign_in(client, organiser, "correct-horse-battery").status_code == 302
    assert sign_in(client, "guess9@example.org", "not-the-password").status_code == 401
    assert sign_in(client, "guess10@example.org", "not-the-password").status_code == 429


def test_an_organiser_who_signed_in_before_is_not_locked_out_by_guesses_from_the_room_address(app, organiser):
    organiser_browser = device_browser(app)
    stranger = app.test_client()  # a participant's phone, behind the same address
    for n in range(10):
        assert sign_in(stranger, f"guess{n}@example.org", "not-the-password").status_code == 401
    assert sign_in(stranger, organiser, "correct-horse-battery").status_code == 429
    assert sign_in(app.test_client(), organiser, "correct-horse-battery").status_code == 429
    assert sign_in(organiser_browser, organiser, "correct-horse-battery").status_code == 302
    assert organiser_browser.get("/console/").status_code == 200


def test_an_organiser_who_signed_in_before_is_not_locked_out_by_guesses_on_their_account(app, organiser):
    organiser_browser = device_browser(app)
    for n in range(5):
        assert sign_in(app.test_client(), organiser, "not-the-password", address=f"198.51.100.{n}").status_code == 401
    assert sign_in(app.test_client(), organiser, "correct-horse-battery", address="198.51.100.99").status_code == 429
    assert sign_in(app.test_client(), organiser, "correct-horse-battery").status_code == 429
    assert sign_in(organiser_browser, organiser, "correct-horse-battery").status_code == 302


def test_a_device_cookie_exempts_only_its_account_until_the_password_changes(app, organiser):
    with app.app_context():
        add_organiser("other@example.org", "another-long-password")
    own = device_browser(app)
    other = device_browser(app, "other@example.org", "another-long-password")
    # The same claims signed with another key, as someone who read a cookie but has not the server's secret.
    _, claims = URLSafeTimedSerializer("x", salt="rouages.device").loads_unsafe(own.get_cookie(DEVICE, path="/login").value)
    forged = app.test_client()
    forged.set_cookie(DEVICE, URLSafeTimedSerializer("another-key", salt="rouages.device").dumps(claims), path="/login")
    for n in range(5):
        assert sign_in(app.test_client(), organiser, "not-the-password", address=f"198.51.100.{n}").status_code == 401
    assert sign_in(other, organiser, "correct-horse-battery").status_code == 429
    assert sign_in(forged, organiser, "correct-horse-battery").status_code == 429
    assert sign_in(own, organiser, "correct-horse-battery").status_code == 302
    with app.app_context():
        set_password(find_organiser(organiser), "a-brand-new-password")
    assert sign_in(own, organiser, "a-brand-new-password").status_code == 429


def test_a_browser_with_a_device_cookie_has_a_bound_of_its_own(app, organiser):
    browser = device_browser(app)
    for _ in range(10):
        assert sign_in(browser, organiser, "not-the-password").status_code == 401
    refused = sign_in(browser, organiser, "correct-horse-battery")
    assert refused.status_code == 429 and flashed(refused) == [TOO_MANY.format(5)]
    # Its failures are counted on it alone: the address and the account stay open to everyone else.
    assert sign_in(app.test_client(), organiser, "correct-horse-battery").status_code == 302


@pytest.mark.parametrize("secure", [False, True])
def test_the_device_cookie_lasts_a_year_and_goes_to_the_sign_in_page_only(apps, secure):
    app = apps(SESSION_COOKIE_SECURE=secure)
    with app.app_context():
        add_organiser("orga@example.org", "correct-horse-battery")
    response = sign_in(app.test_client(), "orga@example.org", "correct-horse-battery")
    [cookie] = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{DEVICE}=")]
    attributes = {a.strip() for a in cookie.split(";")[1:]}
    assert {"HttpOnly", "SameSite=Lax", "Path=/login", "Max-Age=31536000"} <= attributes
    assert ("Secure" in attributes) == secure


def test_limits_set_to_zero_are_off(apps):
    app = apps(SIGNIN_FAILURES_PER_ADDRESS=0, SIGNIN_FAILURES_PER_ACCOUNT=0)
    http = app.test_client()
    assert {sign_in(http, "nobody@example.org", "not-the-password").status_code for _ in range(12)} == {401}


def test_forwarded_addresses_count_only_behind_a_trusted_proxy(apps):
    direct, proxied = apps().test_client(), apps(TRUSTED_PROXIES=1).test_client()
    for http in (direct, proxied):
        for n in range(10):
            sign_in(http, f"guess{n}@example.org", "not-the-password", address="127.0.0.1",
                    **{"X-Forwarded-For": "203.0.113.1"})
    # Directly, X-Forwarded-For is whatever the client says: the failures are the connection's address's.
    assert sign_in(direct, "guess@example.org", "not-the-password", address="127.0.0.1",
                   **{"X-Forwarded-For": "203.0.113.2"}).status_code == 429
    # Behind one proxy, the address it forwards is the client's: another client is not throttled.
    assert sign_in(proxied, "guess@example.org", "not-the-password", address="127.0.0.1",
                   **{"X-Forwarded-For": "203.0.113.2"}).status_code == 401
    assert sign_in(proxied, "guess@example.org", "not-the-password", address="127.0.0.1",
                   **{"X-Forwarded-For": "203.0.113.1"}).status_code == 429


POLLING = "/socket.io/?EIO=4&transport=polling"


@pytest.mark.parametrize("path", ["/", "/login", "/healthz", POLLING])
def test_unknown_hosts_are_refused_pages_and_socket_io_alike(client, path):
    refused = client.get(path, headers={"Host": "rebound.example.com"})
    assert refused.status_code == 400
    assert refused.get_data(as_text=True) == "Bad Request: this server does not answer to this host name.\n"
    assert refused.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1:5999", "127.0.0.1:8080", "[::1]:5000", "LOCALHOST."])
def test_the_public_host_and_loopback_names_are_answered_on_any_port(client, host):
    assert client.get("/healthz", headers={"Host": host}).status_code == 200


def test_allowed_hosts_are_configurable(apps):
    named = apps(ALLOWED_HOSTS=["rouages.example.org"]).test_client()
    assert named.get("/healthz", headers={"Host": "rouages.example.org"}).status_code == 200
    assert named.get("/healthz", headers={"Host": "localhost"}).status_code == 200
    assert named.get("/healthz", headers={"Host": "127.0.0.1:5999"}).status_code == 200
    assert named.get("/healthz", headers={"Host": "other.example.org"}).status_code == 400
    anyone = apps(ALLOWED_HOSTS=["*"]).test_client()
    assert anyone.get("/healthz", headers={"Host": "other.example.org"}).status_code == 200


def test_without_a_public_url_the_lan_addresses_are_answered(apps):
    from app.services.network import lan_addresses

    http = apps(PUBLIC_URL=None).test_client()
    for address in lan_addresses():
        assert http.get("/healthz", headers={"Host": f"{address}:5000"}).status_code == 200
    assert http.get("/healthz", headers={"Host": "rebound.example.com"}).status_code == 400


def test_socket_io_polling_answers_carry_the_security_headers(client):
    polling = client.get(POLLING)
    assert polling.status_code == 200 and polling.get_data(as_text=True).startswith("0{")
    assert polling.headers["X-Content-Type-Options"] == "nosniff"
    assert polling.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert polling.headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in polling.headers
    assert client.get("/api/sessions/ZZZZZZ").headers["X-Content-Type-Options"] == "nosniff"


def test_strict_transport_security_is_sent_with_secure_cookies(apps):
    http = apps(SESSION_COOKIE_SECURE=True).test_client()
    for path in ("/", POLLING):
        assert http.get(path).headers["Strict-Transport-Security"] == "max-age=31536000"


def test_a_page_keeps_its_own_headers_and_gets_each_once(client):
    page = client.get("/login")
    assert page.headers.getlist("Content-Security-Policy") == [page.headers["Content-Security-Policy"]]
    assert len(page.headers.getlist("X-Content-Type-Options")) == 1


def test_the_demo_account_signs_in_only_under_the_demo(app):
    with app.app_context():
        add_organiser(DEMO_EMAIL, "a-demo-password", "Demo")
    served = app.test_client()
    refused = sign_in(served, DEMO_EMAIL, "a-demo-password")
    assert refused.status_code == 403 and flashed(refused) == [DEMO_REFUSED]
    # The same database under `rouages demo`: the account works; its session is not honoured by `serve` later.
    demo = create_app({**base_config(app.config["DATA_DIR"], app.config["SQLALCHEMY_DATABASE_URI"]), "DEMO": True})
    try:
        demo_http = demo.test_client()
        assert sign_in(demo_http, DEMO_EMAIL, "a-demo-password").status_code == 302
        assert demo_http.get("/console/").status_code == 200
        served.set_cookie("session", demo_http.get_cookie("session").value)
        assert served.get("/console/").status_code == 302
    finally:
        with demo.app_context():
            db.engine.dispose()
