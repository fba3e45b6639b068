"""Real labelled text sets for the clustering benches: each loader returns (texts, labels); no method sees the labels.

    from _datasets import LOADERS, DatasetUnavailable
    texts, labels = LOADERS["wordnet-nv"]()

Every set comes from a registry this machine reaches (or ../shared/data), with its version pinned:
- banking77-test, banking77-train: ../shared/data/banking77 (PolyAI, CC BY 4.0), online-banking queries by intent;
- chatterbot-en: PyPI chatterbot-corpus==1.3.3 (BSD-3-Clause, pinned in requirements/dev.txt), chatbot questions
  by topic file;
- wordnet-nv, emoji-names, fortunes: Debian 12 (bookworm) packages fetched by the loader itself with
  `apt-get download NAME=VERSION` into var/bench-data/debian/ (git-ignored), the .deb's SHA-256 checked against the
  archive's, only the files needed kept.
A set that cannot be had raises DatasetUnavailable with the reason; the benches print it and go on without that set.
"""

from __future__ import annotations

import csv
import hashlib
import re
import shutil
import subprocess
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SHARED = next((up / "shared" for up in (ROOT.parent, ROOT.parent.parent) if (up / "shared").exists()), ROOT.parent)
BENCH_DATA = ROOT / "var" / "bench-data"
MIN_CLASS = 5  # a class with fewer members is dropped (as chatterbot-en always did): too small to be a group


class DatasetUnavailable(RuntimeError):
    """The set cannot be loaded here (package missing, registry unreachable, checksum mismatch)."""


# --- Sources -------------------------------------------------------------------------------------------------------
def debian_files(package: str, version: str, sha256: str, files: list[str]) -> Path:
    """The given files of Debian `package` at `version` (paths inside the .deb), fetched once into var/bench-data.

    `apt-get download` takes the package from the archive the machine's apt sources name (run `apt-get update` once
    on a new machine); the .deb must hash to `sha256` (the archive's own Packages index entry for that version).
    """
    dest = BENCH_DATA / "debian" / f"{package}_{version.replace(':', '%3a')}"
    if all((dest / f).is_file() for f in files):
        return dest
    if shutil.which("apt-get") is None or shutil.which("dpkg-deb") is None:
        raise DatasetUnavailable(f"{package}={version}: needs apt-get and dpkg-deb (a Debian machine)")
    with tempfile.TemporaryDirectory() as tmp:
        try:
            run = subprocess.run(
                ["apt-get", "download", f"{package}={version}"], cwd=tmp, capture_output=True, text=True, timeout=600
            )
        except subprocess.TimeoutExpired as exc:
            raise DatasetUnavailable(f"{package}={version}: apt-get download timed out") from exc
        debs = list(Path(tmp).glob("*.deb"))
        if run.returncode != 0 or len(debs) != 1:
            reason = (run.stderr.strip().splitlines() or ["no .deb"])[-1]
            raise DatasetUnavailable(f"{package}={version}: apt-get download failed ({reason}; apt-get update first?)")
        digest = hashlib.sha256(debs[0].read_bytes()).hexdigest()
        if digest != sha256:
            raise DatasetUnavailable(f"{package}={version}: SHA-256 {digest} is not the pinned {sha256}")
        subprocess.run(["dpkg-deb", "-x", str(debs[0]), f"{tmp}/x"], check=True, timeout=600)
        missing = [f for f in files if not (Path(tmp) / "x" / f).exists()]
        if missing:
            raise DatasetUnavailable(f"{package}={version}: the package has no {', '.join(missing)}")
        for f in files:
            target = dest / f
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(Path(tmp) / "x" / f, target)  # follows symlinks inside the package
    return dest


def keep_classes(texts: list[str], labels: list[str], min_size: int = MIN_CLASS) -> tuple[list[str], np.ndarray]:
    counts = Counter(labels)
    kept = [(t, y) for t, y in zip(texts, labels, strict=True) if counts[y] >= min_size]
    return [t for t, _ in kept], np.array([y for _, y in kept])


def subsample(texts: list[str], labels: np.ndarray, cap: int, seed: int = 0) -> tuple[list[str], np.ndarray]:
    """A uniform random `cap` of the items (all of them when there are no more), in their original order."""
    if len(texts) <= cap:
        return texts, labels
    ix = np.sort(np.random.default_rng(seed).choice(len(texts), cap, replace=False))
    return [texts[i] for i in ix], labels[ix]


# --- Loaders -------------------------------------------------------------------------------------------------------
def banking77(split: str) -> tuple[list[str], np.ndarray]:
    """Banking77 (Casanueva et al. 2020, PolyAI; CC BY 4.0), ../shared/data/banking77/{train,test}.csv.

    Online-banking customer queries, one of 77 intents each (card_arrival, lost_or_stolen_card, ...); test: 3,080
    queries, 40 per intent; train: 10,003. The label is the dataset's own `category` column.
    """
    path = SHARED / "data" / "banking77" / f"{split}.csv"
    if not path.exists():
        raise DatasetUnavailable(f"banking77: {path} not found")
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return [r["text"] for r in rows], np.array([r["category"] for r in rows])


def chatterbot_en() -> tuple[list[str], np.ndarray]:
    """chatterbot-corpus 1.3.3 (PyPI wheel, BSD-3-Clause; pinned in requirements/dev.txt), data/english/*.yml.

    The distinct first lines (what the user says) of the conversations of each English topic file, labelled by the
    file (ai, botprofile, computers, emotion, food, gossip, greetings, health, history, humor, literature, money,
    movies, politics, psychology, science, sports, trivia, ...); files with fewer than 5 such questions are left out.
    749 questions in 19 topics of 6 to 261.
    """
    try:
        import chatterbot_corpus
        import yaml
    except ImportError as exc:
        raise DatasetUnavailable("chatterbot-en: pip install --no-deps chatterbot-corpus==1.3.3") from exc
    texts, topics = [], []
    for path in sorted((Path(chatterbot_corpus.__file__).parent / "data" / "english").glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        questions = sorted({c[0] for c in data.get("conversations", []) if c and isinstance(c[0], str)})
        if len(questions) >= MIN_CLASS:
            texts += questions
            topics += [path.stem] * len(questions)
    return texts, np.array(topics)


# lexnames(5WN): the lexicographer file of a synset is its second field in data.noun / data.verb
LEXNAMES = (
    "adj.all adj.pert adv.all noun.Tops noun.act noun.animal noun.artifact noun.attribute noun.body noun.cognition "
    "noun.communication noun.event noun.feeling noun.food noun.group noun.location noun.motive noun.object "
    "noun.person noun.phenomenon noun.plant noun.possession noun.process noun.quantity noun.relation noun.shape "
    "noun.state noun.substance noun.time verb.body verb.change verb.cognition verb.communication verb.competition "
    "verb.consumption verb.contact verb.creation verb.emotion verb.motion verb.perception verb.possession "
    "verb.social verb.stative verb.weather adj.ppl"
).split()


def wordnet_nv() -> tuple[list[str], np.ndarray]:
    """WordNet 3.0 nouns and verbs, Debian 12 `wordnet-base` 1:3.0-37 (WordNet 3.0 licence, Princeton: free use with
    its notice). Each synset's text is "<first lemma>: <definition>" (the gloss without its quoted examples), e.g.
    "dog: a member of the genus Canis ..."; the label is the lexicographer file the WordNet editors filed it under:
    26 noun classes (noun.animal, noun.artifact, noun.person, noun.food, ...) and 15 verb classes (verb.motion,
    verb.communication, ...), 41 in all (the adjective and adverb files group by syntax, not meaning, and are left
    out). 82,115 noun + 13,767 verb synsets; the bench takes a seeded subsample.
    """
    files = ["usr/share/wordnet/data.noun", "usr/share/wordnet/data.verb"]
    base = debian_files(
        "wordnet-base", "1:3.0-37", "61060d960f9ada8fa120872312eccd3ecebfbab8c4579e4f5a74e1cf67620752", files
    )
    texts, labels = [], []
    for f in files:
        for line in (base / f).read_text(encoding="utf-8").splitlines():
            if line.startswith("  "):  # the licence header
                continue
            head, _, gloss = line.partition(" | ")
            fields = head.split()
            lemma = fields[4].replace("_", " ")
            definition = re.split(r';\s*"', gloss, maxsplit=1)[0].strip().rstrip(";").strip()
            texts.append(f"{lemma}: {definition}")
            labels.append(LEXNAMES[int(fields[1])])
    return keep_classes(texts, labels)


def emoji_names() -> tuple[list[str], np.ndarray]:
    """Unicode 15.0 emoji names by subgroup, Debian 12 `unicode-data` 15.0.0-1 (Unicode licence: free use with its
    notice), usr/share/unicode/emoji/emoji-test.txt. Every fully-qualified emoji without a skin-tone modifier, its
    CLDR name as the text ("grinning face with big eyes", "woman firefighter", "flag: Japan", "hot beverage"), the
    Unicode subgroup as the label (face-smiling, animal-mammal, food-fruit, transport-ground, country-flag, ...).
    1,873 such names in 100 subgroups; the 10 subgroups with fewer than 5 names are left out: 1,847 names in 90
    subgroups of 5 to 258 (country-flag).
    """
    f = "usr/share/unicode/emoji/emoji-test.txt"
    base = debian_files(
        "unicode-data", "15.0.0-1", "5efef23bbb1c6a133ecbdd63a2cfa07159ccacf5466a49e2426101c5ecd691fc", [f]
    )
    texts, labels, subgroup = [], [], ""
    for line in (base / f).read_text(encoding="utf-8").splitlines():
        if line.startswith("# subgroup:"):
            subgroup = line.split(":", 1)[1].strip()
        elif "; fully-qualified" in line:
            name = re.sub(r"^.*?# \S+ E\d+\.\d+ ", "", line).strip()
            if "skin tone" not in name:
                texts.append(name)
                labels.append(subgroup)
    return keep_classes(texts, labels)


FORTUNE_TOPICS = (
    "art computers drugs education food kids law linux love medicine men-women news pets politics "
    "science songs-poems sports startrek work"
).split()


def fortunes() -> tuple[list[str], np.ndarray]:
    """fortune(6) cookies by topic file, Debian 12 `fortunes` 1:1.99.1-7.3 (fortune-mod; BSD licence of the Regents
    of the University of California, per the package's copyright file). Its 19 files named after a subject (art,
    computers, drugs, education, food, kids, law, linux, love, medicine, men-women, news, pets, politics, science,
    songs-poems, sports, startrek, work); the catch-all, per-author and per-form files (miscellaneous, cookie,
    people, wisdom, zippy, definitions, ...) are left out, and so is `literature` (in fortunes-min, with
    `fortunes` and `riddles`). A text is one cookie
    (a quip, quote or short joke) with its whitespace collapsed, kept when at most 300 characters and in one file
    only; the label is the file. Loose labels (a joke about lawyers may sit in `law` or in `work`): a hard set.
    """
    files = [f"usr/share/games/fortunes/{t}" for t in FORTUNE_TOPICS]
    base = debian_files(
        "fortunes", "1:1.99.1-7.3", "41d0551dc0ff52f875a2ecef7c39da2f672ab468c37e170119f7e0245a9d63c5", files
    )
    seen: dict[str, set[str]] = {}
    for topic, f in zip(FORTUNE_TOPICS, files, strict=True):
        raw = (base / f).read_bytes().decode("utf-8", errors="replace")
        raw = re.sub(r".\x08", "", raw)  # overstrike (x BACKSPACE x) as old terminals printed bold
        for cookie in re.split(r"^%$", raw, flags=re.MULTILINE):
            text = " ".join(cookie.split())
            if text and len(text) <= 300:
                seen.setdefault(text, set()).add(topic)
    texts = sorted(t for t, topics in seen.items() if len(topics) == 1)
    return keep_classes(texts, [next(iter(seen[t])) for t in texts])


LOADERS: dict[str, Callable[[], tuple[list[str], np.ndarray]]] = {
    "banking77-test": lambda: banking77("test"),
    "banking77-train": lambda: banking77("train"),
    "chatterbot-en": chatterbot_en,
    "wordnet-nv": wordnet_nv,
    "emoji-names": emoji_names,
    "fortunes": fortunes,
}
