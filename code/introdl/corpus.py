"""The book's text corpus: simple English sentences generated from a small grammar.

Provenance: the grammar below (word lists and sentence templates) was written
for this book and is released with it, in the spirit of Elman's "Finding
structure in time" (Cognitive Science 14, 1990), which trained a recurrent
network on sentences from a small grammar with word categories. The sentences
are produced by seeded code, so nothing is downloaded and every build sees the
same text. It is a toy
language on purpose: about 60 words in a handful of categories (people,
animals, foods, drinks, places, motion verbs, moods, times of day). Words of
one category appear in the same contexts ("the ... eats the *food*"), so a
model that learns to predict the next word must learn which words behave
alike, and its learned embeddings group them visibly. One template ties a
pronoun ("she"/"he") to a name several words earlier: a long-range
dependency for recurrent models to learn.

Usage::

    from introdl import corpus, text
    sentences = corpus.generate_sentences(2000, seed=0)  # list of str
    tokens = text.tokenize(" ".join(sentences))           # list of words and "."
"""

import random
import re

from introdl.checks import check_positive_int

__all__ = ["FEMALE_NAMES", "MALE_NAMES", "CATEGORIES", "TEMPLATES",
           "generate_sentences", "generate_text", "category_of"]

FEMALE_NAMES = ("alice", "carol", "emma", "grace")
MALE_NAMES = ("bob", "dave", "frank", "henry")

#: The word categories, which are the slots of the templates; each word belongs to one.
CATEGORIES: dict[str, tuple[str, ...]] = {
    "person": FEMALE_NAMES + MALE_NAMES,
    "animal": ("cat", "dog", "horse", "cow", "bird", "rabbit"),
    "food": ("apple", "bread", "cheese", "soup", "cake", "rice"),
    "drink": ("water", "milk", "tea", "juice", "coffee"),
    "place": ("park", "school", "market", "garden", "kitchen", "library"),
    "motion": ("walks", "runs", "goes", "hurries"),
    "mood": ("happy", "hungry", "tired", "sleepy", "angry"),
    "time": ("morning", "evening", "night", "afternoon"),
}

#: Sentence templates; ``{category}`` is a slot, ``{pronoun}`` agrees with the
#: first person of the sentence. Listed with their relative frequencies.
TEMPLATES: tuple[tuple[str, int], ...] = (
    ("{person} eats the {food} .", 3),
    ("the {animal} eats the {food} .", 2),
    ("{person} drinks {drink} .", 2),
    ("{person} {motion} to the {place} .", 3),
    ("the {animal} {motion} to the {place} .", 1),
    ("{person} feeds the {animal} .", 2),
    ("the {animal} sleeps in the {place} .", 1),
    ("{person} likes {person} .", 1),
    ("{person} is {mood} .", 2),
    ("the {animal} is {mood} .", 1),
    ("in the {time} {person} drinks {drink} .", 1),
    ("{person} {motion} to the {place} and {pronoun} eats the {food} .", 2),
    ("{person} sees the {animal} in the {place} and {pronoun} is {mood} .", 1),
)

_SLOT = re.compile(r"\{(\w+)\}")


def _fill(template: str, rng: random.Random) -> str:
    """Replace each slot of ``template`` by a random word of its category."""
    used: list[str] = []

    def pick(match: re.Match) -> str:
        slot = match.group(1)
        if slot == "pronoun":
            return "she" if used[0] in FEMALE_NAMES else "he"
        choices = [w for w in CATEGORIES[slot] if w not in used]  # no "bob likes bob"
        word = rng.choice(choices)
        if slot == "person":
            used.append(word)
        return word

    return _SLOT.sub(pick, template)


def generate_sentences(n: int, seed: int = 0) -> list[str]:
    """``n`` sentences of the toy language, reproducible from ``seed``.

    Each sentence is lower case, words separated by single spaces, ending
    with " ." (the full stop is a token of its own), e.g.
    ``"bob walks to the park and he eats the cake ."``.

    Raises:
        TypeError, ValueError: if ``n`` is not a positive int or ``seed`` is
            not an int >= 0 (``None`` would draw a different text every time).
    """
    check_positive_int("n", n)
    rng = random.Random(check_positive_int("seed", seed, allow_zero=True))
    templates = [t for t, _ in TEMPLATES]
    weights = [w for _, w in TEMPLATES]
    return [_fill(t, rng) for t in rng.choices(templates, weights, k=n)]


def generate_text(n: int, seed: int = 0) -> str:
    """The ``n`` sentences of :func:`generate_sentences` joined by spaces."""
    return " ".join(generate_sentences(n, seed))


def category_of(word: str) -> str | None:
    """The category of ``word`` in :data:`CATEGORIES`, or ``None`` for any other
    word (e.g. "the") or value."""
    for category, words in CATEGORIES.items():
        if word in words:
            return category
    return None
