"""What a test does when something `.ci/services` provides (a server, a Debian program) is missing: locally it
skips with the reason and how to get it; in CI (CI=true) it fails, because CI must not skip it."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def missing(message: str) -> NoReturn:
    if in_ci():
        pytest.fail(message)
    pytest.skip(message)
