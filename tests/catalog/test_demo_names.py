"""The demo catalog's generated names read as English (issue 14, requirement 9)."""

import re

import pytest

from catalog.importing.demo import plan


@pytest.mark.parametrize(
    ("noun", "expected"),
    [
        ("Witness", "Witnesses"),
        ("Echo", "Echoes"),
        ("Key", "Keys"),
        ("River", "Rivers"),
        ("Compass", "Compasses"),
        ("Story", "Stories"),
    ],
)
def test_plural(noun, expected):
    assert plan.plural(noun) == expected


@pytest.mark.parametrize(("word", "article"), [("Endless", "An"), ("Iron", "An"), ("Quiet", "A"), ("Last", "A")])
def test_indefinite_article(word, article):
    assert plan.indefinite(word) == article


def test_no_seeded_title_has_a_grammar_slip():
    names = [t.name for t in plan.generate().titles]
    assert len(names) > 1000
    slips = [n for n in names if re.search(r"sss\b|\bA [AEIOU]|Echos\b|Witnesss", n)]
    assert slips == []
    # The forms that used to slip are still generated, spelled right.
    assert any(re.search(r"\bAn [AEIOU]\w+ ", n) for n in names)
    assert any(n.endswith(("Witnesses", "Echoes", "Compasses")) for n in names)
