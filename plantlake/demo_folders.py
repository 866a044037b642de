"""The demo's own folders: created and marked by the demo, so a rerun may empty them and nothing else is ever
removed. A folder that holds anything the demo did not create is refused, untouched."""

from __future__ import annotations

import shutil
from pathlib import Path

from lakehouse.errors import PlantlakeError

MARKER = ".plantlake-demo"


class FolderNotOursError(PlantlakeError):
    """The demo was pointed at a folder that holds files it did not create."""


def claim_demo_folders(folders: dict[str, Path]) -> None:
    """Make each folder (role -> path) an empty folder of the demo's: created if missing, emptied if the demo
    made it before. If any one holds anything else, refuse before touching any of them."""
    for role, folder in folders.items():
        _check(folder, role)
    for role, folder in folders.items():
        _claim(folder, role)


def _check(folder: Path, role: str) -> None:
    if folder.exists() and not folder.is_dir():
        raise FolderNotOursError(f"the demo's {role} {folder} is a file; pass a new or empty folder")
    if folder.is_dir() and any(folder.iterdir()) and not (folder / MARKER).is_file():
        raise FolderNotOursError(f"refusing to use {folder} as the demo's {role}: it holds files the demo did not "
                                 f"create (no {MARKER} marker); pass a new or empty folder")


def _claim(folder: Path, role: str) -> None:
    if folder.is_dir():
        for child in folder.iterdir():
            if child.name == MARKER:
                continue
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MARKER).write_text(f"created by `plantlake demo` as its {role}; a rerun of the demo empties it\n")
