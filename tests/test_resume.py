"""`glossary build` after an edit of prose: the few pages it changes, from what the cache keeps.

Every test compares the site with a clean build of the same files, and says which
way the build took by making the full way fail.
"""

from __future__ import annotations

import shutil

import pytest

from conftest import run_build, run_check, term_text, terms, tree_bytes, write_project
from glossary_build import build as build_module
from glossary_build.build import build
from glossary_build.config import load_config
from glossary_build.diagnostics import BuildFailed

START = terms(
    parameter=term_text("Parameter", "A learned number.", body="Weights and biases are parameters. See [[lora]].",
                        category="Basics", related=["weight"]),
    weight=term_text("Weight", "A multiplier.", body="A weight is a parameter.", category="Basics"),
    lora=term_text("LoRA", "Low-rank adapters.", aliases=["low-rank adaptation"], category="Tuning",
                   body='LoRA trains few parameters.\n\n{{ figure("lora_params", rank=4) }}'),
    mixture=term_text("Mixture of experts", "Many experts.", aliases=["MoE"], category="Tuning",
                      body="An MoE uses parameters sparsely; each expert is a weight block."),
)


def edit(root, name, **fields):
    text = dict(title=name.capitalize(), summary="A multiplier.", body="A weight is a parameter.", category="Basics")
    text.update(fields)
    write_project(root, {f"content/terms/{name}.md": term_text(text.pop("title"), text.pop("summary"), **text)})


def same_as_clean(root, tmp_path) -> None:
    clean = tmp_path / "clean"
    shutil.rmtree(clean, ignore_errors=True)
    shutil.copytree(root / "content", clean / "content")
    if (root / "glossary.yaml").exists():
        shutil.copy(root / "glossary.yaml", clean / "glossary.yaml")
    config, _ = load_config(clean)
    build(config, incremental=False)
    mine, theirs = tree_bytes(root / "site"), tree_bytes(clean / "site")
    assert mine.keys() == theirs.keys()
    for path in mine:
        assert mine[path] == theirs[path], f"{path} differs from a clean build"


@pytest.fixture
def no_full_way(monkeypatch):
    """no_full_way(root): from now on, a build of root that checks the whole glossary fails the test."""
    real = build_module.load_glossary

    def on(root):
        def load_glossary(config, *args, **kwargs):
            if config.root == root:
                pytest.fail("took the full way")
            return real(config, *args, **kwargs)
        monkeypatch.setattr(build_module, "load_glossary", load_glossary)
    return on


def test_a_new_link_rewrites_the_edited_page_the_linked_one_and_the_map_of_categories(tmp_path, no_full_way):
    root = write_project(tmp_path / "project", START)
    run_build(root)
    no_full_way(root)
    edit(root, "weight", body="A weight is a parameter; [[lora]] trains a few of them.")
    result = run_build(root)
    # lora gains a backlink from another category: its page and the map of categories change
    assert result.paths == ["categories/index.html", "terms/lora/index.html", "terms/weight/index.html"]
    assert result.reused == result.files - 3
    same_as_clean(root, tmp_path)


def test_edits_one_after_another_equal_clean_builds(tmp_path, no_full_way, monkeypatch):
    root = write_project(tmp_path / "project", START)
    run_build(root)
    no_full_way(root)
    edit(root, "weight", body="A weight scales a parameter, as [[lora]] does.")
    run_build(root)
    same_as_clean(root, tmp_path)
    edit(root, "weight", body="A weight scales an input.")  # the link goes again
    result = run_build(root)
    assert "terms/lora/index.html" in result.paths
    same_as_clean(root, tmp_path)
    monkeypatch.undo()
    edit(root, "weight", title="Weights")  # a title shows on other pages: the full way
    run_build(root)
    same_as_clean(root, tmp_path)
    no_full_way(root)
    edit(root, "weight", title="Weights", body="Weights scale inputs; see the [[parameter]].")
    run_build(root)
    same_as_clean(root, tmp_path)
    assert run_build(root).written == 0


def test_the_page_of_a_term_edited_before_is_read_back_from_the_cache(tmp_path, no_full_way):
    """lora's page, rendered again for a backlink, shows lora's own edit of the build before."""
    root = write_project(tmp_path / "project", START)
    run_build(root)
    no_full_way(root)
    edit(root, "lora", title="LoRA", summary="Low-rank adapters.", aliases=["low-rank adaptation"], category="Tuning",
         body="LoRA trains two small matrices.")
    run_build(root)
    edit(root, "mixture", title="Mixture of experts", summary="Many experts.", aliases=["MoE"], category="Tuning",
         body="An MoE can be tuned with [[lora]].")
    result = run_build(root)
    assert "terms/lora/index.html" in result.paths
    assert "two small matrices" in (root / "site/terms/lora/index.html").read_text()
    same_as_clean(root, tmp_path)


@pytest.mark.parametrize("change", ["title", "summary", "category", "new file", "settings"])
def test_an_edit_other_pages_show_takes_the_full_way(tmp_path, change, monkeypatch):
    root = write_project(tmp_path / "project", START)
    run_build(root)
    full = []
    real = build_module.load_glossary
    monkeypatch.setattr(build_module, "load_glossary", lambda *a, **k: full.append(1) or real(*a, **k))
    if change == "new file":
        edit(root, "bias", title="Bias", body="A bias shifts a weight.")
    elif change == "settings":
        write_project(root, {"glossary.yaml": "title: Another title\n"})
        edit(root, "weight", body="A weight scales a parameter.")
    else:
        edit(root, "weight", **{change: {"title": "Weights", "summary": "A factor.", "category": "Tuning"}[change]})
    result = run_build(root)
    assert full and result.written > 1
    same_as_clean(root, tmp_path)


def test_without_automatic_links_a_body_edit_is_quick_too(tmp_path, no_full_way):
    root = write_project(tmp_path / "project", {**START, "glossary.yaml": "autolink: false\n"})
    run_build(root)
    no_full_way(root)
    edit(root, "weight", body="A weight is a parameter, as [[lora]] shows.")
    assert "terms/lora/index.html" in run_build(root).paths
    same_as_clean(root, tmp_path)


def test_many_files_changed_at_once_take_the_parallel_full_way(tmp_path, monkeypatch):
    from glossary_build.quick import MAX_FILES

    many = {f"content/terms/t{i}.md": term_text(f"T{i}", body=f"See [[t{(i + 1) % 30}]].") for i in range(30)}
    root = write_project(tmp_path / "project", many)
    run_build(root)
    full = []
    real = build_module.load_glossary
    monkeypatch.setattr(build_module, "load_glossary", lambda *a, **k: full.append(1) or real(*a, **k))
    for i in range(MAX_FILES + 1):
        write_project(root, {f"content/terms/t{i}.md": term_text(f"T{i}", body=f"Now see [[t{(i + 1) % 30}]].")})
    run_build(root)
    assert full
    same_as_clean(root, tmp_path)


def test_an_error_is_reported_as_a_full_check_reports_it(tmp_path):
    root = write_project(tmp_path / "project", START)
    run_build(root)
    edit(root, "weight", body="A weight, see [[lorra]].")
    with pytest.raises(BuildFailed) as failed:
        run_build(root)
    assert [d.format() for d in failed.value.diagnostics] == [d.format() for d in run_check(root).diagnostics]
    assert "did you mean 'LoRA'" in str(failed.value)


def test_strict_with_warnings_takes_the_full_way(tmp_path):
    root = write_project(tmp_path / "project", START)
    run_build(root)  # mixture is an orphan: a warning
    edit(root, "weight", body="A weight scales a parameter.")
    with pytest.raises(BuildFailed):
        run_build(root, strict=True)


@pytest.mark.parametrize("damage", ["last.bin", "edits.bin", "bodies.bin", "terms.bin", "a published page",
                                    "state.bin is older"])
def test_anything_unexpected_takes_the_full_way(tmp_path, damage):
    root = write_project(tmp_path / "project", START)
    run_build(root)
    cache = root / ".glossary-cache"
    older_state = (cache / "state.bin").read_bytes()
    edit(root, "parameter", title="Parameter", summary="A learned number.", related=["weight"],
         body="Weights and biases are parameters; [[lora]] adds few.")
    run_build(root)  # a quick build: lora's page is now read from what it appended
    if damage == "a published page":
        (root / "site/terms/lora/index.html").write_text("changed by hand")
    elif damage == "state.bin is older":  # as if a build stopped between last.bin and state.bin
        (cache / "state.bin").write_bytes(older_state)
    else:
        data = (cache / damage).read_bytes()
        (cache / damage).write_bytes(data[:16] + bytes(b ^ 0x55 for b in data[16:]))
    edit(root, "mixture", title="Mixture of experts", summary="Many experts.", aliases=["MoE"], category="Tuning",
         body="An MoE is tuned with [[lora]].")
    run_build(root)
    same_as_clean(root, tmp_path)
    if damage == "a published page":
        assert "changed by hand" not in (root / "site/terms/lora/index.html").read_text()


@pytest.mark.parametrize("stop_at", ["save_last", "write_state"])
def test_a_quick_build_stopped_after_writing_pages_is_mended_by_the_next(tmp_path, monkeypatch, stop_at):
    """Killed between the pages and the cache: the next build trusts neither half-written state."""
    from glossary_build import resume

    root = write_project(tmp_path / "project", START)
    run_build(root)
    edit(root, "weight", body="A weight is a parameter; [[lora]] trains a few of them.")

    def stopped(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(resume, stop_at, stopped)
    with pytest.raises(KeyboardInterrupt):
        run_build(root)
    monkeypatch.undo()
    edit(root, "mixture", title="Mixture of experts", summary="Many experts.", aliases=["MoE"], category="Tuning",
         body="An MoE is tuned with [[lora]].")
    run_build(root)
    same_as_clean(root, tmp_path)
    assert run_build(root).written == 0


def test_the_trie_read_from_the_cache_finds_what_the_whole_trie_finds():
    """The quick way decodes a first word's branch only when a text has that word."""
    import marshal

    from glossary_build.links import Autolinker
    from glossary_build.resume import TrieRoot

    names = [("Mixture of experts", "moe"), ("MoE", "moe"), ("token", "token"), ("LoRA", "lora")]
    whole = Autolinker(names)
    lazy = Autolinker([], trie=TrieRoot({word: marshal.dumps(node) for word, node in whole.root.items()}))
    text = "A mixture of experts routes tokens; an MoE (not a moe) adapts with LoRA."
    assert [m.slug for m in lazy.find(text)] == [m.slug for m in whole.find(text)] == ["moe", "token", "moe", "lora"]
    assert sorted(dict.keys(lazy.root)) == ["lora", "mixture", "moe", "tokens"]  # decoded: the words the text has
    assert "expert" not in lazy.root and lazy.root.get("expert") is None
