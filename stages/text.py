"""Free-text answers: normalisation (Arabic and English), frequent terms, themes, exact and near duplicates.

Normalisation, in order: Arabic-Indic digits to ASCII; tashkeel (harakat, tanwin, shadda, sukun, dagger
alef) removed; alef variants أ إ آ ٱ to ا; alef maksura ى to ي; ta marbuta ة to ه; tatweel ـ removed
except in the Hijri-year abbreviation هـ (`1445هـ`, `1445 هـ`, `بتاريخ هـ`), which stays; decorative
tatweel inside or after a word (`جمـيل`, `هـذا`) goes;
English lower-cased; anything that is not a letter or digit becomes a space; runs of spaces collapse.

Normalising is for grouping only: a term is shown in the spelling its writers used most (`spellings`), so a
reader sees الخدمة and ممتازة, not the grouping keys الخدمه and ممتازه.
"""

import re
import zlib
from collections import Counter
from collections.abc import Mapping
from functools import cache
from importlib import resources

import numpy as np
import pandas as pd

_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
_LETTERS = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه"})
_TASHKEEL = re.compile("[\u064b-\u0652\u0670]")
# tatweel goes, except the هـ that abbreviates Hijri years: a ه on its own (after a number, a space or the
# start) followed by a tatweel that ends the word, as in `1445هـ`, `26 هـ`
_TATWEEL = re.compile(r"(?<![\s\d]ه)(?<!^ه)\u0640|\u0640(?=\w)")
_NOT_WORD = re.compile(r"[^\w\u0640]+|_")
# the same word boundaries in a text not yet normalised: tashkeel is removed before `_NOT_WORD` splits, so
# here it belongs to the word it sits on
_NOT_WORD_RAW = re.compile(r"[^\w\u0640\u064b-\u0652\u0670]+|_")
_ARABIC = re.compile("[\u0621-\u064a]")
_LATIN = re.compile("[a-z]")


def normalise(text: str) -> str:
    """One text, normalised as the module says."""
    text = _TASHKEEL.sub("", text.translate(_DIGITS)).translate(_LETTERS).lower()
    text = _TATWEEL.sub("", text)
    return " ".join(_NOT_WORD.sub(" ", text).split())


def normalise_all(texts: pd.Series) -> pd.Series:
    """Every text of a column, normalised (the same steps as `normalise`).

    Each distinct text is normalised once: comments repeat (organised campaigns, short answers), and
    normalising is the costly part."""
    distinct = pd.Series(pd.unique(texts.astype(str).to_numpy()), dtype=object)
    s = distinct.str.translate(_DIGITS).str.replace(_TASHKEEL, "", regex=True)
    s = s.str.translate(_LETTERS).str.lower().str.replace(_TATWEEL, "", regex=True)
    s = s.str.replace(_NOT_WORD, " ", regex=True).str.split().str.join(" ")
    mapping = dict(zip(distinct.tolist(), s.tolist(), strict=True))
    return texts.astype(str).map(mapping).astype(object)


def is_arabic(text: str) -> bool:
    """Whether the text has an Arabic letter."""
    return bool(_ARABIC.search(text))


def is_latin(text: str) -> bool:
    """Whether the text has a Latin letter."""
    return bool(_LATIN.search(text.lower()))


@cache
def stop_words() -> frozenset[str]:
    """The shipped Arabic and English stop-word lists, normalised."""
    words: set[str] = set()
    for name in ("stopwords_ar.txt", "stopwords_en.txt"):
        for line in resources.files("musharaka.stages").joinpath("data", name).read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                words.add(normalise(line))
    return frozenset(words)


def spellings(texts: pd.Series) -> dict[str, str]:
    """Each normalised word of the texts -> the spelling its writers used most, for showing it.

    A spelling is the word as written, without the punctuation around it, its tashkeel (a case ending
    depends on the sentence, not the word) or decorative tatweel. Every occurrence counts, repeats included;
    ties go to the lower-case spelling, then the lowest in code-point order (ة before ه, أ before ا)."""
    given = texts.astype(str).value_counts()  # each distinct text once, weighted by how often it was given
    tokens = pd.Series(given.index, dtype=object).str.split(_NOT_WORD_RAW).explode()
    tokens = tokens[tokens.str.len() > 0]
    if tokens.empty:
        return {}
    plain = tokens.str.replace(_TASHKEEL, "", regex=True).str.replace(_TATWEEL, "", regex=True)
    weighted = pd.Series(given.to_numpy()[tokens.index.to_numpy()], index=plain.to_numpy()).groupby(level=0).sum()
    table = pd.DataFrame({"shown": weighted.index.astype(str), "uses": weighted.to_numpy()})
    table["word"] = normalise_all(table["shown"])
    table["cased"] = table["shown"] != table["shown"].str.lower()
    table = table[(table["word"] != "") & ~table["word"].str.contains(" ", regex=False)]
    table = table.sort_values(["word", "uses", "cased", "shown"], ascending=[True, False, True, True], kind="stable")
    first = table.drop_duplicates("word")
    return dict(zip(first["word"].tolist(), first["shown"].tolist(), strict=True))


def terms(
    normalised: pd.Series, extra_stop_words: tuple[str, ...] = (), top: int = 20, shown: Mapping[str, str] | None = None
) -> tuple[Counter[str], ...]:
    """The most frequent terms (Arabic, English), stop words, single letters and bare numbers left out.

    A term counts once per text it appears in (how many contributions mention it). Terms are grouped by
    their normalised form and keyed by `shown`'s spelling of it when given (see `spellings`)."""
    stop = stop_words() | {normalise(w) for w in extra_stop_words}
    texts = normalised.value_counts()  # each distinct text once, weighted by how often it was given
    tokens = pd.Series(texts.index, dtype=object).str.split().map(set).explode().dropna()
    counts = pd.Series(texts.to_numpy()[tokens.index.to_numpy()], index=tokens.to_numpy()).groupby(level=0).sum()
    counts = counts.sort_index().sort_values(ascending=False, kind="stable")  # ties in alphabetical order
    keep = [t for t in counts.index if t not in stop and len(t) > 1 and not t.isdigit()]
    counts = counts.loc[keep]
    arabic = counts[[bool(_ARABIC.search(t)) for t in counts.index]].head(top)
    english = counts[[bool(_LATIN.search(t)) for t in counts.index]].head(top)
    spelt = shown or {}
    return (
        Counter({spelt.get(str(k), str(k)): int(v) for k, v in arabic.items()}),
        Counter({spelt.get(str(k), str(k)): int(v) for k, v in english.items()}),
    )


def themes(normalised: pd.Series, keywords: dict[str, tuple[str, ...]]) -> dict[str, int]:
    """Per theme: the texts that contain any of its keywords (normalised, as whole words or phrases)."""
    texts = normalised.value_counts()
    padded = pd.Series(" " + texts.index.to_numpy().astype(object) + " ", dtype=object)
    counts = {}
    for theme, words in keywords.items():
        hit = pd.Series(False, index=padded.index)
        for word in words:
            hit |= padded.str.contains(f" {normalise(word)} ", regex=False)
        counts[theme] = int(texts.to_numpy()[hit.to_numpy()].sum())
    return counts


def exact_duplicates(normalised: pd.Series) -> tuple[int, int]:
    """(texts that repeat an earlier one once normalised, distinct texts repeated at least once)."""
    counts = normalised[normalised != ""].value_counts()
    repeated = counts[counts > 1]
    return int((repeated - 1).sum()), len(repeated)


def near_duplicates(normalised: pd.Series, threshold: float = 0.8, *, seed: int = 1) -> tuple[int, int]:
    """(texts that nearly repeat another, not counting exact repeats; groups of near-duplicate texts).

    Two texts are near duplicates when the Jaccard similarity of their character 4-gram sets is at
    least `threshold`. Candidates come from MinHash signatures (64 hashes, 16 bands of 4) over the
    distinct texts, and every candidate pair is checked exactly, so no pair below the threshold counts.
    """
    counts = normalised[normalised != ""].value_counts()
    if len(counts) < 2:
        return 0, 0
    roots = _near_roots(list(counts.index), threshold, seed)
    sizes = Counter(roots)
    multi = {r for r, size in sizes.items() if size > 1}
    # a distinct text once: its further copies are exact repeats, counted there (exact + near + groups'
    # first texts = answers - the distinct texts that stand alone)
    nearly = sum(1 for i, r in enumerate(roots) if r in multi and r != i)
    return nearly, len(multi)


def clusters(normalised: pd.Series, threshold: float = 0.8, *, seed: int = 1) -> int:
    """How many different things the texts say: texts grouped when equal or near duplicates (as
    `near_duplicates` finds them), empty ones left out. Texts minus clusters is how many repeat another."""
    distinct = list(normalised[normalised != ""].unique())
    return len(set(_near_roots(distinct, threshold, seed))) if len(distinct) > 1 else len(distinct)


def _near_roots(texts: list[str], threshold: float, seed: int) -> list[int]:
    """For each distinct text, the index of the first text of its group of near duplicates."""
    shingles = [_shingles(t) for t in texts]
    rng = np.random.default_rng(seed)
    prime = np.uint64((1 << 61) - 1)
    a = rng.integers(1, 1 << 31, size=64, dtype=np.uint64)
    b = rng.integers(0, 1 << 31, size=64, dtype=np.uint64)
    signatures = np.empty((len(texts), 64), dtype=np.uint64)
    for i, grams in enumerate(shingles):
        x = np.fromiter(grams, dtype=np.uint64, count=len(grams))
        signatures[i] = ((np.outer(x, a) + b) % prime).min(axis=0)
    parent = list(range(len(texts)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    seen: set[tuple[int, int]] = set()
    for band in range(16):
        buckets: dict[bytes, list[int]] = {}
        for i, key in enumerate(signatures[:, band * 4 : band * 4 + 4]):
            buckets.setdefault(key.tobytes(), []).append(i)
        for members in buckets.values():
            for j in members[1:]:
                pair = (members[0], j)
                if pair in seen:
                    continue
                seen.add(pair)
                first, other = shingles[members[0]], shingles[j]
                if len(first & other) / len(first | other) >= threshold:
                    parent[root(j)] = root(members[0])
    return [root(i) for i in range(len(texts))]


def _shingles(text: str) -> set[int]:
    padded = f" {text} "
    grams = {padded[i : i + 4] for i in range(max(1, len(padded) - 3))}
    return {zlib.crc32(g.encode("utf-8")) for g in grams}
