"""Nothing lost: interrupted writes, leftovers of killed builds, symlinks, file sizes, a busy server."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import messages, run_build, run_check, term_text, terms, tree_bytes, write_project
from glossary_build.cli import main

GOOD = terms(
    alpha=term_text("Alpha", "First.", body="Before beta."),
    beta=term_text("Beta", "Second.", body="After alpha."),
)


def leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.name.startswith(".site."))


def fail_on_third_write(exception):
    real = Path.write_bytes
    count = [0]

    def write(self, data):
        count[0] += 1
        if count[0] == 3:
            raise exception
        return real(self, data)

    return write


@pytest.mark.parametrize("exception", [KeyboardInterrupt(), PermissionError(13, "Permission denied"),
                                       OSError(28, "No space left on device")])
def test_an_interrupted_or_refused_write_keeps_the_old_site(make_site, monkeypatch, exception):
    root = make_site(GOOD)
    run_build(root)
    before = tree_bytes(root / "site")
    write_project(root, terms(alpha=term_text("Alpha", "First, edited.", body="Before beta.")))
    with monkeypatch.context() as patch, pytest.raises(type(exception)):
        patch.setattr(Path, "write_bytes", fail_on_third_write(exception))
        run_build(root, incremental=False)
    assert tree_bytes(root / "site") == before
    assert leftovers(root) == []
    run_build(root)  # and the next build succeeds
    assert b"First, edited." in (root / "site/terms/alpha/index.html").read_bytes()


def sigterm_while_writing(root: Path, monkeypatch, args: list[str], on_write: int) -> tuple[dict, object]:
    """Build, edit a term, then build with ``args`` and a SIGTERM as file write number
    ``on_write`` begins (as if CI's timeout or `kill` arrived then); returns the site
    before the second build and that build's CLI result."""
    assert CliRunner().invoke(main, ["build"]).exit_code == 0
    before = tree_bytes(root / "site")
    write_project(root, terms(alpha=term_text("Alpha", "First, edited.", body="Before beta.")))
    real = Path.write_bytes
    previous = signal.getsignal(signal.SIGTERM)
    calls = []

    def write(self, data):
        calls.append(self)
        if len(calls) == on_write:
            os.kill(os.getpid(), signal.SIGTERM)
        return real(self, data)

    try:
        with monkeypatch.context() as patch:  # undoes this patch only, not the fixture's chdir
            patch.setattr(Path, "write_bytes", write)
            result = CliRunner().invoke(main, ["build", *args])
    finally:
        signal.signal(signal.SIGTERM, previous)
    return before, result


def test_sigterm_during_the_write_unwinds_like_ctrl_c(make_site, monkeypatch):
    root = make_site(GOOD)
    before, result = sigterm_while_writing(root, monkeypatch, ["--clean"], on_write=1)
    assert result.exit_code == 1
    assert result.stderr == "Error: interrupted; site is as it was before this build\n"
    assert tree_bytes(root / "site") == before
    assert leftovers(root) == []


def test_a_full_disk_is_one_line_without_traceback(make_site, monkeypatch):
    root = make_site(GOOD)
    monkeypatch.setattr(Path, "write_bytes", fail_on_third_write(OSError(28, "No space left on device")))
    result = CliRunner().invoke(main, ["build"])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: cannot write the site (No space left on device")
    assert "Traceback" not in result.output
    assert not (root / "site").exists() and leftovers(root) == []


def test_leftovers_of_a_killed_build_are_cleared_by_the_next(make_site):
    root = make_site(GOOD)
    run_build(root)
    for name in (".site.building-abc123", ".site.old-def456"):
        write_project(root, {f"{name}/terms/x/index.html": "half written"})
    write_project(root, {".site-notes/keep.txt": "not ours"})
    run_build(root, incremental=False)
    assert leftovers(root) == []
    assert (root / ".site-notes/keep.txt").read_text() == "not ours"


def test_symlinked_term_files_must_stay_inside_the_content_folder(make_site, tmp_path):
    outside = tmp_path.parent / f"{tmp_path.name}-outside.md"
    outside.write_text(term_text("Secret", body="Outside the project."))
    root = make_site(GOOD | {"content/shared/gamma.md": term_text("Gamma", body="Alpha and beta.")})
    links = root / "content/terms"
    (links / "secret.md").symlink_to(outside)
    (links / "gone.md").symlink_to(links / "nowhere.md")
    (links / "loop.md").symlink_to(links / "loop.md")
    (links / "gamma.md").symlink_to(root / "content/shared/gamma.md")  # inside content/: fine
    found = run_check(root)
    assert sorted(m for m in messages(found) if ": error: " in m) == [
        "content/terms/gone.md:1: error: broken or looping symlink; point it at a file in the content folder or remove it",
        "content/terms/loop.md:1: error: broken or looping symlink; point it at a file in the content folder or remove it",
        f"content/terms/secret.md:1: error: symlink leads outside the content folder (to {outside.resolve()}); "
        "copy the file in instead",
    ]
    from glossary_build.source import load_terms

    loaded, _ = load_terms(links)
    assert "gamma" in {t.slug for t in loaded}  # a symlink to a file inside content/ is read


def test_file_names_that_differ_only_in_case_cannot_both_exist(make_site):
    root = make_site(GOOD | {"content/terms/Alpha.md": term_text("Alpha Two", body="Beta.")})
    assert "content/terms/Alpha.md:1: error: bad file name 'Alpha.md': use lowercase letters, digits and " \
           "hyphens (rename it to alpha.md)" in messages(run_check(root))


def test_oversized_files_and_front_matter_are_refused_with_a_reason(make_site):
    huge_body = term_text("Huge", body="word " * 250_000)
    long_front = "---\ntitle: Long\nsummary: x\n" + "# note\n" * 2_100 + "---\nBody.\n"
    root = make_site(GOOD | terms(huge=huge_body, long=long_front))
    found = [m for m in messages(run_check(root)) if ": error: " in m]
    assert found[0].startswith("content/terms/huge.md:1: error: the file is 1,250,0")
    assert found[0].endswith("bytes; a term file may be at most 1,000,000 (split it, or move data elsewhere)")
    assert found[1] == ("content/terms/long.md:1: error: front matter is 2,102 lines long; at most 2,000 are "
                        "allowed (is the closing '---' in the right place?)")


def test_the_dev_server_survives_a_burst_of_requests_and_saves(tmp_path):
    from test_serve import _up, free_port, request, status, wait_for  # the same helpers as the serve tests
    import subprocess
    import sys

    root = write_project(tmp_path / "p", GOOD | {"secret.txt": "not for the web"})
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "glossary_build", "serve", "--src", str(root), "--port", str(port)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: _up(port))
        paths = ["/", "/terms/alpha/", "/../secret.txt", "/%2e%2e/secret.txt", "/nope", "/assets/style.css"] * 25
        answers: list[int] = []

        def hammer(chunk):
            for path in chunk:
                answers.append(request(port, path)[0])

        threads = [threading.Thread(target=hammer, args=(paths[i::6],)) for i in range(6)]
        for thread in threads:
            thread.start()
        for n in range(15):  # saves arriving while the requests are served
            write_project(root, terms(alpha=term_text("Alpha", "First.", body=f"Before beta, save {n}.")))
        for thread in threads:
            thread.join()
        assert len(answers) == len(paths) and set(answers) <= {200, 400, 404}
        wait_for(lambda: b"save 14." in request(port, "/terms/alpha/")[2])
        version = status(port)["version"]
        assert version <= 16  # debounced: far fewer rebuilds than saves, and no rebuild loop
        import time

        time.sleep(0.5)
        assert status(port)["version"] == version
        assert process.poll() is None
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=10)
    assert not (root / "site").exists()


def test_reserved_device_names_are_refused_as_slugs_and_avoided_for_categories(make_site):
    root = make_site(GOOD | terms(con=term_text("Con", body="Alpha.")) | terms(
        gamma=term_text("Gamma", category="NUL", body="Beta.")))
    assert ("content/terms/con.md:1: error: bad file name 'con.md': 'con' is a reserved device name on Windows, "
            "so its page could not be published everywhere (rename it to con-term.md)") in messages(run_check(root))
    (root / "content/terms/con.md").unlink()
    run_build(root)
    assert (root / "site/categories/nul-term/index.html").is_file()


def test_sigterm_during_an_update_leaves_whole_files_and_says_so(make_site, monkeypatch):
    root = make_site(GOOD)
    before, result = sigterm_while_writing(root, monkeypatch, [], on_write=2)  # one file of the update is in
    assert result.exit_code == 1
    assert result.stderr == ("Error: interrupted; site holds no half-written file (each is old or new); "
                             "the next build brings the rest up to date\n")
    assert CliRunner().invoke(main, ["build"]).exit_code == 0
    after = tree_bytes(root / "site")
    assert after != before and b"First, edited." in after["terms/alpha/index.html"]
    assert not [name for name in after if ".glossary-writing" in name]
