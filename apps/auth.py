"""Login and roles: off unless `PLANTLAKE_APP_USERS` names a users file.

The users file (YAML, or TOML by its `.toml` suffix) lives outside the repository:

    session_minutes: 480            # optional; a session expires this long after login
    users:
      ada:
        name: Ada Lovelace
        password_hash: "$2b$12$..."  # bcrypt; `python -m apps.auth hash-password` makes one
        roles: [executive]
      grace:
        email: grace@plant.example     # logs in through the OIDC provider (no password here)
        roles: [quality]

With an OIDC provider configured in Streamlit's secrets (`[auth]` in `.streamlit/secrets.toml`: redirect_uri,
cookie_secret, client_id, client_secret, server_metadata_url), the login page also offers `st.login`; the
provider's verified e-mail address finds the user, and so the roles, in the users file. An address the file does
not list gets no page.

Roles decide the pages (`PAGE_ROLES`); `admin` sees every page. The session is signed with HMAC-SHA256 under
`PLANTLAKE_APP_COOKIE_KEY` (required when login is on, never stored in the repository), so a session that was
not made by this login, or is past its expiry, is refused. Passwords and keys are never logged or shown.

The session is kept in the browser tab's Streamlit session and in a cookie (`SESSION_COOKIE`: the signed session
as base64url JSON, `SameSite=Strict`, expiring with the session), so a reload or a new tab of the same browser
stays logged in until the session expires or the user logs out. The cookie holds no password and no key; it is
written by the page's script (Streamlit sets no cookies from Python), so it cannot be `HttpOnly`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import sys
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bcrypt
import yaml

USERS_ENV = "PLANTLAKE_APP_USERS"
COOKIE_KEY_ENV = "PLANTLAKE_APP_COOKIE_KEY"
SESSION_COOKIE = "plantlake_session"
ROLES = ("executive", "quality", "maintenance", "logistics", "admin")
# page key -> roles that see it (admin sees everything)
# The app's pages, in the sidebar's order: key (its URL path): (title, icon)
PAGES = {  # key: (title, icon)
    "overview": ("Overview", ":material/dashboard:"),
    "equipment": ("Equipment", ":material/precision_manufacturing:"),
    "traceability": ("Traceability", ":material/account_tree:"),
    "inventory": ("Inventory", ":material/inventory_2:"),
    "risk": ("Maintenance and quality risk", ":material/warning:"),
    "health": ("Data health", ":material/monitor_heart:"),
}
PAGE_ROLES: dict[str, tuple[str, ...]] = {
    "overview": ("executive", "quality", "maintenance", "logistics"),
    "equipment": ("executive", "maintenance"),
    "traceability": ("quality", "logistics"),
    "inventory": ("executive", "logistics"),
    "risk": ("maintenance", "quality"),
    "health": (),
}
DEFAULT_SESSION_MINUTES = 480


class AuthConfigError(Exception):
    """The login is configured but cannot work (one sentence saying what to fix)."""


@dataclass(frozen=True)
class User:
    username: str
    name: str
    password_hash: bytes  # empty for a user who logs in only through the OIDC provider
    roles: tuple[str, ...]
    email: str = ""


@dataclass(frozen=True)
class AuthConfig:
    users: dict[str, User]
    cookie_key: bytes
    session_seconds: int


def login_enabled() -> bool:
    return bool(os.environ.get(USERS_ENV))


def load_config() -> AuthConfig:
    """The users file named by PLANTLAKE_APP_USERS and the key from PLANTLAKE_APP_COOKIE_KEY."""
    path = Path(os.environ[USERS_ENV])
    key = os.environ.get(COOKIE_KEY_ENV, "")
    if len(key) < 16:
        raise AuthConfigError(f"login is on ({USERS_ENV} is set) but {COOKIE_KEY_ENV} is unset or shorter than "
                              "16 characters; set it to a long random secret")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise AuthConfigError(f"cannot read the users file {path}: {error.strerror}") from None
    try:
        raw = tomllib.loads(text) if path.suffix == ".toml" else yaml.safe_load(text)
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as error:
        raise AuthConfigError(f"the users file {path} is not valid {path.suffix.lstrip('.') or 'YAML'}: "
                              f"{str(error).splitlines()[0]}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("users"), dict) or not raw["users"]:
        raise AuthConfigError(f"the users file {path} has no `users` table")
    users = {}
    for username, entry in raw["users"].items():
        if not isinstance(entry, dict) or not (entry.get("password_hash") or entry.get("email")):
            raise AuthConfigError(f"user {username!r} in {path} has neither a password_hash nor an email (OIDC)")
        roles = tuple(entry.get("roles") or ())
        unknown = [role for role in roles if role not in ROLES]
        if unknown:
            raise AuthConfigError(f"user {username!r} in {path} has unknown role(s) {', '.join(unknown)}; "
                                  f"roles are {', '.join(ROLES)}")
        users[str(username)] = User(str(username), str(entry.get("name") or username),
                                    str(entry.get("password_hash") or "").encode(), roles,
                                    str(entry.get("email") or "").strip().lower())
    minutes = raw.get("session_minutes", DEFAULT_SESSION_MINUTES)
    return AuthConfig(users, key.encode(), int(float(minutes) * 60))


def check_password(config: AuthConfig, username: str, password: str) -> User | None:
    """The user when the password matches its bcrypt hash, else None (same work for an unknown user)."""
    user = config.users.get(username)
    if user is not None and not user.password_hash:  # an OIDC-only user has no password to match
        user = None
    candidate = user.password_hash if user else bcrypt.hashpw(b"-", bcrypt.gensalt(rounds=4))
    try:
        matches = bcrypt.checkpw(password.encode(), candidate)
    except ValueError:
        return None
    return user if user and matches else None


def user_by_email(config: AuthConfig, email: str | None) -> User | None:
    """The users file's user with this e-mail address (case-insensitive), for a login through the OIDC provider."""
    wanted = (email or "").strip().lower()
    return next((user for user in config.users.values() if wanted and user.email == wanted), None)


def oidc_configured(secrets: Any) -> bool:
    """True when Streamlit's secrets hold an `[auth]` section for `st.login` (no secrets file: False)."""
    try:
        return "auth" in secrets and bool(secrets["auth"])
    except (FileNotFoundError, KeyError, AttributeError):
        return False


def _signature(config: AuthConfig, username: str, expires_at: float) -> str:
    message = f"{username}|{expires_at:.0f}".encode()
    return hmac.new(config.cookie_key, message, hashlib.sha256).hexdigest()


def new_session(config: AuthConfig, user: User, *, now: float | None = None) -> dict[str, Any]:
    expires_at = (now if now is not None else time.time()) + config.session_seconds
    return {"username": user.username, "expires_at": expires_at,
            "signature": _signature(config, user.username, expires_at)}


def session_user(config: AuthConfig, session: dict[str, Any] | None, *,
                 now: float | None = None) -> tuple[User | None, str | None]:
    """(the user, None) for a valid session; (None, why) for an expired, forged or stale one; (None, None)
    when there is none."""
    if not session:
        return None, None
    username, expires_at = session.get("username", ""), float(session.get("expires_at", 0))
    expected = _signature(config, username, expires_at)
    if not hmac.compare_digest(expected, str(session.get("signature", ""))) or username not in config.users:
        return None, "Your session is not valid any more; log in again."
    if (now if now is not None else time.time()) >= expires_at:
        return None, "Your session expired; log in again."
    return config.users[username], None


def session_cookie(session: dict[str, Any]) -> str:
    """The session as a cookie value: base64url of its JSON (user name, expiry, signature), so only
    [A-Za-z0-9_-]: safe inside a cookie and a script."""
    text = json.dumps({k: session[k] for k in ("username", "expires_at", "signature")}, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def session_from_cookie(value: str | None) -> dict[str, Any] | None:
    """The session a cookie value holds; None without a cookie; a session that fails its signature check for a
    value that is not one (so the user is told the session is not valid, never shown an error)."""
    if not value:
        return None
    try:
        session = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
        username, expires_at, signature = session["username"], float(session["expires_at"]), session["signature"]
        if not isinstance(username, str) or not isinstance(signature, str):
            raise TypeError(username)
    except (ValueError, TypeError, KeyError, binascii.Error, UnicodeDecodeError):
        return {"username": "", "expires_at": 0.0, "signature": "not a session"}
    return {"username": username, "expires_at": expires_at, "signature": signature}


def cookie_script(value: str, max_age_s: float) -> str:
    """A script that stores `value` in the session cookie for `max_age_s` seconds (0: deletes it)."""
    if not all(c.isalnum() or c in "-_" for c in value):
        raise ValueError("a session cookie value is base64url")
    return (f"<script>document.cookie = '{SESSION_COOKIE}={value}; path=/; max-age={max(0, int(max_age_s))}; "
            "SameSite=Strict';</script>")


def allowed_pages(user: User | None) -> list[str]:
    """The page keys a user sees: every page when login is off (user None), by role otherwise."""
    if user is None:
        return list(PAGE_ROLES)
    if "admin" in user.roles:
        return list(PAGE_ROLES)
    return [page for page, roles in PAGE_ROLES.items() if set(roles) & set(user.roles)]


def main(argv: list[str]) -> int:
    """`python -m apps.auth hash-password`: reads a password (twice, not echoed) and prints its bcrypt hash."""
    import getpass

    if argv[1:] != ["hash-password"]:
        print("usage: python -m apps.auth hash-password", file=sys.stderr)
        return 2
    first, second = getpass.getpass("Password: "), getpass.getpass("Again: ")
    if first != second or not first:
        print("Error: the passwords differ or are empty", file=sys.stderr)
        return 1
    print(bcrypt.hashpw(first.encode(), bcrypt.gensalt()).decode())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
