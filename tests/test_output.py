"""Output safety: a build publishes a whole site or changes nothing, and never touches
folders that are not glossary's to replace."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from conftest import run_build, term_text, terms, tree_bytes, tree_listing
from glossary_build import output
from glossary_build.diagnostics import BuildFailed
from glossary_build.output import MARKER, OutputError, SiteWriter, check_output_dir, safe_relative


def good_terms() -> dict[str, str]:
    """Three terms that all link each other: no errors, no orphan warnings."""
    return terms(
        alpha=term_text("Alpha", body="Alpha comes before [[beta]]."),
        beta=term_text("Beta", body="Beta follows [[alpha]] and precedes [[gamma]]."),
        gamma=term_text("Gamma", body="Gamma closes the list after [[alpha]]."),
    )


def snapshot(folder: Path) -> tuple[list[str], dict[str, bytes]]:
    """Every file and folder name below folder, and every file's bytes."""
    return tree_listing(folder), tree_bytes(folder)


def leftovers(folder: Path) -> list[str]:
    """Temporary folders a build may have left beside its output."""
    return sorted(p.name for p in folder.iterdir() if ".building-" in p.name or ".old-" in p.name)


@pytest.fixture
def project(make_site):
    return make_site(good_terms())


# -- a failed build leaves the published site alone ---------------------------------


def test_failed_build_leaves_previous_site_byte_for_byte(project):
    run_build(project)
    before = snapshot(project / "site")
    (project / "content/terms/delta.md").write_text(
        term_text("Delta", body="Delta mentions [[alpha]].\n\nIt also links [[nowhere]]."), encoding="utf-8"
    )

    with pytest.raises(BuildFailed) as failed:
        run_build(project)

    assert any(
        d.path == "content/terms/delta.md" and d.line == 7 and "[[nowhere]]" in d.message
        for d in failed.value.diagnostics
    ), failed.value.diagnostics
    assert snapshot(project / "site") == before
    assert leftovers(project) == []


def test_failure_while_writing_leaves_previous_site_and_no_staging_folder(project, monkeypatch):
    run_build(project)
    before = snapshot(project / "site")
    (project / "content/terms/alpha.md").write_text(
        term_text("Alpha", body="Alpha, edited, comes before [[beta]]."), encoding="utf-8"
    )
    real_write = Path.write_bytes
    written = []

    def write_then_fail(self, data):
        if len(written) == 3:
            raise OSError(28, "No space left on device")
        written.append(self)
        return real_write(self, data)

    with monkeypatch.context() as patch, pytest.raises(OSError, match="No space left"):
        patch.setattr(Path, "write_bytes", write_then_fail)
        run_build(project, incremental=False)  # a clean build writes every file

    assert len(written) == 3  # the failure really happened half-way through the site
    assert snapshot(project / "site") == before
    assert leftovers(project) == []


def test_failed_swap_puts_the_previous_site_back(project, monkeypatch):
    run_build(project)
    before = snapshot(project / "site")
    real_replace = os.replace
    calls = []

    def replace_failing_second_time(source, target):
        if Path(source).parent != project:  # not the site's swap (the cache, compiled templates)
            return real_replace(source, target)
        calls.append((Path(source).name, Path(target).name))
        if len(calls) == 2:  # the old site is moved away; moving the new one in fails
            raise OSError(5, "Input/output error")
        return real_replace(source, target)

    with monkeypatch.context() as patch, pytest.raises(OSError, match="Input/output error"):
        patch.setattr(output.os, "replace", replace_failing_second_time)
        run_build(project, incremental=False)  # nothing changed: only a clean build writes again

    assert len(calls) == 3  # moved away, failed, moved back
    assert snapshot(project / "site") == before
    assert leftovers(project) == []


# -- refused output folders ------------------------------------------------------------


def assert_refused(root: Path, out: Path, watched: Path, word: str) -> None:
    """Building root into out raises OutputError mentioning word and changes nothing below watched."""
    before = snapshot(watched)
    with pytest.raises(OutputError, match=word):
        run_build(root, out=out)
    assert snapshot(watched) == before
    assert leftovers(watched) == []


def test_refuses_the_content_folder(project):
    assert_refused(project, project / "content", project, "it contains the content folder")


def test_refuses_a_folder_that_contains_the_content_folder(tmp_path, make_site):
    root = make_site(good_terms(), root=tmp_path / "proj")
    (tmp_path / "notes.txt").write_text("my notes\n", encoding="utf-8")
    assert_refused(root, tmp_path, tmp_path, "it contains the content folder")


def test_refuses_a_folder_inside_the_content_folder(project):
    assert_refused(project, project / "content/terms/out", project, "it is inside the content folder")
    assert not (project / "content/terms/out").exists()


def test_refuses_the_project_folder(project):
    (project / "glossary.yaml").write_text("title: Mine\n", encoding="utf-8")
    assert_refused(project, project, project, "it is the project folder")


def test_refuses_the_home_folder(tmp_path, make_site, monkeypatch):
    root = make_site(good_terms(), root=tmp_path / "proj")
    home = tmp_path / "home"
    home.mkdir()  # empty: only being the home folder makes it unusable
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setattr(Path, "home", classmethod(lambda cls: home))
    assert_refused(root, home, tmp_path, "it is your home folder")
    assert list(home.iterdir()) == []


def test_refuses_the_file_system_root(project):
    with pytest.raises(OutputError, match="root of the file system"):
        check_output_dir(Path("/"), project, project / "content")


def test_refuses_a_file(project):
    (project / "public").write_text("not a folder\n", encoding="utf-8")
    assert_refused(project, project / "public", project, "it is a file")
    assert (project / "public").read_text(encoding="utf-8") == "not a folder\n"


def test_refuses_a_non_empty_folder_without_marker(project):
    public = project / "public"
    (public / "blog").mkdir(parents=True)
    (public / "index.html").write_text("<h1>my homepage</h1>\n", encoding="utf-8")
    (public / "blog/post.html").write_text("<p>post</p>\n", encoding="utf-8")
    assert_refused(project, public, project, "it is not empty and was not written by glossary")


def test_refuses_a_symlink_to_the_content_folder(project):
    (project / "public").symlink_to(project / "content", target_is_directory=True)
    assert_refused(project, project / "public", project, "it contains the content folder")


# -- accepted output folders -------------------------------------------------------------


def test_accepts_an_empty_existing_folder(project):
    (project / "public").mkdir()
    result = run_build(project, out=project / "public")
    assert result.terms == 3
    assert (project / "public/terms/alpha/index.html").is_file()
    assert (project / "public" / MARKER).is_file()
    assert leftovers(project) == []


def test_replaces_own_site_keeping_user_files_and_dropping_stale_pages(project):
    run_build(project)
    site = project / "site"
    (site / "CNAME").write_text("glossary.example.org\n", encoding="utf-8")
    (site / ".git").mkdir()
    (site / ".git/config").write_text("[core]\n\tbare = false\n", encoding="utf-8")
    (site / "terms/alpha/notes.txt").write_text("kept beside a page\n", encoding="utf-8")
    assert (site / "terms/gamma/index.html").is_file()
    (project / "content/terms/gamma.md").unlink()
    (project / "content/terms/beta.md").write_text(
        term_text("Beta", body="Beta follows [[alpha]]."), encoding="utf-8"
    )

    run_build(project)

    assert (site / "CNAME").read_text(encoding="utf-8") == "glossary.example.org\n"
    assert (site / ".git/config").read_text(encoding="utf-8") == "[core]\n\tbare = false\n"
    assert (site / "terms/alpha/notes.txt").read_text(encoding="utf-8") == "kept beside a page\n"
    assert not (site / "terms/gamma/index.html").exists()
    assert "Gamma" not in (site / "index.html").read_text(encoding="utf-8")
    assert (site / "terms/beta/index.html").is_file()
    assert leftovers(project) == []

    run_build(project)  # and again: user files are carried over every time
    assert (site / "CNAME").read_text(encoding="utf-8") == "glossary.example.org\n"
    assert (site / ".git/config").read_text(encoding="utf-8") == "[core]\n\tbare = false\n"


def test_deleted_term_leaves_no_empty_folder(project):
    run_build(project)
    (project / "content/terms/gamma.md").unlink()
    (project / "content/terms/beta.md").write_text(
        term_text("Beta", body="Beta follows [[alpha]]."), encoding="utf-8"
    )
    run_build(project)
    assert not (project / "site/terms/gamma").exists()


# -- user files where glossary wants to write --------------------------------------------


def test_refuses_to_overwrite_a_user_file_missing_from_the_manifest(project):
    run_build(project)
    site = project / "site"
    marker = json.loads((site / MARKER).read_text(encoding="utf-8"))
    marker["files"].remove("robots.txt")  # as written by a glossary that did not make robots.txt
    (site / MARKER).write_text(json.dumps(marker), encoding="utf-8")
    (site / "robots.txt").write_text("User-agent: *\nDisallow: /drafts/\n", encoding="utf-8")
    before = snapshot(site)

    with pytest.raises(OutputError, match="robots.txt"):
        run_build(project)

    assert snapshot(site) == before
    assert leftovers(project) == []


@pytest.mark.parametrize("left_there, path", [
    ("terms/delta/index.html", "terms/delta/index.html"),  # a hand-written page where the new term's page goes
    ("terms/delta", "terms/delta"),  # a user file where the new term needs its folder
])
def test_refuses_a_user_file_where_a_new_term_goes(project, left_there, path):
    run_build(project)
    site = project / "site"
    (site / left_there).parent.mkdir(parents=True, exist_ok=True)
    (site / left_there).write_text("mine\n", encoding="utf-8")
    before = snapshot(site)
    (project / "content/terms/delta.md").write_text(
        term_text("Delta", body="Delta after [[gamma]]."), encoding="utf-8"
    )

    with pytest.raises(OutputError, match=path):
        run_build(project)

    assert snapshot(site) == before
    assert leftovers(project) == []


# -- the marker and safe paths ---------------------------------------------------------


def test_marker_lists_the_written_files(project):
    run_build(project)
    site = project / "site"
    (site / "CNAME").write_text("glossary.example.org\n", encoding="utf-8")
    run_build(project)

    marker = json.loads((site / MARKER).read_text(encoding="utf-8"))
    written = sorted(set(tree_bytes(site)) - {MARKER, "CNAME"})
    assert marker["files"] == written
    assert {"index.html", "terms/alpha/index.html", "sitemap.xml", "terms.json"} <= set(written)
    assert "CNAME" not in marker["files"]


@pytest.mark.parametrize("path", ["../x", "a/../../x", "/abs", "a\\b", ""])
def test_safe_relative_refuses_escaping_paths(path):
    with pytest.raises(OutputError, match="leaves the output folder"):
        safe_relative(path)


def test_safe_relative_accepts_paths_inside():
    assert str(safe_relative("terms/lora/index.html")) == "terms/lora/index.html"


@pytest.mark.parametrize("bad", ["../escaped.txt", "ABSOLUTE", "a\\b"])
@pytest.mark.parametrize("in_place", [False, True])
def test_paths_leaving_the_output_are_refused_before_anything_is_written(project, bad, in_place):
    run_build(project)
    before = snapshot(project)
    if bad == "ABSOLUTE":
        bad = str(project / "escaped.txt")
    with pytest.raises(OutputError, match="leaves the output folder"):
        SiteWriter.open(project / "site", project, project / "content", {"index.html", bad}, in_place=in_place)

    assert snapshot(project) == before
    assert not (project / "escaped.txt").exists()


# -- an incremental build rewrites only what changed, in place -----------------------


def clean_site(project: Path, tmp_path: Path) -> dict[str, bytes]:
    """What a clean build of the project's current content publishes."""
    import shutil

    copy = tmp_path / "clean-copy"
    shutil.copytree(project / "content", copy / "content")
    run_build(copy, incremental=False)
    files = tree_bytes(copy / "site")
    files.pop(MARKER)
    return files


def test_an_edit_rewrites_changed_files_in_place_and_keeps_the_rest(project):
    run_build(project)
    site = project / "site"
    (site / "CNAME").write_text("glossary.example.org\n")
    untouched = (site / "terms/gamma/index.html").stat().st_ino
    folder = site.stat().st_ino  # the same folder, updated, not a new one swapped in
    (project / "content/terms/beta.md").write_text(
        term_text("Beta", body="Beta follows [[alpha]], then [[gamma]]."), encoding="utf-8")
    result = run_build(project)
    assert result.written == 1
    assert site.stat().st_ino == folder
    assert (site / "terms/gamma/index.html").stat().st_ino == untouched  # not even copied
    assert "then" in (site / "terms/beta/index.html").read_text()
    assert (site / "CNAME").read_text() == "glossary.example.org\n"
    assert not list(site.glob(output.WRITING + "*"))


def test_a_deleted_term_loses_its_page_and_folder_but_not_a_users_file(project, tmp_path):
    (project / "content/terms/delta.md").write_text(term_text("Delta", body="Delta after [[alpha]]."))
    (project / "content/terms/epsilon.md").write_text(term_text("Epsilon", body="Epsilon after [[alpha]]."))
    run_build(project)
    (project / "site/terms/epsilon/notes.txt").write_text("mine")
    (project / "content/terms/delta.md").unlink()
    (project / "content/terms/epsilon.md").unlink()
    run_build(project)
    assert not (project / "site/terms/delta").exists()
    assert (project / "site/terms/epsilon/notes.txt").read_text() == "mine"
    assert not (project / "site/terms/epsilon/index.html").exists()
    published = json.loads((project / "site" / MARKER).read_text())["files"]
    assert not any("delta" in path or "epsilon" in path for path in published)
    mine = tree_bytes(project / "site")
    mine.pop(MARKER), mine.pop("terms/epsilon/notes.txt")
    assert mine == clean_site(project, tmp_path)


def test_a_new_page_never_overwrites_a_file_we_did_not_write(project):
    run_build(project)
    (project / "site/terms/delta").mkdir()
    (project / "site/terms/delta/index.html").write_text("a user's page")
    before = snapshot(project / "site")
    (project / "content/terms/delta.md").write_text(term_text("Delta", body="Delta after [[alpha]]."))
    with pytest.raises(OutputError, match="did not write"):
        run_build(project)
    assert snapshot(project / "site") == before


def test_a_build_killed_while_writing_is_repaired_by_the_next(project, tmp_path, monkeypatch):
    run_build(project)
    old = tree_bytes(project / "site")
    for name, body in (("alpha", "Alpha, edited, comes before [[beta]]."), ("beta", "Beta, edited, follows [[alpha]].")):
        (project / f"content/terms/{name}.md").write_text(term_text(name.title(), body=body))
    real = output._replace_file
    written = []

    def dies_on_the_second_file(out, target, data):
        if written:
            raise KeyboardInterrupt
        written.append(target)
        real(out, target, data)

    with monkeypatch.context() as patch, pytest.raises(KeyboardInterrupt):
        patch.setattr(output, "_replace_file", dies_on_the_second_file)
        run_build(project)
    now = tree_bytes(project / "site")
    new = clean_site(project, tmp_path)
    assert all(now[path] in (old.get(path), new.get(path)) for path in now)  # each file old or new, whole
    assert not list((project / "site").glob(output.WRITING + "*"))
    run_build(project)
    repaired = tree_bytes(project / "site")
    repaired.pop(MARKER)
    assert repaired == new


def test_what_a_killed_update_was_writing_is_removed_by_the_next_build(project):
    run_build(project)
    leftover = project / "site" / f"{output.WRITING}-4242"
    leftover.write_bytes(b"half a page")
    (project / "content/terms/beta.md").write_text(term_text("Beta", body="Beta follows [[alpha]], [[gamma]]."))
    run_build(project)
    assert not leftover.exists()
    assert output.WRITING not in (project / "site" / MARKER).read_text()


def test_an_update_never_writes_through_a_folder_turned_into_a_symlink(project, tmp_path):
    run_build(project)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    folder = project / "site/terms/beta"
    for child in folder.iterdir():
        child.unlink()
    folder.rmdir()
    folder.symlink_to(elsewhere, target_is_directory=True)
    (project / "content/terms/beta.md").write_text(term_text("Beta", body="Beta follows [[alpha]], [[gamma]]."))
    with pytest.raises(OutputError, match="terms/beta"):
        run_build(project)
    assert list(elsewhere.iterdir()) == []


def test_the_published_folder_is_readable_by_a_web_server(project):
    """A new site gets a new folder's permissions (not a private temporary folder's), and
    a clean rebuild keeps the permissions someone gave the site."""
    probe = project / "probe"
    probe.mkdir()
    run_build(project)
    assert (project / "site").stat().st_mode & 0o777 == probe.stat().st_mode & 0o777
    (project / "site").chmod(0o750)
    run_build(project, incremental=False)
    assert (project / "site").stat().st_mode & 0o777 == 0o750
