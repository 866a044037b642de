"""The login gate: off by default; on with a users file (bcrypt hashes, roles) and a cookie key from the
environment. Wrong password, missing role, expired and forged sessions, roles deciding pages."""

from __future__ import annotations

import time
from pathlib import Path

import bcrypt
import pytest
from streamlit.testing.v1 import AppTest

from apps import auth
from tests.apps.conftest import APP

COOKIE_KEY = "k" * 32
PASSWORDS = {"erin": "erin-secret-1", "adam": "adam-secret-2", "nora": "nora-secret-3", "quinn": "quinn-secret-4"}
ROLES = {"erin": ["executive"], "adam": ["admin"], "nora": [], "quinn": ["quality"]}


def users_file(tmp_path: Path, *, session_minutes: float = 60, suffix: str = ".yaml") -> Path:
    entries = {name: {"name": name.title(), "roles": ROLES[name],
                      "password_hash": bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode()}
               for name, password in PASSWORDS.items()}
    path = tmp_path / f"users{suffix}"
    if suffix == ".toml":
        lines = [f"session_minutes = {session_minutes}"]
        for name, entry in entries.items():
            roles = ", ".join(f'"{r}"' for r in entry["roles"])
            lines += [f"[users.{name}]", f'name = "{entry["name"]}"', f'password_hash = "{entry["password_hash"]}"',
                      f"roles = [{roles}]"]
        path.write_text("\n".join(lines) + "\n")
    else:
        import yaml

        path.write_text(yaml.safe_dump({"session_minutes": session_minutes, "users": entries}))
    return path


def log_in(username: str, password: str) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.run()
    assert at.title[0].value == "Plantlake: log in"
    return submit(at, username, password)


def submit(at: AppTest, username: str, password: str) -> AppTest:
    at.text_input(key="login_user").input(username)
    at.text_input(key="login_password").input(password)
    next(b for b in at.button if b.label == "Log in").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def page_title(at: AppTest, page: str) -> str:
    at.switch_page(f"views/{page}.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at.title[0].value


def test_login_is_off_by_default(app_lake, app_env) -> None:
    app_env(app_lake)
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.run()
    assert at.title[0].value == "Overview"
    assert page_title(at, "health") == "Data health"


@pytest.mark.parametrize("suffix", [".yaml", ".toml"])
def test_a_wrong_password_is_refused(app_lake, app_env, tmp_path: Path, suffix: str,
                                     capfd: pytest.CaptureFixture[str]) -> None:
    app_env(app_lake, users_file(tmp_path, suffix=suffix), COOKIE_KEY)
    at = log_in("erin", "not-her-password")
    assert [e.value for e in at.error] == ["Wrong user name or password."]
    assert at.title[0].value == "Plantlake: log in"
    at = submit(at, "mallory", "anything")
    assert [e.value for e in at.error] == ["Wrong user name or password."]
    captured = capfd.readouterr()
    for secret in (*PASSWORDS.values(), COOKIE_KEY, "not-her-password"):
        assert secret not in captured.out + captured.err


def test_an_executive_does_not_see_the_admin_pages_and_an_admin_does(app_lake, app_env, tmp_path: Path) -> None:
    app_env(app_lake, users_file(tmp_path), COOKIE_KEY)
    at = log_in("erin", PASSWORDS["erin"])
    assert at.title[0].value == "Overview"
    assert page_title(at, "equipment") == "Equipment"
    assert page_title(at, "inventory") == "Inventory"
    for hidden in ("health", "traceability", "risk"):  # not registered with st.navigation for her
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(f"views/{hidden}.py")
    admin = log_in("adam", PASSWORDS["adam"])
    assert page_title(admin, "health") == "Data health"
    quality = log_in("quinn", PASSWORDS["quinn"])
    assert page_title(quality, "traceability") == "Traceability"
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        quality.switch_page("views/equipment.py")


def test_a_user_without_a_role_sees_no_page(app_lake, app_env, tmp_path: Path) -> None:
    app_env(app_lake, users_file(tmp_path), COOKIE_KEY)
    at = log_in("nora", PASSWORDS["nora"])
    assert [e.value for e in at.error] == ["Your account has no role that sees a page; ask an admin to give you one."]
    assert not at.metric


def test_an_expired_session_asks_to_log_in_again(app_lake, app_env, tmp_path: Path) -> None:
    app_env(app_lake, users_file(tmp_path, session_minutes=1 / 60), COOKIE_KEY)  # one second
    at = log_in("erin", PASSWORDS["erin"])
    assert at.title[0].value == "Overview"
    time.sleep(1.2)
    at.run()
    assert at.title[0].value == "Plantlake: log in"
    assert [w.value for w in at.warning] == ["Your session expired; log in again."]


def test_a_forged_session_is_refused(app_lake, app_env, tmp_path: Path) -> None:
    app_env(app_lake, users_file(tmp_path), COOKIE_KEY)
    at = log_in("erin", PASSWORDS["erin"])
    forged = dict(at.session_state["auth_session"], username="adam")
    at.session_state["auth_session"] = forged
    at.run()
    assert at.title[0].value == "Plantlake: log in"
    assert [w.value for w in at.warning] == ["Your session is not valid any more; log in again."]


def test_login_without_a_cookie_key_is_a_clear_error(app_lake, app_env, tmp_path: Path) -> None:
    app_env(app_lake, users_file(tmp_path), None)
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.run()
    assert not at.exception
    assert "PLANTLAKE_APP_COOKIE_KEY is unset" in at.error[0].value


def test_roles_decide_pages() -> None:
    def user(*roles: str) -> auth.User:
        return auth.User("u", "U", b"", roles)

    assert auth.allowed_pages(None) == list(auth.PAGE_ROLES)
    assert auth.allowed_pages(user("admin")) == list(auth.PAGE_ROLES)
    assert auth.allowed_pages(user("executive")) == ["overview", "equipment", "inventory"]
    assert auth.allowed_pages(user("quality")) == ["overview", "traceability", "risk"]
    assert auth.allowed_pages(user("maintenance")) == ["overview", "equipment", "risk"]
    assert auth.allowed_pages(user("logistics")) == ["overview", "traceability", "inventory"]
    assert auth.allowed_pages(user()) == []


def test_a_users_file_with_an_unknown_role_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "users.yaml"
    path.write_text("users:\n  x:\n    password_hash: '$2b$04$abc'\n    roles: [superuser]\n")
    monkeypatch.setenv(auth.USERS_ENV, str(path))
    monkeypatch.setenv(auth.COOKIE_KEY_ENV, COOKIE_KEY)
    with pytest.raises(auth.AuthConfigError, match="unknown role"):
        auth.load_config()


def test_the_session_cookie_carries_the_signed_session_and_nothing_else_passes(tmp_path: Path,
                                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(auth.USERS_ENV, str(users_file(tmp_path)))
    monkeypatch.setenv(auth.COOKIE_KEY_ENV, COOKIE_KEY)
    config = auth.load_config()
    session = auth.new_session(config, config.users["erin"])
    value = auth.session_cookie(session)
    assert set(value) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert PASSWORDS["erin"] not in value and COOKIE_KEY not in value
    user, why = auth.session_user(config, auth.session_from_cookie(value))
    assert user is not None and user.username == "erin" and why is None
    as_admin = auth.session_cookie({**session, "username": "adam"})  # the signature is erin's
    not_valid = "Your session is not valid any more; log in again."
    assert auth.session_user(config, auth.session_from_cookie(as_admin)) == (None, not_valid)
    for garbage in ("x", "%%%", auth.session_cookie({**session, "expires_at": "soon"}), "e30"):  # e30: {}
        assert auth.session_user(config, auth.session_from_cookie(garbage)) == (None, not_valid)
    assert auth.session_from_cookie(None) is None and auth.session_from_cookie("") is None
    expired = auth.new_session(config, config.users["erin"], now=time.time() - 2 * config.session_seconds)
    assert auth.session_user(config, auth.session_from_cookie(auth.session_cookie(expired)))[1] == (
        "Your session expired; log in again.")
    script = auth.cookie_script(value, 3600)
    assert f"{auth.SESSION_COOKIE}={value}; path=/; max-age=3600; SameSite=Strict" in script
    assert "max-age=0" in auth.cookie_script("", -5)
    with pytest.raises(ValueError):
        auth.cookie_script("x'; alert(1); '", 60)


OIDC_SECRETS = {"redirect_uri": "http://127.0.0.1:8501/oauth2callback", "cookie_secret": "s" * 32,
                "client_id": "plantlake", "client_secret": "not-a-real-secret",
                "server_metadata_url": "https://idp.plant.example/.well-known/openid-configuration"}


def oidc_users_file(tmp_path: Path) -> Path:
    import yaml

    path = tmp_path / "users.yaml"
    path.write_text(yaml.safe_dump({"users": {
        "grace": {"name": "Grace", "email": "Grace@Plant.example", "roles": ["quality"]},
        "erin": {"name": "Erin", "roles": ["executive"],
                 "password_hash": bcrypt.hashpw(PASSWORDS["erin"].encode(), bcrypt.gensalt(rounds=4)).decode()}}}))
    return path


def oidc_app(user: dict) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.secrets["auth"] = OIDC_SECRETS
    at.user = user
    return at.run()


def test_with_an_oidc_provider_the_login_page_offers_it_and_its_email_decides_the_roles(
        app_lake, app_env, tmp_path: Path) -> None:
    app_env(app_lake, oidc_users_file(tmp_path), COOKIE_KEY)
    logged_out = oidc_app({"is_logged_in": False})
    assert logged_out.title[0].value == "Plantlake: log in"
    assert [b.label for b in logged_out.button if b.key == "oidc_login"] == ["Log in with your company account"]
    grace = oidc_app({"is_logged_in": True, "email": "grace@plant.example", "email_verified": True})
    assert not grace.exception, [e.value for e in grace.exception]
    assert page_title(grace, "traceability") == "Traceability"
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        grace.switch_page("views/equipment.py")  # quality does not see equipment
    stranger = oidc_app({"is_logged_in": True, "email": "eve@elsewhere.example"})
    assert [e.value for e in stranger.error] == [
        "eve@elsewhere.example is not in the app's users file; ask an admin to add it with a role."]
    assert not stranger.metric
    unverified = oidc_app({"is_logged_in": True, "email": "grace@plant.example", "email_verified": False})
    assert [e.value for e in unverified.error] == [
        "The provider has not verified grace@plant.example; the app accepts verified addresses only."]
    assert not unverified.metric
    password = oidc_app({"is_logged_in": False})  # the password form still works beside the provider
    assert submit(password, "erin", PASSWORDS["erin"]).title[0].value == "Overview"
    assert submit(oidc_app({"is_logged_in": False}), "grace", "").error[0].value == "Wrong user name or password."
