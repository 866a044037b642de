"""The plant app: `streamlit run apps/plant_app.py` (or `make app`, `plantlake app`) against PLANTLAKE_LAKE.

Six pages routed by `st.navigation`, each a small module in apps/views/; every read goes through apps/data.py,
which reads only through `plantlake.Lake`. Login is off unless PLANTLAKE_APP_USERS names a users file
(apps/auth.py); then roles decide the pages.
"""

from __future__ import annotations

import time
from pathlib import Path

import streamlit as st

from apps import auth, data
from apps.auth import PAGES

VIEWS = Path(__file__).parent / "views"

st.set_page_config(page_title="Plantlake", page_icon=":material/factory:", layout="wide")


def login_gate() -> auth.User | None:
    """None when login is off; the logged-in user otherwise (the login form stops the script until then).

    The session comes from this tab's Streamlit session, else from the session cookie the browser sent when the
    page loaded (`st.context.cookies`, read once per page load: after logging out, the tab ignores it)."""
    if not auth.login_enabled():
        return None
    try:
        config = auth.load_config()
    except auth.AuthConfigError as error:
        st.error(f"The login is misconfigured: {error}")
        st.stop()
    oidc = auth.oidc_configured(st.secrets)
    if oidc and st.user.get("is_logged_in", False):
        return oidc_user(config)
    session = st.session_state.get("auth_session")
    if session is None and not st.session_state.get("cookie_dropped"):
        session = auth.session_from_cookie(st.context.cookies.get(auth.SESSION_COOKIE))
    user, why = auth.session_user(config, session)
    if user is not None:
        st.session_state["auth_session"] = session
        with st.sidebar:
            st.write(f"Logged in as **{user.name}** ({', '.join(user.roles) or 'no role'})")
            if st.session_state.pop("cookie_to_set", False):  # the run after the login: the page stores it
                st.html(auth.cookie_script(auth.session_cookie(session), session["expires_at"] - time.time()),
                        unsafe_allow_javascript=True)
            if st.button("Log out", key="logout"):
                st.session_state.pop("auth_session", None)
                st.session_state["cookie_dropped"] = True
                st.rerun()
        return user
    st.session_state.pop("auth_session", None)
    st.title("Plantlake: log in")
    if why:
        st.warning(why)
    if session is not None or st.session_state.get("cookie_dropped"):  # a logout, or a cookie that is not valid
        st.session_state["cookie_dropped"] = True
        st.html(auth.cookie_script("", 0), unsafe_allow_javascript=True)
    if oidc:
        st.button("Log in with your company account", key="oidc_login", on_click=st.login)
    with st.form("login"):
        username = st.text_input("User name", key="login_user")
        password = st.text_input("Password", type="password", key="login_password")
        submitted = st.form_submit_button("Log in")
    if submitted:
        found = auth.check_password(config, username, password)
        if found is None:
            st.error("Wrong user name or password.")
        else:
            st.session_state["auth_session"] = auth.new_session(config, found)
            st.session_state["cookie_to_set"] = True
            st.rerun()
    st.stop()


def oidc_user(config: auth.AuthConfig) -> auth.User:
    """The user the OIDC provider logged in, found by e-mail address in the users file; one it does not list is
    told so (with a way to log out) and sees nothing."""
    email, verified = st.user.get("email"), st.user.get("email_verified", True) is not False
    user = auth.user_by_email(config, email) if verified else None
    with st.sidebar:
        st.write(f"Logged in as **{user.name if user else email}** "
                 f"({', '.join(user.roles) if user and user.roles else 'no role'})")
        st.button("Log out", key="logout", on_click=st.logout)
    if user is None:
        st.title("Plantlake")
        st.error(f"{email or 'This account'} is not in the app's users file; ask an admin to add it with a role."
                 if verified else f"The provider has not verified {email}; the app accepts verified addresses only.")
        st.stop()
    return user


def how_to_fill(state: data.LakeState) -> None:
    st.title("Plantlake: the lake is empty")
    where = f"`{state.root}`"
    if not state.exists:
        st.warning(f"There is no lake at {where} (PLANTLAKE_LAKE).")
    else:
        st.warning(f"The lake at {where} has no {', '.join(state.missing)} yet.")
    st.markdown(
        "Fill it, then reload this page:\n\n"
        "- a demo plant: `make demo` (simulates a plant into `landing/` and materializes every table into `lake/`)\n"
        "- your own landing folder: `plantlake --lake LAKE run --source LANDING`\n"
        "- a simulated plant of your size: `plantlake simulate --out landing --days 28 --lines 2 "
        "--machines-per-line 3` then `plantlake run --source landing`\n\n"
        "Then start the app against it: `PLANTLAKE_LAKE=lake make app` (or `plantlake --lake lake app`).")


data.warm_imports()
user = login_gate()
state = data.lake_state()
if not state.is_ready:
    how_to_fill(state)
    st.stop()
visible = auth.allowed_pages(user)
if not visible:
    st.error("Your account has no role that sees a page; ask an admin to give you one.")
    st.stop()
pages = [st.Page(str(VIEWS / f"{key}.py"), title=PAGES[key][0], icon=PAGES[key][1], url_path=key,
                 default=(index == 0)) for index, key in enumerate(visible)]
st.navigation(pages).run()
