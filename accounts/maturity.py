"""The fixed maturity scale shared by titles (their rating) and profiles (their limit).

Film and TV ratings map onto one ordered level so that a single comparison filters both.
"Unrated" sits at the top: a title nobody has classified is only for profiles without a
limit, and never for kids profiles (the selectors also exclude it for kids explicitly).
"""

from django.db import models


class MaturityRating(models.TextChoices):
    TV_Y = "TV-Y", "TV-Y (all children)"
    TV_Y7 = "TV-Y7", "TV-Y7 (7 and up)"
    G = "G", "G (general audiences)"
    TV_G = "TV-G", "TV-G (general audiences)"
    PG = "PG", "PG (parental guidance)"
    TV_PG = "TV-PG", "TV-PG (parental guidance)"
    PG_13 = "PG-13", "PG-13 (13 and up)"
    TV_14 = "TV-14", "TV-14 (14 and up)"
    R = "R", "R (restricted)"
    TV_MA = "TV-MA", "TV-MA (mature audiences)"
    NC_17 = "NC-17", "NC-17 (adults only)"
    UNRATED = "NR", "Unrated"


class MaturityLevel(models.IntegerChoices):
    LITTLE_KIDS = 0, "Little kids (TV-Y)"
    OLDER_KIDS = 1, "Older kids (G, TV-Y7, TV-G)"
    FAMILY = 2, "Family (PG, TV-PG)"
    TEENS = 3, "Teens (PG-13, TV-14)"
    MATURE = 4, "Mature (R, TV-MA)"
    ALL = 5, "All titles (NC-17 and unrated)"


LEVEL_OF_RATING: dict[str, int] = {
    MaturityRating.TV_Y: 0,
    MaturityRating.TV_Y7: 1,
    MaturityRating.G: 1,
    MaturityRating.TV_G: 1,
    MaturityRating.PG: 2,
    MaturityRating.TV_PG: 2,
    MaturityRating.PG_13: 3,
    MaturityRating.TV_14: 3,
    MaturityRating.R: 4,
    MaturityRating.TV_MA: 4,
    MaturityRating.NC_17: 5,
    MaturityRating.UNRATED: 5,
}

KIDS_MAX_LEVEL = MaturityLevel.FAMILY
KIDS_DEFAULT_LEVEL = MaturityLevel.FAMILY
ADULT_DEFAULT_LEVEL = MaturityLevel.ALL


def level_of(rating: str) -> int:
    return LEVEL_OF_RATING[rating]
