#!/usr/bin/env python3
"""A second, independent set of typo queries for bench-search.

Usage: make_typo_queries.py CORPUS_TSV OUT [SEED] [COUNT]

CORPUS_TSV is a corpus made by make_corpus.py (its 100k subset, so the queries are valid on both
corpora); OUT gets COUNT (default 400) lines

    typo <TAB> target_id <TAB> query as typed <TAB> the same query typed correctly <TAB> how

This generator shares nothing with make_corpus.py's typo maker except the corpus: it draws its
own targets with its own seed (default 9091), writes queries of one to three words taken in
order from the target's title (typed the way people type a title they remember: 35 % one word,
45 % two, 20 % three), and puts one typo into one of the query's words of at least 5 letters,
chosen uniformly (not a fixed position). The typo follows error models from studies of typing and
spelling errors rather than uniform random edits:

  * keyboard slip (35 %): a letter replaced by a QWERTY neighbour (same row or the rows around);
  * transposition (20 %): two adjacent different letters swapped;
  * omission (20 %): a letter left out, twice as likely a vowel or one of a doubled pair;
  * doubling (10 %): a letter typed twice;
  * phonetic / vowel confusion (15 %): a vowel replaced by another vowel, or one of the
    sound-alike consonant pairs c/k, c/s, s/z, i/y, m/n, d/t, b/p, g/j, v/f replaced.

Positions follow the finding that the first letter is rarely wrong: the first letter is edited
with a fifth of the weight of any other position. A typo may happen to be a real word of the
corpus (people make those too); such queries stay in the set. The query as typed has no trailing
space, so its last word is also a prefix, as the benchmark's other queries.
"""
import random
import re
import sys

TOK = re.compile(r"[^\W_]+")
STOP = set("""the and for with from that this you your not but are was
les las los des del der die das den und une dans sur pour""".split())

ROWS = ["qwertyuiop", "asdfghjkl", "zxcvbnm"]
VOWELS = set("aeiou")
SOUND_ALIKE = [("c", "k"), ("c", "s"), ("s", "z"), ("i", "y"), ("m", "n"), ("d", "t"),
               ("b", "p"), ("g", "j"), ("v", "f")]


def neighbours():
    """QWERTY neighbours: left and right on the row, and the two keys touching above and below."""
    position = {}
    for r, row in enumerate(ROWS):
        for c, ch in enumerate(row):
            position[ch] = (r, c)
    out = {}
    for ch, (r, c) in position.items():
        near = set()
        for dr, dcs in ((0, (-1, 1)), (-1, (0, 1)), (1, (-1, 0))):
            for dc in dcs:
                rr, cc = r + dr, c + dc
                if 0 <= rr < len(ROWS) and 0 <= cc < len(ROWS[rr]):
                    near.add(ROWS[rr][cc])
        near.discard(ch)
        out[ch] = sorted(near)
    return out


NEAR = neighbours()


def pick_position(rng, length, allowed=None):
    positions = [p for p in range(length) if allowed is None or allowed(p)]
    if not positions:
        return None
    weights = [0.2 if p == 0 else 1.0 for p in positions]
    return rng.choices(positions, weights=weights)[0]


def typo(word, rng):
    """One realistic error in `word` (ASCII letters), and its kind."""
    for _ in range(100):
        kind = rng.choices(["keyboard", "transpose", "omit", "double", "phonetic"],
                           weights=[35, 20, 20, 10, 15])[0]
        n = len(word)
        if kind == "keyboard":
            p = pick_position(rng, n, lambda p: word[p] in NEAR)
            if p is None:
                continue
            out = word[:p] + rng.choice(NEAR[word[p]]) + word[p + 1:]
        elif kind == "transpose":
            p = pick_position(rng, n - 1, lambda p: word[p] != word[p + 1])
            if p is None:
                continue
            out = word[:p] + word[p + 1] + word[p] + word[p + 2:]
        elif kind == "omit":
            positions = list(range(n))
            weights = [(0.2 if p == 0 else 1.0)
                       * (2.0 if word[p] in VOWELS or (p > 0 and word[p - 1] == word[p]) else 1.0)
                       for p in positions]
            p = rng.choices(positions, weights=weights)[0]
            out = word[:p] + word[p + 1:]
        elif kind == "double":
            p = pick_position(rng, n)
            out = word[:p + 1] + word[p] + word[p + 1:]
        else:
            def swaps(ch):
                if ch in VOWELS:
                    return sorted(VOWELS - {ch})
                return sorted({b for a, b in SOUND_ALIKE if a == ch} | {a for a, b in SOUND_ALIKE if b == ch})
            p = pick_position(rng, n, lambda p: bool(swaps(word[p])))
            if p is None:
                continue
            out = word[:p] + rng.choice(swaps(word[p])) + word[p + 1:]
        if out != word:
            return out, kind
    raise ValueError(f"no typo for {word!r}")


def main():
    if len(sys.argv) < 3:
        sys.exit("usage: make_typo_queries.py CORPUS_TSV OUT [SEED] [COUNT]")
    corpus, out_path = sys.argv[1], sys.argv[2]
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 9091
    count = int(sys.argv[4]) if len(sys.argv) > 4 else 400
    docs = []
    with open(corpus, encoding="utf-8") as f:
        for line in f:
            fields = line.rstrip("\n").split("\t")
            if len(fields) >= 2:
                docs.append((fields[0], fields[1]))
    rng = random.Random(seed)
    written = 0
    with open(out_path, "w", encoding="utf-8") as out:
        while written < count:
            target, title = rng.choice(docs)
            words = [w for w in TOK.findall(title.lower())
                     if w.isascii() and w.isalpha() and len(w) >= 3 and w not in STOP]
            length = rng.choices([1, 2, 3], weights=[35, 45, 20])[0]
            if len(words) < length:
                continue
            start = rng.randrange(len(words) - length + 1)
            query = words[start:start + length]
            if len(set(query)) < len(query):
                continue
            typeable = [i for i, w in enumerate(query) if len(w) >= 5]
            if not typeable:
                continue
            i = rng.choice(typeable)
            wrong, kind = typo(query[i], rng)
            typed = query[:i] + [wrong] + query[i + 1:]
            out.write(f"typo\t{target}\t{' '.join(typed)}\t{' '.join(query)}\t{kind}:{len(query)}w:word{i}\n")
            written += 1
    print(f"wrote {written} typo queries to {out_path} (seed {seed})")


if __name__ == "__main__":
    main()
