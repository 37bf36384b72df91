"""Accessibility of the shipped glossary: axe-core in headless Chromium, and a keyboard walk.

The real content is copied into a temporary folder and built once for the module.
Pages are opened from disk (file:// URLs), except the 404 page: a host serves it
for a missing address at any depth, so its links start at the site root ("/");
opened from disk those would point at the root of the file system. It is served
here by a small local HTTP server, for a missing address, the way a host serves it.

axe-core comes from the npm registry: AXE_CORE_JS names axe.min.js, else
node_modules/axe-core/axe.min.js in the repository (`npm install --no-save
--no-package-lock axe-core@4`). Without it, or without Playwright or Chromium,
the module is skipped, except when the CI environment variable is set: there it
is a failure, so CI can never pass by silently skipping.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from browsing import expect, require_browser
from conftest import REPO

from glossary_build.build import build
from glossary_build.config import load_config


AXE = Path(os.environ.get("AXE_CORE_JS") or REPO / "node_modules" / "axe-core" / "axe.min.js")
MISSING = require_browser("accessibility tests", None if AXE.is_file() else (
    f"axe-core not found at {AXE} (set AXE_CORE_JS, or run "
    "`npm install --no-save --no-package-lock axe-core@4` in the repository)"))

SCHEMES = ["light", "dark"]
CALCULATOR_TERM = "lora"


# -- fixtures ------------------------------------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> dict:
    """The shipped glossary, copied and built once: {"out": folder, "pages": {name: path}}."""
    root = tmp_path_factory.mktemp("a11y-site")
    shutil.copytree(REPO / "content", root / "content")
    shutil.copy2(REPO / "glossary.yaml", root / "glossary.yaml")
    config, problems = load_config(root)
    assert not problems, [p.format() for p in problems]
    build(config, config_problems=problems, incremental=False)
    out = config.out_dir

    def has_calculator(slug: str) -> bool:
        return "assets/calculator.js" in (out / "terms" / slug / "index.html").read_text(encoding="utf-8")

    export = json.loads((out / "terms.json").read_text(encoding="utf-8"))
    slugs = [t["slug"] for t in export["terms"]]
    assert has_calculator(CALCULATOR_TERM), f"{CALCULATOR_TERM} has no calculator any more; pick another term"
    plain = next(slug for slug in ["router", *slugs] if not has_calculator(slug))
    category = next(t["category"] for t in export["terms"] if t["slug"] == CALCULATOR_TERM)
    category_page = next(path for path in (out / "categories").glob("*/index.html")
                         if f"<h1>{category}</h1>" in path.read_text(encoding="utf-8"))
    return {"out": out, "pages": {
        "index": "index.html",
        "category": str(category_page.relative_to(out)),
        "categories with their map": "categories/index.html",
        "term with calculator": f"terms/{CALCULATOR_TERM}/index.html",
        "term without calculator": f"terms/{plain}/index.html",
    }}


@pytest.fixture(scope="module")
def server(site):
    """The site over HTTP on 127.0.0.1; a missing path gets 404.html with status 404, as on a host."""
    out = site["out"]

    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(out), **kwargs)

        def send_error(self, code, message=None, explain=None):
            if code != 404:
                return super().send_error(code, message, explain)
            body = (out / "404.html").read_bytes()
            self.send_response(404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


@pytest.fixture
def axe_tab(open_tab):
    # The pages' Content-Security-Policy (script-src 'self') blocks the inline <script>
    # that page.add_script_tag(path=...) inserts, so the axe context alone bypasses CSP.
    # CSP itself is checked, with no bypass, by every test in test_reader.py.
    return open_tab(bypass_csp=True)


# -- helpers -------------------------------------------------------------------


def open_page(page, url: str, scheme: str):
    page.emulate_media(color_scheme=scheme)
    response = page.goto(url)
    expect(page.locator(".site-search")).to_have_class(re.compile(r"\bready\b"))  # glossary.js has run
    if page.locator(".calculator").count():
        expect(page.locator(".calculator").first).to_have_class(re.compile(r"\blive\b"))
    return response


def axe_violations(page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    # preload: false - axe would otherwise fetch the stylesheets with XMLHttpRequest, which
    # Chromium refuses for file:// pages (a console error of axe's, not of the page)
    return page.evaluate("async () => (await axe.run(document, {preload: false})).violations")


def describe(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']} "
                     f"[{', '.join(violation['tags'])}] {violation['helpUrl']}")
        for node in violation["nodes"]:
            summary = " ".join(node.get("failureSummary", "").split())
            lines.append(f"    {node['target']}: {summary}")
            lines.append(f"        {node['html'][:200]}")
    return "\n".join(lines)


def assert_no_violations(page, what: str, known: str | None = None):
    """known: the rule a strict xfail expects; any other violation fails outright (pytest.fail
    is not the AssertionError those xfails accept), so a known bug cannot hide a new one."""
    violations = axe_violations(page)
    others = [violation for violation in violations if violation["id"] != known]
    if known and others:
        pytest.fail(f"axe found rules violated on {what} besides {known}:\n{describe(others)}", pytrace=False)
    assert not violations, f"axe found {len(violations)} rule(s) violated on {what}:\n{describe(violations)}"


# -- axe on whole pages --------------------------------------------------------


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("name", ["index", "category", "term with calculator", "term without calculator"])
def test_axe_finds_no_violations(axe_tab, site, name, scheme):
    path = site["pages"][name]
    open_page(axe_tab.page, (site["out"] / path).as_uri(), scheme)
    assert_no_violations(axe_tab.page, f"{path} ({scheme})")


@pytest.mark.parametrize("scheme", SCHEMES)
def test_axe_finds_no_violations_on_the_404_page(axe_tab, server, scheme):
    url = server + "terms/no-such-term/"
    page = axe_tab.page
    # Chromium logs a 404 response as a failed load: the document's own status is the point
    # here, and /favicon.ico is the browser's own request (the theme declares no icon)
    axe_tab.expected.append(lambda message: "status of 404" in message.text
                            and message.location.get("url") in (url, server + "favicon.ico"))
    response = open_page(page, url, scheme)
    assert response.status == 404
    expect(page.locator("h1")).to_have_text("Page not found")
    # styled and scripted from the site root: the stylesheet applied, the search works
    assert page.evaluate("getComputedStyle(document.body).marginTop") == "0px"
    assert_no_violations(page, f"the 404 page at {url} ({scheme})")


# -- axe on the states the scripts create ----------------------------------------


@pytest.mark.parametrize("scheme", SCHEMES)
def test_axe_with_search_results_open(axe_tab, site, scheme):
    page = axe_tab.page
    open_page(page, (site["out"] / "index.html").as_uri(), scheme)
    page.locator("#search-input").fill("token")
    expect(page.locator("#search-results [role=option]").first).to_be_visible()
    assert_no_violations(page, f"index.html with search results open ({scheme})", known="nested-interactive")


@pytest.mark.parametrize("scheme", SCHEMES)
def test_axe_with_a_preview_open(axe_tab, site, scheme):
    page = axe_tab.page
    open_page(page, (site["out"] / site["pages"]["term without calculator"]).as_uri(), scheme)
    page.locator("article .body a.term-link").first.hover()
    expect(page.locator("#term-preview")).to_be_visible()
    assert_no_violations(page, f"{site['pages']['term without calculator']} with a preview open ({scheme})",
                         known="region")


# -- the keyboard ----------------------------------------------------------------

FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return null;
  window.__seen = window.__seen || new WeakSet();
  if (window.__seen.has(el)) return {repeat: true};
  window.__seen.add(el);
  const box = el.getBoundingClientRect();
  const first = el.getClientRects()[0] || box;
  const hit = document.elementFromPoint(first.left + first.width / 2, first.top + first.height / 2);
  const style = getComputedStyle(el);
  let opacity = 1;
  for (let e = el; e; e = e.parentElement) opacity *= parseFloat(getComputedStyle(e).opacity);
  let background = 'rgba(0, 0, 0, 0)';
  for (let e = el.parentElement; e; e = e.parentElement) {
    const color = getComputedStyle(e).backgroundColor;
    if (!/^rgba\\(.*, 0\\)$/.test(color) && color !== 'transparent') { background = color; break; }
  }
  const classes = typeof el.className === 'string' && el.className.trim() ? '.' + el.className.trim().split(/\\s+/).join('.') : '';
  const text = (el.getAttribute('aria-label') || el.textContent || el.value || '').trim().replace(/\\s+/g, ' ').slice(0, 40);
  return {
    name: `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${classes} "${text}"`,
    width: box.width, height: box.height, top: box.top, left: box.left, bottom: box.bottom, right: box.right,
    viewportWidth: document.documentElement.clientWidth, viewportHeight: window.innerHeight,
    covered: !(hit && (hit === el || el.contains(hit))),
    hiddenBy: hit && !(hit === el || el.contains(hit)) ? hit.tagName.toLowerCase() + (hit.id ? '#' + hit.id : '') + (typeof hit.className === 'string' && hit.className ? '.' + hit.className.trim().split(/\\s+/).join('.') : '') : null,
    visibility: style.visibility, opacity,
    outlineStyle: style.outlineStyle, outlineWidth: parseFloat(style.outlineWidth) || 0,
    outlineColor: style.outlineColor, boxShadow: style.boxShadow, background,
  };
}"""


def tab_through(page, limit: int = 600) -> list[dict]:
    """Press Tab until the focus leaves the page or comes back round; what was focused, in order."""
    stops = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        stop = page.evaluate(FOCUSED)
        if stop is None and stops:
            break
        if stop is None:
            continue
        if stop.get("repeat"):
            break
        stops.append(stop)
    else:
        pytest.fail(f"still tabbing after {limit} presses")
    return stops


def focus_problems(stop: dict) -> list[str]:
    problems = []
    if stop["width"] <= 0 or stop["height"] <= 0:
        problems.append(f"empty box {stop['width']}x{stop['height']}")
    elif (stop["bottom"] <= 0 or stop["top"] >= stop["viewportHeight"]
          or stop["right"] <= 0 or stop["left"] >= stop["viewportWidth"]):
        problems.append(f"outside the viewport (top {stop['top']:.0f}, left {stop['left']:.0f})")
    elif stop["covered"]:
        problems.append(f"covered by {stop['hiddenBy']}")
    if stop["visibility"] != "visible" or stop["opacity"] < 0.5:
        problems.append(f"hard to see (visibility {stop['visibility']}, opacity {stop['opacity']})")
    outline = stop["outlineStyle"] != "none" and stop["outlineWidth"] > 0
    if not outline and stop["boxShadow"] in ("none", ""):
        problems.append("no focus indicator (no outline, no box-shadow)")
    return problems


def rgb(color: str) -> tuple[float, float, float, float]:
    parts = [float(p) for p in re.findall(r"[\d.]+", color)]
    return (*parts[:3], parts[3] if len(parts) > 3 else 1.0)


def contrast(foreground: str, background: str) -> float:
    def luminance(channels):
        def linear(c):
            c /= 255
            return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
        r, g, b = (linear(c) for c in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    lighter, darker = sorted((luminance(rgb(foreground)[:3]), luminance(rgb(background)[:3])), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("name", ["index", "term with calculator"])
def test_every_tab_stop_is_visible_and_shows_focus(open_tab, site, name, scheme):
    page = open_tab().page
    path = site["pages"][name]
    open_page(page, (site["out"] / path).as_uri(), scheme)
    stops = tab_through(page)
    assert len(stops) > 10, [s["name"] for s in stops]
    assert stops[0]["name"].startswith("a.skip-link"), stops[0]["name"]
    failing = [f"{stop['name']}: {'; '.join(problems)}" for stop in stops if (problems := focus_problems(stop))]
    assert not failing, f"{len(failing)} of {len(stops)} tab stops on {path} ({scheme}):\n" + "\n".join(failing)


@pytest.mark.parametrize("scheme", [
    "light",
    "dark",
])
def test_focus_outline_contrasts_with_what_is_behind_it(open_tab, site, scheme):
    page = open_tab().page
    path = site["pages"]["term with calculator"]
    open_page(page, (site["out"] / path).as_uri(), scheme)
    failing = []
    for stop in tab_through(page):
        if stop["outlineStyle"] == "none" or not stop["outlineWidth"]:
            continue  # reported by the test above
        ratio = contrast(stop["outlineColor"], stop["background"])
        if ratio < 3:
            failing.append(f"{stop['name']}: outline {stop['outlineColor']} on {stop['background']} = {ratio:.2f}:1")
    assert not failing, f"{len(failing)} focus outlines under 3:1 on {path} ({scheme}):\n" + "\n".join(failing[:15])
