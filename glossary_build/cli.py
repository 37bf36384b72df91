"""The `glossary` command: click wiring only; each command calls one library function.

Heavy modules are imported inside the commands so `glossary --help` stays instant.
A user error is a one-line message and exit code 1, never a traceback.
"""

from __future__ import annotations

from pathlib import Path

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
    """


@main.command()
@src_option
@click.option("--out", type=click.Path(path_type=Path), help="Output folder (default: site/ in the project).")
@strict_option
@drafts_option
@click.option("--base-url", help="Public address of the site, e.g. https://example.org/glossary/.")
def build(src: Path, out: Path | None, strict: bool, drafts: bool, base_url: str | None) -> None:
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
    try:
        result = run_build(config, strict=strict, config_problems=problems)
    except BuildFailed as failed:
        _report(failed.diagnostics)
        raise click.ClickException(
            f"build failed ({_tally(failed.diagnostics)}); {display_path(config.out_dir)} was not changed"
        ) from None
    except OutputError as refused:
        raise click.ClickException(str(refused)) from None
    _report(result.diagnostics)
    click.echo(
        f"Built {result.terms} terms into {display_path(config.out_dir)}/ "
        f"({result.files} files, {_tally(result.diagnostics)}) in {result.seconds:.2f}s"
    )


@main.command()
@src_option
@strict_option
@drafts_option
def check(src: Path, strict: bool, drafts: bool) -> None:
    """Validate every term without writing anything; print problems as path:line: message.

    \b
    Examples:
      glossary check
      glossary check --strict
    """
    from .build import check as run_check

    config, problems = _load_config(src, drafts=drafts)
    result = run_check(config, strict=strict, config_problems=problems)
    _report(result.diagnostics)
    if result.glossary is None:
        raise click.ClickException(f"check failed ({_tally(result.diagnostics)})")
    click.echo(f"Checked {len(result.glossary.terms)} terms: {_tally(result.diagnostics)}")


if __name__ == "__main__":  # pragma: no cover
    main()
