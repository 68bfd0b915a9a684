"""The demo's vocabulary: genres, tags, taste groups, words for names and stories, sizes.

Plain data; `plan` draws from it, nothing here touches the database.
"""

from __future__ import annotations

from dataclasses import dataclass

from accounts.maturity import MaturityRating

DEFAULT_SEED = 2026
DEMO_PREFIX = "demo:"
DEMO_USERNAME = "demo"
DEMO_PASSWORD = "marquee-demo"
LOGIN_LINE = f"username {DEMO_USERNAME}, password {DEMO_PASSWORD}"


@dataclass(frozen=True)
class Sizes:
    films: int = 1440
    series: int = 180
    people: int = 1500
    subscribers: int = 320


FULL = Sizes()
BATCH = 2000

GENRES = [
    "Action", "Adventure", "Animation", "Comedy", "Crime", "Documentary", "Drama", "Family", "Fantasy",
    "History", "Horror", "Kids", "Music", "Mystery", "Romance", "Sci-Fi", "Sport", "Thriller", "War",
    "Western", "Reality", "Stand-up",
]  # fmt: skip

TAGS = [
    "heist", "car chase", "revenge", "explosive", "time travel", "dystopia", "space", "artificial intelligence",
    "feel-good", "love triangle", "wedding", "second chances", "haunted house", "slow burn", "twist ending",
    "supernatural", "based on a true story", "world war ii", "biography", "period piece", "dark comedy",
    "satire", "ensemble cast", "workplace", "talking animals", "friendship", "coming of age", "musical numbers",
    "underdog", "training montage", "rock and roll", "behind the scenes", "courtroom", "family drama",
    "strong female lead", "corruption", "road trip", "survival", "outlaws", "frontier town", "small town",
    "big city", "award winner", "cult classic", "visually stunning", "quirky", "tearjerker", "cozy",
    "mind-bending", "globetrotting", "found footage", "anthology", "based on a novel", "true crime",
    "nature", "food", "fish out of water", "buddy comedy", "spies", "magic",
]  # fmt: skip

# (name, preferred genres, preferred tags): the latent structure the recommender should find.
TASTE_GROUPS = [
    ("thrill seekers", ["Action", "Thriller", "Crime"], ["heist", "car chase", "revenge", "explosive", "spies"]),
    (
        "space cadets",
        ["Sci-Fi", "Fantasy", "Adventure"],
        ["time travel", "dystopia", "space", "artificial intelligence", "mind-bending"],
    ),
    ("romantics", ["Romance", "Comedy", "Drama"], ["feel-good", "love triangle", "wedding", "second chances", "cozy"]),
    (
        "night owls",
        ["Horror", "Mystery", "Thriller"],
        ["haunted house", "slow burn", "twist ending", "supernatural", "found footage"],
    ),
    (
        "history buffs",
        ["History", "War", "Documentary"],
        ["based on a true story", "world war ii", "biography", "period piece"],
    ),
    (
        "laugh track",
        ["Comedy", "Stand-up", "Reality"],
        ["dark comedy", "satire", "ensemble cast", "workplace", "buddy comedy"],
    ),
    (
        "families",
        ["Family", "Animation", "Kids"],
        ["talking animals", "friendship", "coming of age", "musical numbers", "magic"],
    ),
    (
        "sports and music",
        ["Sport", "Music", "Documentary"],
        ["underdog", "training montage", "rock and roll", "behind the scenes"],
    ),
    (
        "prestige drama",
        ["Drama", "Crime", "Mystery"],
        ["courtroom", "family drama", "strong female lead", "corruption", "true crime"],
    ),
    ("frontier", ["Western", "Adventure", "Action"], ["road trip", "survival", "outlaws", "frontier town", "nature"]),
]
FAMILY_GROUP = 6  # "families": what kids profiles watch

ADJECTIVES = [
    "Silent", "Crimson", "Last", "Hidden", "Broken", "Golden", "Midnight", "Endless", "Burning", "Frozen",
    "Distant", "Wild", "Hollow", "Electric", "Savage", "Gentle", "Forgotten", "Secret", "Shattered", "Velvet",
    "Iron", "Paper", "Glass", "Neon", "Final", "Lonely", "Bright", "Dark", "Lost", "Restless", "Quiet",
    "Scarlet", "Northern", "Little", "Brave", "Stolen", "Sleeping", "Falling", "Rising", "Wandering",
]  # fmt: skip
NOUNS = [
    "River", "Kingdom", "Signal", "Harbor", "Empire", "Garden", "Horizon", "Machine", "Storm", "Echo",
    "Frontier", "Mirror", "Promise", "Lantern", "Witness", "Orchard", "Voyage", "Circuit", "Crown", "Tide",
    "Shadow", "Compass", "Letter", "Season", "Road", "Island", "Summit", "Code", "Dream", "Engine",
    "Station", "Canyon", "Orbit", "Carnival", "Bridge", "Winter", "Tower", "Forest", "Anthem", "Key",
]  # fmt: skip
PLACES = [
    "Avalon", "Brooklyn", "Marrakesh", "Oslo", "Kyoto", "the North", "Paris", "Lagos", "Lisbon", "the Valley",
    "Mars", "Neptune", "Havana", "Reykjavik", "Santa Fe", "Glasgow", "Mumbai", "the Moon", "Tangier", "Dublin",
]  # fmt: skip
FIRST_NAMES = [
    "Ada", "Ben", "Chloe", "Dev", "Elena", "Felix", "Grace", "Hugo", "Iris", "Jonah", "Kira", "Leo", "Maya",
    "Nico", "Olive", "Pablo", "Quinn", "Rosa", "Sami", "Tara", "Umar", "Vera", "Wes", "Ximena", "Yusuf", "Zoe",
    "Amara", "Bruno", "Clara", "Dmitri", "Esme", "Farah", "Gus", "Hana", "Ivan", "Jade", "Kofi", "Lena",
    "Mateo", "Nadia", "Oscar", "Priya", "Rafael", "Sofia", "Theo", "Uma", "Viktor", "Wren", "Yara", "Zane",
    "Aiko", "Bea", "Cyrus", "Dara", "Emil", "Freya", "Gideon", "Hollis", "Ines", "Jasper",
]  # fmt: skip
LAST_NAMES = [
    "Abara", "Bennett", "Castillo", "Dubois", "Eriksen", "Fontaine", "Garcia", "Haddad", "Ito", "Jensen",
    "Kowalski", "Larsen", "Moreau", "Nakamura", "Okafor", "Petrov", "Quint", "Rossi", "Silva", "Tanaka",
    "Underwood", "Varga", "Whitfield", "Xu", "Yilmaz", "Zimmer", "Adeyemi", "Brandt", "Costa", "Delacroix",
    "Ekström", "Farrow", "Gallagher", "Holm", "Iqbal", "Jovanovic", "Kaur", "Lindqvist", "Mensah", "Novak",
    "O'Neill", "Park", "Quiroga", "Reyes", "Santos", "Thorne", "Ueda", "Vance", "Walsh", "Yamada",
    "Zhou", "Achebe", "Blackwood", "Carver", "Dalton", "Ellis", "Fischer", "Grant", "Hart", "Ivers",
]  # fmt: skip

PROTAGONISTS = [
    "a retired detective", "a young pilot", "an estranged sister", "a small-town baker", "an ambitious lawyer",
    "a reluctant heir", "a washed-up boxer", "a brilliant hacker", "a widowed rancher", "a night-shift nurse",
    "a disgraced chef", "a teenage inventor", "an aging rock star", "a rookie reporter", "a lighthouse keeper",
    "a grieving father", "a runaway bride", "a shy librarian", "a former spy", "a struggling comedian",
]  # fmt: skip
KIDS_PROTAGONISTS = [
    "a curious fox", "a brave little robot", "a clumsy dragon", "a pair of best friends", "a lost penguin",
    "a young wizard", "a talking bicycle", "a family of mice", "a cheerful snail", "a girl who can fly",
]  # fmt: skip
# Per taste group: (what happens, what they must do, what is at stake, what it is about).
STORY_PARTS = [
    (
        [
            "uncovers a plan to rob the central bank",
            "is framed for a crime she did not commit",
            "witnesses a deal gone wrong",
        ],
        ["outrun a ruthless crew", "clear their name", "pull off one last job"],
        ["the city wakes up", "the deadline runs out", "their partner talks"],
        "loyalty and betrayal",
    ),
    (
        ["finds a signal from a dying star", "wakes up a hundred years too late", "builds a machine that bends time"],
        ["lead a crew across the galaxy", "repair the timeline", "outwit a rogue intelligence"],
        ["the last colony falls", "the portal closes forever", "memory itself unravels"],
        "what makes us human",
    ),
    (
        ["falls for the one person she swore to avoid", "returns home for a wedding", "inherits a crumbling vineyard"],
        ["choose between two lives", "win back a first love", "save the family business"],
        ["the summer ends", "the last train leaves", "the vows are spoken"],
        "second chances",
    ),
    (
        ["moves into a house with a locked room", "hears whispers in the static", "finds a diary that writes itself"],
        ["survive the night", "solve a decades-old disappearance", "break an ancient curse"],
        ["the fog comes back", "the next full moon", "no one is left to warn"],
        "fear and grief",
    ),
    (
        [
            "is drafted into a war no one understands",
            "discovers letters hidden for eighty years",
            "crosses an ocean to start again",
        ],
        ["carry a message through enemy lines", "tell the truth history forgot", "keep a family together"],
        ["the front collapses", "the archive burns", "the empire falls"],
        "courage and memory",
    ),
    (
        ["accidentally becomes the office's union boss", "fakes being a celebrity chef", "runs for mayor on a dare"],
        ["keep the lie going", "survive a disastrous road trip", "win a talent show"],
        ["the boss finds out", "the cameras roll", "grandma's birthday party"],
        "friendship and embarrassment",
    ),
    (
        ["gets lost on the way to the big parade", "discovers a secret door in the garden", "finds a magic map"],
        ["find the way home", "save the enchanted forest", "throw the best party ever"],
        ["the sun goes down", "winter arrives", "the parade begins"],
        "friendship and being brave",
    ),
    (
        ["gets one last shot at the championship", "joins a garage band", "coaches a hopeless junior team"],
        ["train harder than ever", "play the biggest stage in the country", "prove everyone wrong"],
        ["the final whistle", "the record deal expires", "the season ends"],
        "never giving up",
    ),
    (
        [
            "defends a client everyone wants convicted",
            "returns to the town that exiled them",
            "uncovers corruption at the top",
        ],
        ["confront a painful past", "expose the truth", "hold a fractured family together"],
        ["the verdict is read", "the scandal breaks", "it destroys them"],
        "justice and family",
    ),
    (
        ["rides into a town run by outlaws", "is hired to guide settlers west", "loses everything in a flood"],
        ["bring the gang to justice", "cross the mountains before winter", "rebuild from nothing"],
        ["the railroad arrives", "the snow closes the pass", "the sheriff's last day"],
        "survival and honor",
    ),
]
EPISODE_WORDS = [
    "Pilot",
    "Homecoming",
    "The Deal",
    "Crossroads",
    "Old Friends",
    "Lockdown",
    "Aftermath",
    "The Visitor",
    "Fault Lines",
    "Reckoning",
    "Ghosts",
    "Open Water",
    "The Long Night",
    "Finale",
]
SERIES_DESCRIPTORS = ["a gripping series", "a sharp series", "an addictive series", "a sweeping saga"]
FILM_DESCRIPTORS = ["a gripping film", "a heartfelt film", "a stylish film", "an unforgettable film"]
# Searches that find nothing: the content-gap report needs some.
GAP_QUERIES = ["star wars", "the office", "dune", "friends", "succession", "bluey", "top gun", "barbie"]

FILM_RATINGS = {
    "kids": ([MaturityRating.G, MaturityRating.PG, MaturityRating.PG_13], [0.5, 0.4, 0.1]),
    "dark": ([MaturityRating.PG_13, MaturityRating.R, MaturityRating.NC_17], [0.25, 0.6, 0.15]),
    "other": (
        [MaturityRating.PG, MaturityRating.PG_13, MaturityRating.R, MaturityRating.NC_17],
        [0.2, 0.45, 0.32, 0.03],
    ),
}
SERIES_RATINGS = {
    "kids": (
        [MaturityRating.TV_Y, MaturityRating.TV_Y7, MaturityRating.TV_G, MaturityRating.TV_PG],
        [0.35, 0.3, 0.2, 0.15],
    ),
    "dark": ([MaturityRating.TV_14, MaturityRating.TV_MA], [0.4, 0.6]),
    "other": (
        [MaturityRating.TV_G, MaturityRating.TV_PG, MaturityRating.TV_14, MaturityRating.TV_MA],
        [0.1, 0.3, 0.4, 0.2],
    ),
}
KIDS_GENRES = {"Kids", "Family", "Animation"}
DARK_GENRES = {"Horror", "Thriller", "Crime", "War"}
