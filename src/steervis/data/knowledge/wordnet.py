"""WordNet facts about each minidomains class: its sense, gloss, hypernyms, parts, substances and groups.

Read with nltk's ``WordNetCorpusReader`` (a well-kept reader of the Princeton database format) pointed at the
files of Debian's ``wordnet-base`` package, fetched and unpacked without root like minidomains' sources
(:func:`steervis.data.fetch.deb_tree`). Debian leaves out the ``lexnames`` table nltk opens at start-up; it
is written beside the data files from :data:`LEXNAMES` (the list in Debian's own lexnames(5WN) page).

>>> facts = wordnet_facts(["dog"])  # doctest: +SKIP
>>> facts["dog"].relations["hypernym"]  # doctest: +SKIP
['domestic animal', 'canine']
"""

from __future__ import annotations

import functools
import re
import warnings
from pathlib import Path
from typing import Any

from steervis.data.knowledge.questions import Facts
from steervis.errors import SteervisError

WORDNET_DEB = "wordnet-base"
# WordNet 3.0's 45 lexicographer files in number order (lexnames(5WN)); nltk names each synset's file by them.
LEXNAMES = [
    "adj.all", "adj.pert", "adv.all", "noun.Tops", "noun.act", "noun.animal", "noun.artifact",
    "noun.attribute", "noun.body", "noun.cognition", "noun.communication", "noun.event", "noun.feeling",
    "noun.food",
    "noun.group", "noun.location", "noun.motive", "noun.object", "noun.person", "noun.phenomenon",
    "noun.plant", "noun.possession", "noun.process", "noun.quantity", "noun.relation", "noun.shape",
    "noun.state", "noun.substance", "noun.time", "verb.body", "verb.change", "verb.cognition",
    "verb.communication", "verb.competition", "verb.consumption", "verb.contact", "verb.creation",
    "verb.emotion", "verb.motion", "verb.perception", "verb.possession", "verb.social", "verb.stative",
    "verb.weather", "adj.ppl",
]
# The sense each class's images show, where it is not WordNet's first noun sense (checked by hand against
# the glosses: the pig is the domestic swine, the cake the baked one, the fruits the fruit, not the tree).
SENSES = {
    "pig": "hog.n.03", "tiger": "tiger.n.02", "chicken": "chicken.n.02", "banana": "banana.n.02",
    "hammer": "hammer.n.02", "dolphin": "dolphin.n.02", "whale": "whale.n.02", "cherry": "cherry.n.03",
    "pineapple": "pineapple.n.02", "cake": "cake.n.03", "tshirt": "jersey.n.03", "grapes": "grape.n.01",
    "trumpet": "cornet.n.01", "mouse": "mouse.n.01",
}
_GLOSS_WORD = re.compile(r"[A-Za-z][a-z]{3,}")  # cloze candidates: words of four letters or more


def wordnet_dir() -> Path:
    """The folder of WordNet's data files (Debian's wordnet-base, unpacked into the downloads cache)."""
    from steervis.atomic import write_text
    from steervis.data.fetch import deb_tree

    root = deb_tree(WORDNET_DEB) / "usr" / "share" / "wordnet"
    if not (root / "lexnames").is_file():
        write_text(root / "lexnames", "".join(f"{i:02d}\t{name}\t0\n" for i, name in enumerate(LEXNAMES)))
    return root


@functools.cache
def reader(root: str | None = None) -> Any:
    """nltk's WordNet reader over ``root`` (default :func:`wordnet_dir`); English only, no multilingual
    mapping (which would look for nltk's own download of WordNet)."""
    try:
        import nltk
        from nltk.corpus.reader.wordnet import WordNetCorpusReader
    except ImportError:
        raise SteervisError("Knowledge questions read WordNet with nltk: run `pip install nltk` (or "
                            "`pip install -e '.[knowledge]'`).") from None

    class EnglishReader(WordNetCorpusReader):
        def map_wn(self, version: str = "wordnet") -> None:
            return None

    root = root or str(wordnet_dir())
    if root not in nltk.data.path:
        nltk.data.path.append(root)  # nltk reads only from folders on its data path
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "multilingual functions are not available": not needed here
        return EnglishReader(root, None)


def synset_of(wn: Any, name: str) -> Any:
    """The WordNet sense of class ``name`` (:data:`SENSES`, else its first noun sense)."""
    if name in SENSES:
        return wn.synset(SENSES[name])
    found = wn.synsets(name.replace(" ", "_"), pos="n")
    if not found:
        raise SteervisError(f"WordNet has no noun {name!r}: add its sense to SENSES in "
                            "steervis.data.knowledge.wordnet.")
    return found[0]


def content_word(wn: Any, word: str) -> bool:
    """A noun or adjective more often than a verb or adverb in WordNet's tagged counts: a cloze blank worth
    asking ("fruit", "yellow"), not "have", "over" or "shows"."""
    bases = {pos: {wn.morphy(word, pos)} - {None} for pos in "nvasr"}
    counts = {pos: sum(lemma.count() for base in found for lemma in wn.lemmas(base, pos))
              for pos, found in bases.items()}
    named = any(wn.synsets(word, pos) for pos in "nas")
    return named and max(counts["n"], counts["a"] + counts["s"]) >= max(counts["v"], counts["r"])


def _lemma(synset: Any) -> str:
    return synset.lemma_names()[0].replace("_", " ")


def _with_ancestors(synset: Any) -> list[Any]:
    return [synset, *synset.closure(lambda s: s.hypernyms() + s.instance_hypernyms())]


def facts_of(wn: Any, name: str) -> Facts:
    """What WordNet says about class ``name``: each relation's answers and every value true of it."""
    synset = synset_of(wn, name)
    lineage = _with_ancestors(synset)
    links = {"hypernym": lambda s: s.hypernyms() + s.instance_hypernyms(),
             "part": lambda s: s.part_meronyms(), "whole": lambda s: s.part_holonyms(),
             "substance": lambda s: s.substance_meronyms(), "member": lambda s: s.member_holonyms()}
    relations = {kind: [_lemma(s) for s in link(synset)] for kind, link in links.items()}
    true = {kind: {_lemma(t) for s in lineage for t in link(s)} for kind, link in links.items()}
    true["hypernym"] |= {n.replace("_", " ") for s in lineage[1:] for n in s.lemma_names()}
    gloss = synset.definition()
    words = sorted({w.lower() for w in _GLOSS_WORD.findall(gloss) if content_word(wn, w.lower())})
    relations["gloss"] = words
    true["gloss"] = {w.lower() for w in _GLOSS_WORD.findall(gloss)}
    names = sorted({name, *(n.replace("_", " ") for n in synset.lemma_names())})
    return Facts(name=name, synset=synset.name(), gloss=gloss, names=names, relations=relations,
                 true={k: sorted(v) for k, v in true.items()})


def wordnet_facts(classes: list[str], root: str | None = None) -> dict[str, Facts]:
    """:func:`facts_of` every class (names with spaces, e.g. ``light bulb``)."""
    wn = reader(root)
    return {name: facts_of(wn, name) for name in classes}
