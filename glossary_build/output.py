"""The only writer: publish a whole site at once, or leave the old one untouched.

The new site is written into a temporary folder beside the output and swapped in
with renames only when every file is written. Before anything is touched the
output folder is checked: we refuse folders that hold the sources or that some
other program owns. A marker file lists what we wrote, so files a user added to
the output (CNAME, .git) are carried into the new site instead of being lost.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path, PurePosixPath

MARKER = ".glossary-site.json"
WRITING = ".glossary-writing"  # the file being written by an update, before it is renamed into place


class OutputError(Exception):
    """The output folder cannot be used; nothing was changed."""


def check_output_dir(out_dir: Path, project_root: Path, content_dir: Path) -> None:
    """Refuse, before deleting anything, every output folder we could not safely replace."""
    out = Path(os.path.abspath(out_dir))
    resolved = out.resolve()
    root = project_root.resolve()
    content = content_dir.resolve()
    shown = str(out_dir)
    if resolved == Path(resolved.anchor):
        raise OutputError(f"refusing to use '{shown}' as output: it is the root of the file system")
    if resolved == Path.home().resolve():
        raise OutputError(f"refusing to use '{shown}' as output: it is your home folder")
    if resolved == root:
        raise OutputError(f"refusing to use '{shown}' as output: it is the project folder")
    if resolved == content or content.is_relative_to(resolved):
        raise OutputError(f"refusing to use '{shown}' as output: it contains the content folder")
    if resolved.is_relative_to(content):
        raise OutputError(f"refusing to use '{shown}' as output: it is inside the content folder")
    if out.exists() or out.is_symlink():
        if not out.is_dir():
            raise OutputError(f"refusing to use '{shown}' as output: it is a file, not a folder")
        if any(out.iterdir()) and not (out / MARKER).is_file():
            raise OutputError(
                f"refusing to replace '{shown}': it is not empty and was not written by glossary "
                f"(no {MARKER}); choose another --out or empty it yourself"
            )


def remove_leftovers(out: Path) -> None:
    """Folders an earlier build of ours left when it was killed (kill -9, power cut) mid-write."""
    for prefix in (f".{out.name}.building-", f".{out.name}.old-"):
        for leftover in out.parent.glob(prefix + "*"):
            if leftover.is_dir() and not leftover.is_symlink():
                shutil.rmtree(leftover, ignore_errors=True)


def safe_relative(path: str) -> PurePosixPath:
    """An output path must stay inside the output folder."""
    relative = PurePosixPath(path)
    if relative.is_absolute() or ".." in relative.parts or "\\" in path or not relative.parts:
        raise OutputError(f"refusing to write '{path}': it leaves the output folder")
    return relative


def write_site(files: dict[str, bytes], out_dir: Path, project_root: Path, content_dir: Path,
               reuse: set[str] = frozenset()) -> dict[str, tuple[int, int]]:
    """Publish files (plus the unchanged ``reuse`` files of the current site) as the new out_dir.

    Returns (size, mtime in ns) of every published file, so a later build can tell
    that a file is still exactly as written.
    """
    check_output_dir(out_dir, project_root, content_dir)
    out = Path(os.path.abspath(out_dir))
    out.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(out)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.building-", dir=out.parent))
    try:
        for path in sorted(files):
            target = staging / safe_relative(path)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(files[path])
        for path in sorted(reuse):
            target = staging / safe_relative(path)
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(out / path, target)  # same bytes, no copy: the old site keeps its own link
            except OSError:
                shutil.copy2(out / path, target)
        manifest = sorted(set(files) | set(reuse))
        (staging / MARKER).write_text(
            json.dumps({"generator": "glossary", "files": manifest}, indent=1) + "\n", encoding="utf-8"
        )
        if out.is_dir():
            _carry_foreign_files(out, staging, set(manifest))
        stats = {}
        for path in manifest:
            stat = (staging / path).stat()
            stats[path] = (stat.st_size, stat.st_mtime_ns)
        _swap(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return stats


def update_site(files: dict[str, bytes], out_dir: Path, project_root: Path, content_dir: Path,
                keep: set[str]) -> dict[str, tuple[int, int]] | None:
    """Publish by rewriting only ``files`` in the current site, keeping ``keep`` as they are.

    ``keep`` must be files of ours that the caller found unchanged. Each file is written
    beside its place and renamed over it, so it is always either old or new; files of
    ours the site no longer has are removed. Returns (size, mtime) of the files written,
    or None when the folder is not a site of ours to update (the caller then writes the
    whole site).
    """
    check_output_dir(out_dir, project_root, content_dir)
    out = Path(os.path.abspath(out_dir))
    previous = _previous_manifest(out)
    if not out.is_dir() or out.is_symlink() or not previous or not keep <= previous:
        return None
    remove_leftovers(out)
    manifest = sorted(set(files) | keep)
    new = [path for path in sorted(files) if path not in previous]
    for path in new:  # everything is checked before anything is written
        relative = safe_relative(path)
        for folder in list(reversed(relative.parents))[1:]:
            if (out / folder).is_symlink() or ((out / folder).exists() and not (out / folder).is_dir()):
                raise _clash(out, folder.as_posix())
        if os.path.lexists(out / relative):
            raise _clash(out, path)
    (out / WRITING).unlink(missing_ok=True)  # from a build killed while writing
    for path in sorted(files):
        target = out / safe_relative(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        _replace_file(out, target, files[path])
    for path in sorted(previous - set(manifest) - {MARKER}):
        target = out / safe_relative(path)
        if target.is_file() and not target.is_symlink():
            target.unlink()
    kept_folders = _folders_of(set(manifest))
    for folder in sorted(_folders_of(previous) - kept_folders, key=lambda f: -f.count("/")):
        try:
            (out / folder).rmdir()  # only when empty: a user's file in it keeps it
        except OSError:
            pass
    _replace_file(out, out / MARKER, (json.dumps({"generator": "glossary", "files": manifest}, indent=1) + "\n").encode())
    stats = {}
    for path in files:
        stat = (out / path).stat()
        stats[path] = (stat.st_size, stat.st_mtime_ns)
    return stats


def _replace_file(out: Path, target: Path, data: bytes) -> None:
    temporary = out / WRITING  # one name, in the site's top folder: a crash leaves nothing elsewhere
    try:
        temporary.write_bytes(data)
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _previous_manifest(out: Path) -> set[str]:
    try:
        data = json.loads((out / MARKER).read_text(encoding="utf-8"))
        return set(data.get("files", []))
    except (OSError, ValueError, AttributeError):
        return set()


def _folders_of(paths: set[str]) -> set[str]:
    """Every folder that holds one of the paths (a/b/c.html -> a, a/b)."""
    folders = set()
    for path in paths:
        parts = path.split("/")[:-1]
        folders.update("/".join(parts[: i + 1]) for i in range(len(parts)))
    return folders


def _clash(out: Path, relative: str) -> OutputError:
    return OutputError(
        f"refusing to overwrite '{out / relative}': glossary did not write it "
        "and the new site needs that path; move it away"
    )


def _carry_foreign_files(out: Path, staging: Path, ours: set[str]) -> None:
    """Link files we did not write (CNAME, .git, ...) into the new site; never overwrite them."""
    written_before = _previous_manifest(out) | {MARKER, WRITING}
    our_folders = _folders_of(ours)
    old_folders = _folders_of(written_before)
    for folder, dirs, names in os.walk(out):
        dirs.sort()
        linked_dirs = [d for d in dirs if os.path.islink(os.path.join(folder, d))]
        dirs[:] = [d for d in dirs if d not in linked_dirs]
        for name in sorted(names) + linked_dirs:
            source = Path(folder, name)
            relative = source.relative_to(out).as_posix()
            if relative in written_before:
                continue
            clash = relative in ours or relative in our_folders or any(
                folder_ in ours for folder_ in _folders_of({relative})
            )
            if clash:
                raise _clash(out, relative)
            target = staging / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            if source.is_symlink():
                os.symlink(os.readlink(source), target)
            else:
                try:
                    os.link(source, target)
                except OSError:
                    shutil.copy2(source, target)
        for name in dirs:  # keep empty folders a user made, but not the ones we emptied
            relative = Path(folder, name).relative_to(out).as_posix()
            if relative in ours:
                raise _clash(out, relative)
            if relative not in old_folders:
                (staging / relative).mkdir(parents=True, exist_ok=True)


def _swap(staging: Path, out: Path) -> None:
    """Replace out with staging using renames, so readers see the old site or the new one."""
    if not out.exists():
        os.replace(staging, out)
        return
    retired = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
    retired.rmdir()
    os.replace(out, retired)
    try:
        os.replace(staging, out)
    except BaseException:
        os.replace(retired, out)
        raise
    shutil.rmtree(retired, ignore_errors=True)
