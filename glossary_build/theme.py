"""Where the default theme lives: inside the package when installed, beside it in a checkout."""

from __future__ import annotations

from pathlib import Path

THEME_CANDIDATES = (
    Path(__file__).parent / "templates",  # installed: the theme ships inside the package
    Path(__file__).parent.parent / "templates",  # a source checkout
)


def theme_dir() -> Path:
    for candidate in THEME_CANDIDATES:
        if (candidate / "base.html").is_file():
            return candidate
    raise FileNotFoundError("the default theme (templates/base.html) is missing from the installation")
