"""Tests of the generated corpus."""

import pytest

from introdl import corpus
from introdl.text import tokenize


def test_seeded_and_sized():
    a = corpus.generate_sentences(200, seed=1)
    assert len(a) == 200
    assert a == corpus.generate_sentences(200, seed=1)
    assert a != corpus.generate_sentences(200, seed=2)
    assert corpus.generate_text(5, seed=3) == " ".join(
        corpus.generate_sentences(5, seed=3))


def test_sentences_use_only_the_grammar():
    known = {w for words in corpus.CATEGORIES.values() for w in words}
    templates = " ".join(t for t, _ in corpus.TEMPLATES)
    known |= set(tokenize(templates.replace("{", " ").replace("}", " ")))
    known |= {"she", "he"}
    for s in corpus.generate_sentences(500, seed=0):
        assert s.endswith(" .") and s == s.lower()
        assert set(s.split()) <= known, s


def test_every_word_appears_and_categories_are_disjoint():
    words = set(corpus.generate_text(3000, seed=0).split())
    all_words = [w for ws in corpus.CATEGORIES.values() for w in ws]
    assert len(all_words) == len(set(all_words))
    assert set(all_words) <= words


def test_pronoun_agrees_with_the_name():
    for s in corpus.generate_sentences(2000, seed=0):
        tokens = s.split()
        if "she" in tokens or "he" in tokens:
            pronoun = "she" if "she" in tokens else "he"
            name = tokens[0]
            assert (name in corpus.FEMALE_NAMES) == (pronoun == "she"), s


def test_no_sentence_pairs_a_name_with_itself():
    for s in corpus.generate_sentences(2000, seed=4):
        tokens = s.split()
        if "likes" in tokens:
            assert tokens[0] != tokens[2]


def test_category_of():
    assert corpus.category_of("cat") == "animal"
    assert corpus.category_of("alice") == "person"
    assert corpus.category_of("the") is None


@pytest.mark.parametrize("n, err", [(0, ValueError), (2.5, TypeError)])
def test_bad_n(n, err):
    with pytest.raises(err, match="n must"):
        corpus.generate_sentences(n)


@pytest.mark.parametrize("seed, err", [(None, TypeError), (1.5, TypeError),
                                       (-1, ValueError), ("a", TypeError)])
def test_bad_seed_is_refused_rather_than_drawing_a_fresh_text(seed, err):
    """random.Random(None) would give a different corpus every run."""
    with pytest.raises(err, match="seed must be"):
        corpus.generate_sentences(5, seed=seed)
    with pytest.raises(err, match="seed must be"):
        corpus.generate_text(5, seed=seed)


def test_category_of_anything_else_is_none():
    assert corpus.category_of("") is None
    assert corpus.category_of(None) is None
    assert corpus.category_of(["cat"]) is None  # a list is not a word


def test_generate_text_has_n_sentences():
    assert corpus.generate_text(7, seed=1).count(" .") == 7
    with pytest.raises(TypeError, match="n must be an int"):
        corpus.generate_text(None)
