"""Themes for the built-in pages: ``[options.ui] theme_path`` names a folder whose ``templates/`` and ``static/``
replace the shipped templates and static files of the same name, a file at a time (``docs/theming.md``)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from starlette.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static"
TEMPLATES = Path(__file__).parent / "templates"

logger = logging.getLogger("identityserver")


class ThemeError(ValueError):
    """The configured theme folder cannot be used."""


@dataclass(frozen=True, slots=True)
class Theme:
    template_dirs: tuple[Path, ...] = ()
    static_dirs: tuple[Path, ...] = ()


def load_theme(theme_path: str | None) -> Theme:
    """The theme's folders; ``ThemeError`` when ``theme_path`` is set but holds neither ``templates/`` nor
    ``static/`` (a misspelt path would otherwise serve the shipped pages without a word)."""
    if not theme_path:
        return Theme()
    root = Path(theme_path)
    if not root.is_dir():
        raise ThemeError(f"[options.ui] theme_path {str(root)!r} is not a folder")
    templates, static = root / "templates", root / "static"
    if not templates.is_dir() and not static.is_dir():
        raise ThemeError(f"[options.ui] theme_path {str(root)!r} holds neither a templates/ nor a static/ folder")
    if templates.is_dir():
        shipped = {p.name for p in TEMPLATES.glob("*.html")}
        for path in sorted(templates.glob("*.html")):
            # a name that overrides nothing is most likely a typo; partials (``_name.html``) are the theme's own
            if path.name not in shipped and not path.name.startswith("_"):
                logger.warning("theme template %s replaces no built-in page (they are: %s)", path, sorted(shipped))
    return Theme(
        template_dirs=(templates,) if templates.is_dir() else (),
        static_dirs=(static,) if static.is_dir() else (),
    )


class ThemedStaticFiles(StaticFiles):
    """Static files from ``directories`` first, then the shipped ones, a file at a time."""

    def __init__(self, directories: Sequence[Path] = ()) -> None:
        super().__init__(directory=STATIC)
        self.all_directories = [*directories, *self.all_directories]
