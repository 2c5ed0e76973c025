"""A guarded correction of one typo in the installed Solara, applied when the app loads.

Solara 1.64's router component (``solara/widgets/vue/navigator.vue``, which Solara's
server puts on every page) assigns its script to ``modules.export`` instead of
``module.exports``. The browser then logs "Failed to evaluate Vue script" at every page
load and reads the component an older way. :func:`correct_navigator_export` points the
component at a corrected copy of the installed file, made at run time in the temporary
folder; when the installed Solara no longer has the typo it changes nothing. Solara's
files are never edited, and nothing of theirs is kept in this repository.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

TYPO = "modules.export ="
FIXED = "module.exports ="


def corrected_text(text: str) -> str | None:
    """The component's source with its export spelled right, or None if it already is."""
    if TYPO not in text:
        return None
    return text.replace(TYPO, FIXED, 1)


def correct_navigator_export() -> bool:
    """Serve Solara's router component with ``module.exports``; True if it needed it."""
    try:
        from solara.widgets.widgets import Navigator
    except ImportError:  # another Solara layout: leave it alone
        return False
    source = Path(Navigator.template_file)
    try:
        fixed = corrected_text(source.read_text(encoding="utf-8"))
    except OSError:
        return False
    if fixed is None:
        return False
    target = Path(tempfile.gettempdir()) / f"clickfarm-{os.getuid()}-solara-navigator.vue"
    if not target.exists() or target.read_text(encoding="utf-8") != fixed:
        partial = target.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(fixed, encoding="utf-8")
        partial.replace(target)  # atomic: two servers starting at once both see a whole file
    Navigator.template_file = str(target)
    return True
