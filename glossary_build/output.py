"""The only writer: publish a new site whole, or update the current one file by file.

Before anything is touched the output folder is checked: we refuse folders that
hold the sources or that some other program owns, and paths that would leave the
folder or replace a file we did not write. A marker file lists what we wrote, so
files a user added to the output (CNAME, .git) are kept. ``SiteWriter`` says how
each way of publishing behaves when a build is interrupted.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import stat as statmodule
import tempfile
from pathlib import Path, PurePosixPath

MARKER = ".glossary-site.json"
WRITING = ".glossary-writing"  # + "-<pid>": a file an update is writing, before it is renamed into place


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
    """What an earlier build of ours left when it was killed (kill -9, power cut) mid-write."""
    for prefix in (f".{out.name}.building-", f".{out.name}.old-"):
        for leftover in out.parent.glob(prefix + "*"):
            if leftover.is_dir() and not leftover.is_symlink():
                shutil.rmtree(leftover, ignore_errors=True)
    if out.is_dir() and not out.is_symlink():  # a file an update was writing
        for leftover in out.glob(WRITING + "-*"):
            if leftover.is_file() and not leftover.is_symlink():
                leftover.unlink(missing_ok=True)


def safe_relative(path: str) -> PurePosixPath:
    """An output path must stay inside the output folder."""
    relative = PurePosixPath(path)
    if relative.is_absolute() or ".." in relative.parts or "\\" in path or not relative.parts:
        raise OutputError(f"refusing to write '{path}': it leaves the output folder")
    return relative


class SiteWriter:
    """Where a build puts its files, as they are rendered.

    Two ways to publish, chosen by ``open``:

    - a whole new site (the first build, ``--clean``): written into a folder beside
      the output and swapped in by renames at ``commit``, so readers see the old
      site or the new one; unchanged files are hard-linked, not copied;
    - an update (other builds): only the changed files are written, each into a
      temporary file renamed over the old one, so every file is always old or new;
      ``commit`` then removes the files of ours the site no longer has. A build
      killed half-way leaves some files new, and the next build finds and rewrites
      whatever differs from what it would write.

    ``write`` may be called from forked worker processes.
    """

    def __init__(self, out: Path, root: Path, paths: set[str], keep: set[str], in_place: bool, previous: set[str]):
        self.out, self.root, self.paths, self.keep = out, root, paths, keep
        self.in_place, self.previous = in_place, previous

    @classmethod
    def open(cls, out_dir: Path, project_root: Path, content_dir: Path, paths: set[str],
             keep: set[str] = frozenset(), in_place: bool = False) -> "SiteWriter":
        """Check everything that could stop the publishing before a byte is written.

        paths: every file of the new site; keep: those that are already in the
        current site exactly as they should be (the caller checked).
        """
        check_output_dir(out_dir, project_root, content_dir)
        for path in sorted(paths - set(keep)):  # those kept were checked when they were written
            safe_relative(path)
        out = Path(os.path.abspath(out_dir))
        out.parent.mkdir(parents=True, exist_ok=True)
        remove_leftovers(out)
        previous = _previous_manifest(out)
        if in_place and out.is_dir() and not out.is_symlink() and previous and set(keep) <= previous:
            for folder in sorted(_folders_of(paths - set(keep))):  # written through: none may lead elsewhere
                if (out / folder).is_symlink() or ((out / folder).exists() and not (out / folder).is_dir()):
                    raise _clash(out, folder)
            for path in sorted(paths - previous):
                if os.path.lexists(out / path):
                    raise _clash(out, path)
            return cls(out, out, set(paths), set(keep), True, previous)
        staging = _new_folder_beside(out)
        return cls(out, staging, set(paths), set(keep), False, previous)

    def write(self, path: str, data: bytes) -> None:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if self.in_place:
            _replace_file(self.out, target, data)
        else:
            target.write_bytes(data)

    def commit(self) -> dict[str, tuple[int, int]]:
        """Publish; returns (size, mtime in ns) of every file written, so a later build can
        tell that a file is still exactly as written."""
        if self.in_place:
            if self.previous != self.paths:  # the same files as before (most edits): nothing to remove or list again
                self._remove_stale(self.paths)
                _replace_file(self.out, self.out / MARKER, _marker(self.paths))
        else:
            for path in sorted(self.keep):
                target = self.root / path
                target.parent.mkdir(parents=True, exist_ok=True)
                try:
                    os.link(self.out / path, target)  # same bytes, no copy: the old site keeps its own link
                except OSError:
                    shutil.copy2(self.out / path, target)
            (self.root / MARKER).write_bytes(_marker(self.paths))
            if self.out.is_dir():
                _carry_foreign_files(self.out, self.root, self.paths)
        stats = {}
        for path in sorted(self.paths - self.keep):
            stat = (self.root / path).stat()
            stats[path] = (stat.st_size, stat.st_mtime_ns)
        if not self.in_place:
            _swap(self.root, self.out)
        return stats

    def abort(self) -> None:
        """After a failure: a new site is thrown away; an update keeps what it wrote, whole files only."""
        if self.in_place:
            for leftover in self.out.glob(WRITING + "*"):
                leftover.unlink(missing_ok=True)
        else:
            shutil.rmtree(self.root, ignore_errors=True)

    def _remove_stale(self, manifest: set[str]) -> None:
        for path in sorted(self.previous - manifest - {MARKER}):
            target = self.out / safe_relative(path)
            if target.is_file() and not target.is_symlink():
                target.unlink()
        for folder in sorted(_folders_of(self.previous) - _folders_of(manifest), key=lambda f: -f.count("/")):
            try:
                (self.out / folder).rmdir()  # only when empty: a user's file in it keeps it
            except OSError:
                pass


def _new_folder_beside(out: Path) -> Path:
    """An empty folder to build the new site in, with the permissions the site should have.

    tempfile.mkdtemp would make it private (0700), and once swapped in, a web server
    running as another user could not read the site. It gets the current site's
    permissions, or for a first build those of any new folder (the umask's).
    """
    for attempt in range(100):
        folder = out.parent / f".{out.name}.building-{os.getpid()}-{secrets.token_hex(4)}"
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        if out.is_dir() and not out.is_symlink():
            folder.chmod(statmodule.S_IMODE(out.stat().st_mode))
        return folder
    raise OutputError(f"cannot make a folder beside '{out}' to build the site in")


def _replace_file(out: Path, target: Path, data: bytes) -> None:
    """Write beside the target and rename: the file is never seen half-written."""
    temporary = out / f"{WRITING}-{os.getpid()}"  # in the site's top folder, one per process
    try:
        temporary.write_bytes(data)
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _marker(paths: set[str]) -> bytes:
    """The marker file: it says the folder is ours, and which of its files we wrote."""
    return (json.dumps({"generator": "glossary", "files": sorted(paths)}, indent=1) + "\n").encode()


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
    written_before = _previous_manifest(out) | {MARKER}
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
