"""`glossary serve`: build in memory, serve on 127.0.0.1, rebuild on save, reload the browser.

The served site lives in a dict of path -> bytes, so nothing outside the build
can be reached: no source file, no dotfile, no symlink. The output folder of
`glossary build` is never touched. A failed rebuild keeps the last good site and
shows the errors in an overlay on every page until a save fixes them.
"""

from __future__ import annotations

import dataclasses
import gc
import json
import mimetypes
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .config import Config, load_config
from .diagnostics import Diagnostic, errors_in

LIVE_PREFIX = "/__glossary/"
LIVE_SCRIPT = '<script src="/__glossary/live.js" defer></script>'
DEBOUNCE_SECONDS = 0.15
IGNORED_SUFFIXES = ("~", ".swp", ".swx", ".swo", ".tmp", ".part", ".crdownload")
IGNORED_PREFIXES = (".", "#", "~")
LIVE_JS = """(function () {
  "use strict";
  var overlay = null;
  function show(errors) {
    if (!overlay) {
      overlay = document.createElement("div");
      overlay.id = "glossary-overlay";
      overlay.setAttribute("role", "alert");
      overlay.style.cssText = "position:fixed;inset:auto 0 0 0;max-height:50vh;overflow:auto;z-index:2147483647;" +
        "background:#2b0d0d;color:#ffdede;font:14px/1.5 ui-monospace,monospace;padding:1rem 1.25rem;" +
        "border-top:4px solid #ff6b6b;white-space:pre-wrap";
      document.body.appendChild(overlay);
    }
    overlay.textContent = "glossary: the last save has problems; showing the last good build.\\n\\n" + errors.join("\\n");
  }
  function hide() {
    if (overlay) { overlay.remove(); overlay = null; }
  }
  function status(data) {
    if (data.errors.length) { show(data.errors); } else { hide(); }
  }
  fetch("/__glossary/status").then(function (r) { return r.json(); }).then(status).catch(function () {});
  var version = null;
  var events = new EventSource("/__glossary/events");
  events.addEventListener("build", function (event) {
    var data = JSON.parse(event.data);
    if (version !== null && data.version !== version) { window.location.reload(); return; }
    version = data.version;
    status(data);
  });
})();
"""


def is_editor_leftover(path: Path) -> bool:
    name = path.name
    return name.startswith(IGNORED_PREFIXES) or name.endswith(IGNORED_SUFFIXES) or name == "4913"


@dataclasses.dataclass
class Snapshot:
    files: dict[str, bytes]
    version: int
    errors: list[str]


class LiveSite:
    """The last good build, the current errors, and a condition readers wait on for news."""

    def __init__(self, src: Path, drafts: bool = False):
        self.src = src
        self.drafts = drafts
        self.changed = threading.Condition()
        self.snapshot = Snapshot({}, 0, [])
        self.seconds = 0.0  # how long the last rebuild took
        self.written = 0  # pages the last rebuild rendered
        self.cache = None  # BuildCache kept in memory between rebuilds
        self.keys: dict[str, str] = {}  # input hash of every page of the last good build
        self.last = None  # quick.LastBuild: what an edit of prose needs
        self.site = None  # render.SiteRenderer, kept between rebuilds

    def rebuild(self) -> list[Diagnostic]:
        """Build in memory; publish only a complete success. Returns the diagnostics.

        Python's cycle collector stays out of the rebuild: each of its full passes
        walks every object the last build keeps (a third of a rebuild's time at
        10,000 terms). Call settle() once the new site is out.
        """
        gc.unfreeze()  # what the last build kept can be freed once this one replaces it
        enabled = gc.isenabled()
        gc.disable()
        try:
            return self._rebuild()
        finally:
            if enabled:
                gc.enable()

    def settle(self) -> None:
        """Collect what rebuilding left behind, then keep what is alive out of later
        collections; after publishing, so that no reader waits for it."""
        gc.collect()
        gc.freeze()

    def _rebuild(self) -> list[Diagnostic]:
        from .build import check
        from .parallel import default_workers
        from .incremental import BuildCache
        from .quick import LastBuild
        from .render import PlanMemo, SiteRenderer

        started = time.perf_counter()
        config, problems = load_config(self.src, drafts=self.drafts)
        config = dataclasses.replace(config, base_url="")  # served from this machine's root
        if self.last is not None and not problems:
            diagnostics = self._quick(config)
            if diagnostics is not None:
                self.seconds = time.perf_counter() - started
                return diagnostics
        # compiled templates and what planning made are kept; Jinja recompiles an edited template
        site = self.site = self.site or SiteRenderer(memo=PlanMemo())
        self.cache = self.cache or BuildCache()
        result = check(config, config_problems=problems, site=site, cache=self.cache,
                       workers=default_workers())  # bodies, then pages, on every core
        diagnostics = result.diagnostics
        with self.changed:
            if result.glossary is None:
                errors = [d.format() for d in errors_in(diagnostics)]
                self.snapshot = Snapshot(self.snapshot.files, self.snapshot.version, errors)
            else:
                # page keys leave out what changes every page at once (the theme, formulas): the fingerprint has it
                same_theme = self.last is not None and self.last.fingerprint == self.cache.fingerprint
                rendered = site.render_site(result.glossary, self.keys if same_theme else {}, default_workers())
                old = self.snapshot.files
                files = {path: rendered.files[path] if path in rendered.files else old[path] for path in rendered.keys}
                self.keys, self.written = rendered.keys, len(rendered.files)
                self.snapshot = Snapshot(files, self.snapshot.version + 1, [])
                self.last = LastBuild.after(config, result.glossary, diagnostics, result.renderer, site,
                                            rendered.keys, self.cache)
            self.changed.notify_all()
        self.seconds = time.perf_counter() - started
        return diagnostics

    def _quick(self, config) -> list[Diagnostic] | None:
        """An edit of prose or names, without checking the whole glossary; None when the edit
        may reach further (quick.py says what counts)."""
        from .quick import quick_rebuild

        try:
            result = quick_rebuild(self.last, config)
        except Exception:  # noqa: BLE001 - a shortcut that trips takes the full way, which reports what is wrong
            return None
        if result is None:
            return None
        for name in result.changed:  # the full way re-reads these files and renders them again
            known = self.cache.known_terms.pop(name, None)
            if known is not None:
                self.cache.bodies.pop(known.term.slug, None)
        with self.changed:
            if result.last is None:
                errors = [d.format() for d in errors_in(result.diagnostics)]
                self.snapshot = Snapshot(self.snapshot.files, self.snapshot.version, errors)
            else:
                self.last, self.keys, self.written = result.last, result.last.keys, len(result.files)
                if result.files or self.snapshot.errors:
                    files = {**self.snapshot.files, **result.files}
                    self.snapshot = Snapshot(files, self.snapshot.version + 1, [])
            self.changed.notify_all()
        return result.diagnostics

    def wait_for_news(self, version: int, errors: list[str], timeout: float) -> Snapshot:
        with self.changed:
            self.changed.wait_for(
                lambda: self.snapshot.version != version or self.snapshot.errors != errors, timeout
            )
            return self.snapshot


def resolve_request(path: str, files: dict[str, bytes]) -> tuple[int, str]:
    """(status, key or redirect target) for a request path; refuses anything that could escape."""
    raw = urlsplit(path).path
    lowered = raw.lower()
    if "\x00" in raw or "%00" in lowered or "\\" in raw or "%5c" in lowered or "%2f" in lowered:
        return HTTPStatus.BAD_REQUEST, ""
    decoded = unquote(raw)
    parts = decoded.split("/")
    if any(part in (".", "..") or part.startswith(".") for part in parts if part) or "\x00" in decoded:
        return HTTPStatus.NOT_FOUND, ""
    key = "/".join(part for part in parts if part)
    if key == "":
        return HTTPStatus.OK, "index.html"
    if key in files:
        return HTTPStatus.OK, key
    if f"{key}/index.html" in files:
        if raw.endswith("/"):
            return HTTPStatus.OK, f"{key}/index.html"
        return HTTPStatus.MOVED_PERMANENTLY, raw + "/"
    return HTTPStatus.NOT_FOUND, ""


def waiting_page(errors: list[str]) -> bytes:
    from html import escape

    listing = escape("\n".join(errors) or "building...")
    return (f"<!doctype html><html lang=en><head><meta charset=utf-8><title>glossary: no build yet</title>"
            f"</head><body><h1>The glossary does not build yet</h1><pre>{listing}</pre></body></html>").encode()


def make_handler(live: LiveSite, allowed_hosts: set[str]):
    class Handler(BaseHTTPRequestHandler):
        server_version = "glossary"
        protocol_version = "HTTP/1.1"

        def log_message(self, format, *args):  # noqa: A002 - the base class's name
            pass  # the terminal shows builds, not every request

        def do_HEAD(self):  # noqa: N802 - http.server's name
            self.do_GET(head=True)

        def do_GET(self, head: bool = False):  # noqa: N802 - http.server's name
            if self.headers.get("Host", "") not in allowed_hosts:
                return self.send_text(HTTPStatus.FORBIDDEN, "unknown Host header", head)
            path = urlsplit(self.path).path
            if path.startswith(LIVE_PREFIX):
                return self.live(path[len(LIVE_PREFIX):], head)
            snapshot = live.snapshot
            if not snapshot.files:  # no good build yet: say why, and reload when there is one
                return self.send_body(HTTPStatus.SERVICE_UNAVAILABLE, "x.html", waiting_page(snapshot.errors), head)
            status, target = resolve_request(self.path, snapshot.files)
            if status == HTTPStatus.MOVED_PERMANENTLY:
                self.send_response(status)
                self.send_header("Location", target)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if status == HTTPStatus.BAD_REQUEST:
                return self.send_text(status, "bad request", head)
            if status == HTTPStatus.NOT_FOUND:
                body = snapshot.files.get("404.html", b"not found")
                return self.send_body(HTTPStatus.NOT_FOUND, "404.html", body, head)
            return self.send_body(HTTPStatus.OK, target, snapshot.files[target], head)

        def send_body(self, status: int, name: str, body: bytes, head: bool):
            kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
            if kind == "text/html":
                body = body.replace(b"</head>", LIVE_SCRIPT.encode() + b"\n</head>", 1)
            if kind.startswith("text/") or kind in ("application/javascript", "application/json"):
                kind += "; charset=utf-8"
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.end_headers()
            if not head:
                self.wfile.write(body)

        def send_text(self, status: int, text: str, head: bool = False):
            self.send_body(status, "x.txt", text.encode(), head)

        def live(self, name: str, head: bool):
            snapshot = live.snapshot
            if name == "live.js":
                return self.send_body(HTTPStatus.OK, "live.js", LIVE_JS.encode(), head)
            if name == "status":
                data = json.dumps({"version": snapshot.version, "errors": snapshot.errors}).encode()
                return self.send_body(HTTPStatus.OK, "status.json", data, head)
            if name == "events":
                return self.events()
            return self.send_text(HTTPStatus.NOT_FOUND, "not found", head)

        def events(self):
            """Server-sent events: the current build at once, then every change."""
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.close_connection = True
            snapshot = live.snapshot
            try:
                while not getattr(self.server, "stopping", False):
                    data = json.dumps({"version": snapshot.version, "errors": snapshot.errors})
                    self.wfile.write(f"event: build\ndata: {data}\n\n".encode())
                    self.wfile.flush()
                    snapshot = live.wait_for_news(snapshot.version, snapshot.errors, timeout=15)
            except (BrokenPipeError, ConnectionResetError):
                return

    return Handler


class Watcher:
    """Rebuilds after a burst of saves has settled; ignores editor leftovers."""

    def __init__(self, live: LiveSite, config: Config, on_rebuild):
        from watchdog.events import FileSystemEventHandler
        from watchdog.observers import Observer

        self.live = live
        self.on_rebuild = on_rebuild
        self.pending = threading.Event()
        self.last_event = 0.0
        watcher = self

        class Handler(FileSystemEventHandler):
            def on_any_event(self, event):
                if event.event_type in ("opened", "closed_no_write"):
                    return
                if event.is_directory and event.event_type == "modified":
                    return  # a file inside changed; that file's own event decides
                paths = [Path(event.src_path)] + ([Path(event.dest_path)] if getattr(event, "dest_path", "") else [])
                if all(watcher.ignored(path) for path in paths):
                    return
                watcher.last_event = time.monotonic()
                watcher.pending.set()

        from .theme import theme_dir

        self.root = config.root.resolve()
        self.observer = Observer()
        if config.content_dir.is_dir():
            self.observer.schedule(Handler(), str(config.content_dir), recursive=True)
        self.observer.schedule(Handler(), str(theme_dir()), recursive=True)
        self.observer.schedule(Handler(), str(config.root), recursive=False)
        self.thread = threading.Thread(target=self.run, daemon=True)

    def ignored(self, path: Path) -> bool:
        if is_editor_leftover(path):
            return True
        if path.resolve().parent == self.root:  # in the project folder itself, only settings and formulas count
            return path.name not in ("glossary.yaml", "formulas.py")
        return False

    def start(self):
        self.observer.start()
        self.thread.start()

    def run(self):
        while True:
            self.pending.wait()
            while time.monotonic() - self.last_event < DEBOUNCE_SECONDS:
                time.sleep(DEBOUNCE_SECONDS / 3)
            self.pending.clear()
            self.on_rebuild(self.live.rebuild())
            self.live.settle()

    def stop(self):
        self.observer.stop()


def make_server(live: LiveSite, host: str, port: int) -> ThreadingHTTPServer:
    # DNS rebinding: a page elsewhere may resolve its own name to this machine; only our names are answered
    allowed = {f"{host}:{port}", f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"}
    server = ThreadingHTTPServer((host, port), make_handler(live, allowed))
    server.daemon_threads = True
    return server
