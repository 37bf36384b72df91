"""glossary: Markdown term files in, a cross-referenced static glossary site out."""

__version__ = "0.1.0"
