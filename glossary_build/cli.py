"""The `glossary` command: click wiring only; each command calls one library function.

Heavy modules are imported inside the commands so `glossary --help` stays instant.
A user error is a one-line message and exit code 1, never a traceback.
"""

from __future__ import annotations

from pathlib import Path

import sys

import click

from . import __version__

src_option = click.option(
    "--src", type=click.Path(file_okay=False, path_type=Path), default=Path("."), show_default=True,
    help="Project folder holding glossary.yaml and content/terms/.",
)
strict_option = click.option("--strict", is_flag=True, help="Fail on warnings too (orphan terms, ...).")
drafts_option = click.option("--drafts", is_flag=True, help="Include terms marked draft: true.")


def _load_config(src: Path, out: Path | None = None, base_url: str | None = None, drafts: bool = False):
    from .config import load_config

    return load_config(src, out=out, base_url=base_url, drafts=drafts)


def _progress_bar(items, label):
    """A progress bar on a terminal for long builds; nothing in logs and pipes."""
    if not sys.stderr.isatty() or (hasattr(items, "__len__") and len(items) < 300):
        return items
    return _with_bar(items, label)


def _with_bar(items, label):
    with click.progressbar(items, label=label, file=sys.stderr, length=getattr(items, "__len__", lambda: None)()) as bar:
        yield from bar


def _stop_cleanly_on_sigterm() -> None:
    """SIGTERM (a CI timeout, `kill`) unwinds like Ctrl-C, so a half-written site is removed."""
    import signal

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def _report(diagnostics) -> None:
    for diagnostic in diagnostics:
        click.echo(diagnostic.format(), err=True)


def _tally(diagnostics) -> str:
    errors = sum(d.severity == "error" for d in diagnostics)
    warnings = len(diagnostics) - errors
    return f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="glossary")
def main() -> None:
    """Build a cross-referenced glossary website from Markdown term files.

    \b
    Examples:
      glossary build                 # content/terms/*.md -> site/
      glossary check --strict        # validate only, fail on warnings
      glossary calc weight_memory params=7e9 precision=fp16
    """


def _left_as(clean: bool) -> str:
    """What a build that stopped while writing leaves (see output.SiteWriter)."""
    if clean:  # a whole new site, swapped in only when complete
        return "is as it was before this build"
    return "holds no half-written file (each is old or new); the next build brings the rest up to date"


@main.command()
@src_option
@click.option("--out", type=click.Path(path_type=Path), help="Output folder (default: site/ in the project).")
@strict_option
@drafts_option
@click.option("--base-url", help="Public address of the site, e.g. https://example.org/glossary/.")
@click.option("--clean", is_flag=True, help="Ignore the cache in .glossary-cache/ and render every page.")
@click.option("-q", "--quiet", is_flag=True, help="Print errors only.")
@click.option("-v", "--verbose", is_flag=True, help="Also list every file written.")
def build(src: Path, out: Path | None, strict: bool, drafts: bool, base_url: str | None, clean: bool,
          quiet: bool, verbose: bool) -> None:
    """Build the site; the previous site stays untouched if anything fails.

    \b
    Examples:
      glossary build
      glossary build --src my-glossary --out public --base-url https://example.org/
    """
    from .build import build as run_build
    from .diagnostics import BuildFailed, display_path
    from .output import OutputError

    config, problems = _load_config(src, out, base_url, drafts)
    _stop_cleanly_on_sigterm()
    try:
        result = run_build(config, strict=strict, config_problems=problems, incremental=not clean,
                           progress=_progress_bar if not quiet else (lambda items, label: items))
    except BuildFailed as failed:
        _report([d for d in failed.diagnostics if d.severity == "error" or not quiet])
        raise click.ClickException(
            f"build failed ({_tally(failed.diagnostics)}); {display_path(config.out_dir)} was not changed"
        ) from None
    except OutputError as refused:
        raise click.ClickException(str(refused)) from None
    except KeyboardInterrupt:
        raise click.ClickException(f"interrupted; {display_path(config.out_dir)} {_left_as(clean)}") from None
    except OSError as error:  # a full disk, a read-only folder
        raise click.ClickException(
            f"cannot write the site ({error.strerror}: {error.filename or config.out_dir}); "
            f"{display_path(config.out_dir)} {_left_as(clean)}") from None
    if quiet:
        return
    _report(result.diagnostics)
    if verbose:
        for path in result.paths:
            click.echo(f"  wrote {path}")
    click.echo(
        f"Built {result.terms} terms into {display_path(config.out_dir)}/: "
        f"{result.written} file{'s' * (result.written != 1)} written, "
        f"{result.reused} unchanged, {_tally(result.diagnostics)}, {result.seconds:.2f}s"
    )


@main.command()
@src_option
@strict_option
@drafts_option
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="json: one object with every diagnostic, for editors and CI.")
def check(src: Path, strict: bool, drafts: bool, output_format: str) -> None:
    """Validate every term without writing anything; print problems as path:line: message.

    \b
    Examples:
      glossary check
      glossary check --strict            # warnings (orphans, long summaries) fail too
      glossary check --format json       # for editors and CI
    """
    import json

    from .build import check as run_check

    config, problems = _load_config(src, drafts=drafts)
    result = run_check(config, strict=strict, config_problems=problems)
    if output_format == "json":
        click.echo(json.dumps({
            "ok": result.glossary is not None,
            "terms": len(result.glossary.terms) if result.glossary else None,
            "diagnostics": [
                {"path": d.path, "line": d.line, "severity": d.severity, "message": d.message}
                for d in result.diagnostics
            ],
        }, indent=2, ensure_ascii=False))
        if result.glossary is None:
            raise SystemExit(1)
        return
    _report(result.diagnostics)
    if result.glossary is None:
        raise click.ClickException(f"check failed ({_tally(result.diagnostics)})")
    click.echo(f"Checked {len(result.glossary.terms)} terms: {_tally(result.diagnostics)}")


@main.command()
@src_option
@click.option("--port", type=int, default=8000, show_default=True, help="Port to listen on.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind; anything but this machine's loopback exposes the site to the network.")
@drafts_option
def serve(src: Path, port: int, host: str, drafts: bool) -> None:
    """Build in memory and serve on this machine; rebuild and reload the browser on every save.

    The output folder of `glossary build` is never touched. Build errors appear in the
    terminal and over every page, and the last good build stays up until you fix them.

    \b
    Examples:
      glossary serve
      glossary serve --port 8080 --drafts
    """
    import errno

    from .serve import LiveSite, Watcher, make_server

    if host not in ("127.0.0.1", "localhost", "::1"):
        click.echo(f"warning: binding to {host} makes the site reachable from other machines", err=True)
    config, _ = _load_config(src, drafts=drafts)
    live = LiveSite(src, drafts=drafts)

    def report(diagnostics):
        _report(diagnostics)
        if live.snapshot.errors:
            click.echo(f"Build failed ({_tally(diagnostics)}); still serving the last good build", err=True)
        else:
            click.echo(f"Built {len(live.snapshot.files)} files ({live.written} rendered) "
                       f"in {live.seconds:.2f}s, {_tally(diagnostics)}")

    try:
        server = make_server(live, host, port)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise click.ClickException(f"port {port} is in use; try --port {port + 1}") from None
        raise click.ClickException(f"cannot listen on {host}:{port}: {error.strerror}") from None
    report(live.rebuild())
    live.settle()
    watcher = Watcher(live, config, report)
    watcher.start()
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"Serving {config.title} on http://{shown}:{port}/  (Ctrl-C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("Stopped.")
    finally:
        server.stopping = True
        watcher.stop()
        server.server_close()


@main.command()
@click.argument("title")
@src_option
def new(title: str, src: Path) -> None:
    """Start a new term file from a skeleton that already passes `glossary check`.

    \b
    Examples:
      glossary new "Mixture of experts"     # writes content/terms/mixture-of-experts.md
    """
    from .diagnostics import display_path
    from .scaffold import ScaffoldError, new_term

    config, _ = _load_config(src)
    try:
        path = new_term(config.terms_dir, title)
    except ScaffoldError as error:
        raise click.ClickException(str(error)) from None
    click.echo(display_path(path))


@main.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
def init(folder: Path) -> None:
    """Start a glossary project: settings, two linked sample terms and a .gitignore.

    \b
    Examples:
      glossary init my-glossary && cd my-glossary && glossary build
    """
    from .scaffold import ScaffoldError, init_project

    try:
        written = init_project(folder)
    except ScaffoldError as error:
        raise click.ClickException(str(error)) from None
    for path in written:
        click.echo(f"  wrote {path}")
    click.echo(f"Next: cd {folder} && glossary build   (or glossary serve to write with live reload)")


def _registry(src: Path):
    from .formulakit import load_formulas

    try:
        return load_formulas(src / "formulas.py")[0]
    except Exception as error:  # the project's own code
        raise click.ClickException(f"{src / 'formulas.py'} failed to load: {type(error).__name__}: {error}") from None


@main.command()
@click.argument("formula")
@click.argument("values", nargs=-1)
@click.option("--raw", is_flag=True, help="Also print each output's unformatted number.")
@src_option
def calc(formula: str, values: tuple[str, ...], raw: bool, src: Path) -> None:
    """Compute a formula, with the same code the calculators and figures use.

    \b
    Examples:
      glossary calc weight_memory params=7e9 precision=fp16
      glossary calc kv_cache preset=llama-2-70b seq_len=32768
      glossary calc token_cost input_tokens=2000 output_tokens=300 requests=50000 --raw
    """
    from .calc import CalcError, calculate
    from .presets import load_presets

    registry = _registry(src)
    config, _ = _load_config(src)
    presets, _ = load_presets(config.content_dir, registry)
    try:
        lines = calculate(registry, formula, list(values), raw=raw, presets={p.id: p for p in presets})
    except CalcError as error:
        raise click.ClickException(str(error)) from None
    click.echo("\n".join(lines))


@main.command()
@src_option
def formulas(src: Path) -> None:
    """List every formula with its inputs, defaults, ranges and outputs.

    \b
    Examples:
      glossary formulas
      glossary formulas --src my-glossary     # includes the project's formulas.py
    """
    from .calc import describe

    click.echo("\n".join(describe(_registry(src))))


if __name__ == "__main__":  # pragma: no cover
    main()
