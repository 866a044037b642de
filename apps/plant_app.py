"""The plant app: `streamlit run apps/plant_app.py` (or `make app`, `plantlake app`) against PLANTLAKE_LAKE.

Six pages routed by `st.navigation`, each a small module in apps/views/; every read goes through apps/data.py,
which reads only through `plantlake.Lake`. Login is off unless PLANTLAKE_APP_USERS names a users file
(apps/auth.py); then roles decide the pages.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from apps import auth, data
from apps.auth import PAGES

VIEWS = Path(__file__).parent / "views"

st.set_page_config(page_title="Plantlake", page_icon=":material/factory:", layout="wide")


def login_gate() -> auth.User | None:
    """None when login is off; the logged-in user otherwise (the login form stops the script until then)."""
    if not auth.login_enabled():
        return None
    try:
        config = auth.load_config()
    except auth.AuthConfigError as error:
        st.error(f"The login is misconfigured: {error}")
        st.stop()
    user, why = auth.session_user(config, st.session_state.get("auth_session"))
    if user is not None:
        with st.sidebar:
            st.write(f"Logged in as **{user.name}** ({', '.join(user.roles) or 'no role'})")
            if st.button("Log out", key="logout"):
                st.session_state.pop("auth_session", None)
                st.rerun()
        return user
    st.session_state.pop("auth_session", None)
    st.title("Plantlake: log in")
    if why:
        st.warning(why)
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
            st.rerun()
    st.stop()


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
