"""Names and links: which name means which term, and where terms mention each other.

Three pieces, all pure:
- ``build_name_index``: slug, title and aliases of every term -> slug, with
  clashes between terms reported against both files;
- ``Autolinker``: one pass over a text finds every mention of any term's title or
  alias (a token trie, so the cost does not grow with the number of terms);
- ``resolve_related`` and ``backlinks``: the link graph the term pages show.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from itertools import accumulate

from .diagnostics import ERROR, WARNING, Diagnostic
from .model import Term

TOKEN_RE = re.compile(r"\x02[^\x03]*\x03|\w+|[^\w\s]")
CHUNK_RE = re.compile(r"\s*(?:\x02[^\x03]*\x03|\w+|[^\w\s])")  # the same tokens, each with the space before it
SPACE = " "  # marks a token that whitespace separates from the one before it
TERMINAL = None  # trie key holding the names that end at a node


def normalize(name: str) -> str:
    """The lookup form of a name: case-folded, inner whitespace collapsed."""
    return " ".join(name.casefold().split())


def is_case_sensitive(name: str) -> bool:
    """Names with a word of two or more capitals (MoE, LoRA, GPU) keep their case."""
    if name.islower() or name.istitle():  # the common cases, at C speed
        return False
    return any(sum(map(str.isupper, word)) >= 2 for word in name.split())


@dataclass
class NameIndex:
    by_name: dict[str, str] = field(default_factory=dict)  # normalized name -> slug
    display: dict[str, str] = field(default_factory=dict)  # normalized name -> name as written
    unloaded: dict[str, str] = field(default_factory=dict)  # slug of a file with errors -> its path

    def lookup(self, name: str) -> str | None:
        return self.by_name.get(normalize(name))

    def failed_to_load(self, name: str) -> bool:
        """A name that is the slug of a term file with errors: those errors say what to fix,
        so links to it are not reported a second time from every page that has one."""
        return normalize(name) in self.unloaded

    def suggest(self, name: str) -> str:
        """' (did you mean ...?)' with the closest names, one per term."""
        import difflib  # only when there is a problem to suggest a fix for

        close = difflib.get_close_matches(normalize(name), list(self.by_name), n=6, cutoff=0.6)
        best: dict[str, str] = {}
        for key in close:
            best.setdefault(self.by_name[key], self.display[key])
        names = list(best.values())[:3]
        return f" (did you mean {' or '.join(repr(n) for n in names)}?)" if names else ""


def build_name_index(terms: list[Term]) -> tuple[NameIndex, list[Diagnostic]]:
    """Map every slug, title and alias to its term; a name two terms share is an error."""
    index = NameIndex()
    by_name, display = index.by_name, index.display
    owner: dict[str, tuple[Term, int]] = {}  # name -> its term, and its place in _named
    problems: list[Diagnostic] = []
    for term in sorted(terms, key=lambda t: t.slug):
        slug = term.slug
        for position, name in enumerate((term.title, *term.aliases, slug)):
            key = normalize(name)
            known = by_name.get(key)
            if known is None:
                by_name[key], display[key], owner[key] = slug, name, (term, position)
            elif known != slug:  # a term may repeat its own name (a title equal to its slug)
                problems += _clash(*_named(term, position), *_named(*owner[key]))
    return index, problems


def _named(term: Term, position: int) -> tuple[Term, str, str, int]:
    """(term, kind, name, line) of the name at ``position`` in (title, *aliases, slug);
    lines are looked up only for a name in a clash."""
    if position == 0:
        return term, "title", term.title, term.line("title")
    if position > len(term.aliases):
        return term, "slug", term.slug, 1
    return term, "alias", term.aliases[position - 1], term.line("aliases", position - 1)


def _clash(term: Term, kind: str, name: str, line: int,
           other: Term, other_kind: str, other_name: str, other_line: int) -> list[Diagnostic]:
    return [
        Diagnostic(term.path, line, f"{kind} '{name}' is also the {other_kind} of {other.path}:{other_line}; "
                                    "each name must lead to one term"),
        Diagnostic(other.path, other_line, f"{other_kind} '{other_name}' is also the {kind} of {term.path}:{line}"),
    ]


# -- automatic links ---------------------------------------------------------


def plural_forms(word: str) -> list[str]:
    """Regular English plurals of a word: token -> tokens, class -> classes, query -> queries."""
    if not word.isalpha():
        return []
    lower = word.lower()
    if lower.endswith(("s", "x", "z", "ch", "sh")):
        return [word + "es"]
    if lower.endswith("y") and len(word) > 1 and lower[-2] not in "aeiou":
        return [word[:-1] + "ies", word + "s"]
    return [word + "s"]


def tokenize(text: str) -> list[tuple[str, int, int]]:
    """(trie key, start, end) for each word or symbol; the key records a preceding space."""
    tokens = []
    previous_end = None
    for match in TOKEN_RE.finditer(text):
        word = match.group()
        spaced = previous_end is not None and match.start() > previous_end
        tokens.append(((SPACE if spaced else "") + word, match.start(), match.end()))
        previous_end = match.end()
    return tokens


def trie_paths(name: str) -> list[tuple[tuple[str, ...], tuple[str, ...] | None]]:
    """(case-folded keys, the keys as written if the name keeps its case) for the name and its plurals."""
    tokens = [key for key, _, _ in tokenize(name)]
    if not tokens:
        return []
    sensitive = is_case_sensitive(name)
    variants = [tokens]
    last = tokens[-1].lstrip(SPACE)
    prefix = tokens[-1][: len(tokens[-1]) - len(last)]
    variants += [tokens[:-1] + [prefix + plural] for plural in plural_forms(last)]
    return [(tuple(key.casefold() for key in variant), tuple(variant) if sensitive else None) for variant in variants]


@dataclass(frozen=True)
class Match:
    start: int
    end: int
    slug: str
    name: str  # the title or alias that matched (a plural finds its singular)


class Autolinker:
    """Finds mentions of term names in text: leftmost-longest, whole words, one pass."""

    def __init__(self, names: list[tuple[str, str]], trie: dict | None = None, spelled: dict | None = None):
        """names: (name, slug) pairs; names from different slugs never clash (the index checked).

        trie: the ``root`` of an Autolinker made from the same names, to skip building it.
        spelled: name -> its paths in the trie, kept from earlier builds (a resident
        process keeps it: tokenizing is most of the work); names new to it are added.
        """
        self.root: dict = trie if trie is not None else {}
        if trie is not None:
            return
        spelled = {} if spelled is None else spelled
        for name, slug in names:
            paths = spelled.get(name)
            if paths is None:
                paths = spelled[name] = trie_paths(name)
            for keys, exact in paths:
                node = self.root
                for key in keys:
                    node = node.setdefault(key, {})
                node.setdefault(TERMINAL, []).append((slug, exact, name))

    def find(self, text: str) -> list[Match]:
        """Every mention in text, left to right, none overlapping."""
        chunks = CHUNK_RE.findall(text)  # each token with the whitespace before it
        root = self.root
        heads = [i for i, chunk in enumerate(chunks) if chunk.lstrip().casefold() in root]
        if not heads:  # most text nodes: no token starts a name
            return []
        ends = list(accumulate(map(len, chunks)))  # where each token ends in text
        count = len(chunks)
        matches = []
        resume = 0  # the first token after the last match
        for i in heads:
            if i < resume:
                continue
            first = word = chunks[i].lstrip()
            node = root[word.casefold()]
            tokens = [word]
            best = None
            j = i
            while node is not None:
                for slug, exact, name in node.get(TERMINAL, ()):
                    if exact is None or self._same_case(tokens, exact):
                        best = (j, slug, name)
                        break
                j += 1
                if j == count:
                    break
                chunk = chunks[j]
                word = chunk.lstrip()
                key = SPACE + word if len(word) != len(chunk) else word
                tokens.append(key)
                node = node.get(key.casefold())
            if best is not None:
                last, slug, name = best
                matches.append(Match(ends[i] - len(first), ends[last], slug, name))
                resume = last + 1
        return matches

    @staticmethod
    def _same_case(tokens: list[str], exact: tuple) -> bool:
        """tokens: the text's keys from the first one on; exact: a case-sensitive name's keys."""
        if len(tokens) != len(exact) or tokens[0] != exact[0].lstrip(SPACE):
            return False
        return all(tokens[k] == exact[k] for k in range(1, len(exact)))


TRIE_EDITS = 2000  # names that came, went or moved beyond which a new trie is as quick


def updated_trie(root: dict, before: list[tuple[str, str]], after: list[tuple[str, str]],
                 spelled: dict) -> tuple[dict, set[str]] | None:
    """The trie Autolinker(after) would make, made from root (the trie of ``before``) by
    changing only the paths of the names that came, went or moved in the order (a title
    edit moves its term in the index, and the order of names decides between names that
    end at one node); and every name that ends at a node it changed, whose mentions may
    now find another name first. None when that is not quicker, or a list holds a pair twice.

    root is left as it was: a node on a changed path is copied first. spelled: as for
    Autolinker; the paths of the names it changes are added to it.
    """
    position = {pair: i for i, pair in enumerate(after)}
    earlier = set(before)
    if len(position) != len(after) or len(earlier) != len(before):
        return None
    kept = [position[pair] for pair in before if pair in position]
    in_order = set(longest_increasing(kept))
    went = [pair for pair in before if pair not in position]
    moved = [after[i] for i in kept if i not in in_order]
    came = [pair for pair in after if pair not in earlier]
    if len(went) + len(moved) + len(came) > TRIE_EDITS:
        return None
    trie = dict(root)
    owned = {id(trie)}
    touched: dict[int, tuple[dict, list]] = {}  # node -> (node, its names before): put back in after's order
    emptied: list[tuple[list[dict], tuple[str, ...]]] = []  # paths that may now lead to no name

    def path_to(keys: tuple[str, ...]) -> list[dict]:
        nodes = [trie]
        for key in keys:
            child = nodes[-1].get(key)
            if child is None or id(child) not in owned:
                child = {} if child is None else dict(child)
                nodes[-1][key] = child
                owned.add(id(child))
            nodes.append(child)
        return nodes

    for pairs, adding in ((went + moved, False), (moved + came, True)):
        for name, slug in pairs:
            paths = spelled.get(name)
            if paths is None:
                paths = spelled[name] = trie_paths(name)
            for keys, exact in paths:
                nodes = path_to(keys)
                entry, names = (slug, exact, name), list(nodes[-1].get(TERMINAL, ()))
                touched.setdefault(id(nodes[-1]), (nodes[-1], list(names)))
                if adding:
                    names.append(entry)
                elif entry in names:
                    names.remove(entry)
                else:
                    return None  # root is not the trie of before
                nodes[-1][TERMINAL] = names
                if not adding:
                    emptied.append((nodes, keys))
    contested = set()
    for node, earlier_names in touched.values():
        names = earlier_names + node[TERMINAL]
        if len({slug for slug, _, _ in names}) > 1:  # names of two terms end here: their order decides
            contested.update(name for _, _, name in names)
        if node[TERMINAL]:
            node[TERMINAL].sort(key=lambda entry: position[entry[2], entry[0]])
        else:
            del node[TERMINAL]
    for nodes, keys in emptied:  # as in a new trie, no node leads to no name
        for depth in range(len(keys), 0, -1):
            parent, key = nodes[depth - 1], keys[depth - 1]
            if parent.get(key) is not nodes[depth] or nodes[depth]:
                break
            del parent[key]
    return trie, contested


def contested_names(root: dict) -> set[str]:
    """Every name that ends at a node where another term's name ends too: which of them
    a mention finds depends on the order of the names."""
    found, waiting = set(), [root]
    while waiting:
        node = waiting.pop()
        for key, value in node.items():
            if key is TERMINAL:
                if len({slug for slug, _, _ in value}) > 1:
                    found.update(name for _, _, name in value)
            else:
                waiting.append(value)
    return found


def longest_increasing(values: list[int]) -> list[int]:
    """A longest strictly increasing subsequence of values (patience sorting, n log n)."""
    tails: list[int] = []  # tails[k]: the smallest value that ends an increasing run of length k + 1
    ends: list[int] = []  # ... and its index in values
    before = [-1] * len(values)  # the index of the value before each one in its run
    for i, value in enumerate(values):
        k = bisect.bisect_left(tails, value)
        before[i] = ends[k - 1] if k else -1
        if k == len(tails):
            tails.append(value)
            ends.append(i)
        else:
            tails[k], ends[k] = value, i
    run, i = [], ends[-1] if ends else -1
    while i >= 0:
        run.append(values[i])
        i = before[i]
    return run[::-1]


def autolink_names(terms: list[Term], enabled: bool = True) -> list[tuple[str, str]]:
    """The (name, slug) pairs prose mentions may link to: titles and aliases of linkable terms."""
    if not enabled:
        return []
    pairs = []
    for term in terms:
        if term.autolink:
            pairs.append((term.title, term.slug))
            pairs.extend((alias, term.slug) for alias in term.aliases)
    return pairs


# -- related terms and backlinks ---------------------------------------------


def resolve_related(
    terms: list[Term], index: NameIndex, drafts: set[str]
) -> tuple[dict[str, list[str]], list[Diagnostic]]:
    """Each term's related slugs, shown both ways (if A lists B, B shows A)."""
    related: dict[str, list[str]] = {term.slug: [] for term in terms}
    problems: list[Diagnostic] = []
    for term in terms:
        listed: set[str] = set()
        for position, name in enumerate(term.related):
            slug = index.lookup(name)
            twice = slug is not None and slug in listed
            listed.add(slug)
            if twice:
                problem = (f"'{name}' is listed twice in related", WARNING)
            elif slug is None:
                if index.failed_to_load(name):
                    continue
                problem = (f"related term '{name}' does not exist{index.suggest(name)}", ERROR)
            elif slug in drafts:
                problem = (f"related term '{name}' is a draft; publish it or build with --drafts", ERROR)
            elif slug == term.slug:
                problem = (f"a term cannot be related to itself ('{name}')", WARNING)
            else:
                related[term.slug].append(slug)
                related[slug].append(term.slug)
                continue
            # the line only for a problem: looking it up for every entry was a third of this stage
            problems.append(Diagnostic(term.path, term.line("related", position), *problem))
    return {slug: _unique(slugs) for slug, slugs in related.items()}, problems


def backlinks(outgoing: dict[str, list[str]]) -> dict[str, list[str]]:
    """Who links to each term, from each page's outgoing links."""
    incoming: dict[str, list[str]] = {slug: [] for slug in outgoing}
    for source in sorted(outgoing):
        for target in outgoing[source]:
            if target != source and target in incoming:
                incoming[target].append(source)
    return {slug: _unique(slugs) for slug, slugs in incoming.items()}


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))
