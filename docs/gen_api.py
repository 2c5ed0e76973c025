"""Write one API reference page per public module of ``sim`` (run by mkdocs-gen-files).

The pages and their navigation come from the package tree itself, so a new module
appears in the reference without editing any list. Modules whose name starts with an
underscore are private and left out.
"""

from pathlib import Path

import mkdocs_gen_files

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "sim"

nav = mkdocs_gen_files.Nav()
for path in sorted(PACKAGE.rglob("*.py")):
    parts = path.relative_to(ROOT).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
        page = Path(*parts, "index.md")
    elif parts[-1] == "__main__":
        continue
    else:
        page = Path(*parts).with_suffix(".md")
    if any(part.startswith("_") for part in parts):
        continue
    nav[parts] = page.as_posix()
    with mkdocs_gen_files.open(Path("reference", page), "w") as fh:
        fh.write(f"# `{'.'.join(parts)}`\n\n::: {'.'.join(parts)}\n")
    mkdocs_gen_files.set_edit_path(Path("reference", page), path.relative_to(ROOT))

with mkdocs_gen_files.open("reference/SUMMARY.md", "w") as fh:
    fh.writelines(nav.build_literate_nav())
