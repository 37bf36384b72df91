"""glossary.yaml -> a frozen Config; every setting has a default, so no file is needed."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from .diagnostics import Diagnostic, display_path
from .schema import Field, validate
from .source import decode
from .yamldata import parse_yaml

CONFIG_NAME = "glossary.yaml"

CONFIG_FIELDS: tuple[Field, ...] = (
    Field("title", "text", "title: AI Glossary"),
    Field("description", "text", "description: Plain explanations of the words of machine learning."),
    Field("base_url", "url", "base_url: https://example.org/glossary/"),
    Field("language", "text", "language: en"),
    Field("out", "text", "out: site"),
    Field("autolink", "bool", "autolink: true"),
    Field("trust_html", "bool", "trust_html: false"),
    Field("summary_length", "number", "summary_length: 160"),
)


@dataclass(frozen=True)
class Config:
    root: Path
    out_dir: Path
    title: str = "Glossary"
    description: str = ""
    base_url: str = ""  # "" or ending in "/"
    language: str = "en"
    autolink: bool = True  # link mentions of other terms automatically
    trust_html: bool = False  # pass raw HTML in bodies through unsanitised
    summary_length: int = 160  # longest summary a tooltip shows whole; longer ones are a warning
    drafts: bool = False  # publish draft terms too

    def settings_key(self) -> str:
        """The settings pages depend on: not where the project and the site are, which
        one build may name `--src .` and the next by a full path."""
        return repr(replace(self, root=Path("."), out_dir=Path(".")))

    @property
    def content_dir(self) -> Path:
        return self.root / "content"

    @property
    def terms_dir(self) -> Path:
        return self.content_dir / "terms"

    @property
    def config_file(self) -> Path:
        return self.root / CONFIG_NAME


def load_config(
    root: Path,
    out: Path | None = None,
    base_url: str | None = None,
    drafts: bool = False,
) -> tuple[Config, list[Diagnostic]]:
    """Read glossary.yaml if present; options given on the command line win over it."""
    root = Path(root)
    values: dict = {}
    problems: list[Diagnostic] = []
    file = root / CONFIG_NAME
    if file.is_file():
        path = display_path(file)
        text, problems = decode(file.read_bytes(), path)
        if text is not None:
            parsed = parse_yaml(text)
            problems += [Diagnostic(path, line, message) for line, message in parsed.errors]
            if not parsed.errors and parsed.value is not None:
                if isinstance(parsed.value, dict):
                    values = validate(
                        parsed.value, parsed.lines, CONFIG_FIELDS,
                        lambda line, message: problems.append(Diagnostic(path, line, message)),
                    )
                else:
                    problems.append(Diagnostic(path, 1, "glossary.yaml must be a mapping of settings (title: ..., base_url: ...)"))
    configured_out = values.pop("out", "site")
    out_dir = Path(out) if out is not None else root / configured_out
    if base_url is not None:
        values["base_url"] = base_url
    config = Config(root=root, out_dir=out_dir, drafts=drafts, **values)
    if config.base_url and not config.base_url.endswith("/"):
        config = replace(config, base_url=config.base_url + "/")
    return config, problems
