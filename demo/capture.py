"""The capture part of the demo: the project `support-bot`, built from Banking77 through the ingest service.

Times are anchored to today's midnight (UTC), so a second run on the same day is a pure retry: every item answers
200 and nothing is written twice.
"""

import csv
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from feedback.models import Project, ScoreThreshold
from feedback.services.capture import capture_ingest
from feedback.services.projects import project_get_or_create

DEMO_SLUG = "support-bot"
DATA_DIR = Path(__file__).resolve().parent / "data" / "banking77"  # a 2,000-query sample, CC BY 4.0
ATTRIBUTION = (
    "Customer queries from Banking77 (Casanueva et al., 2020, 'Efficient Intent Detection with Dual Sentence "
    "Encoders', PolyAI), licensed CC BY 4.0: https://github.com/PolyAI-LDN/task-specific-datasets"
)
INTERACTIONS = 2000
BATCH = 1000
MODELS = ("gpt-4o-mini", "claude-haiku")
PROMPTS = ("v1", "v2")
SYSTEM = "You are the support assistant of a mobile bank. Answer briefly and point to the right place in the app."

# What a decent answer says, by the first keyword of the intent name that matches.
_TOPIC_ANSWERS = {
    "card_arrival": "Cards usually arrive within 3 to 5 working days; you can track delivery under Card > Status.",
    "delivery": "Cards usually arrive within 3 to 5 working days; you can track delivery under Card > Status.",
    "pin": "You can unblock or change your PIN in the app under Card > Security; at an ATM it takes effect at once.",
    "passcode": "Tap 'Forgot passcode' on the login screen; we send a reset link to your verified email.",
    "lost": "Freeze the card right away under Card > Freeze, then order a replacement from the same screen.",
    "stolen": "Freeze the card right away under Card > Freeze, then order a replacement from the same screen.",
    "compromised": "Freeze the card under Card > Freeze and we issue a new number; disputed payments are reviewed.",
    "exchange": "We use the interbank rate; weekend exchanges carry a 0.5% mark-up, shown before you confirm.",
    "top_up": "Top-ups by card are instant; bank transfers take up to one working day. See Account > Limits.",
    "transfer": "Transfers in the same currency arrive within one working day; track them under Payments > Transfers.",
    "refund": "Refunds appear once the merchant sends them, usually within 5 to 10 working days.",
    "cash": "ATM withdrawals are free up to 200 GBP a month, then 2%. Pending withdrawals clear within 2 days.",
    "atm": "ATM withdrawals are free up to 200 GBP a month, then 2%. Pending withdrawals clear within 2 days.",
    "identity": "We verify identity to meet regulations; use a valid passport or ID card and a clear selfie.",
    "verify": "We verify identity to meet regulations; use a valid passport or ID card and a clear selfie.",
    "virtual": "Create a virtual card under Card > Add card > Virtual; it works online and in Apple Pay at once.",
    "disposable": "Disposable virtual cards change their number after each payment; create them under Card > Add card.",
    "contactless": "Contactless needs one chip-and-PIN payment first; after that it works up to the local limit.",
    "charge": "Fees are listed under Account > Plan & fees; a charge you do not recognise can be disputed from it.",
    "fee": "Fees are listed under Account > Plan & fees; a charge you do not recognise can be disputed from it.",
    "pending": "Pending payments settle within 1 to 3 working days; if it is reverted, the money returns at once.",
    "declined": "A declined payment is explained under the transaction; most often a limit or a frozen card.",
    "account": "You can close your account under Profile > Close account once the balance is zero.",
    "personal": "Edit your address and name under Profile > Personal details; a name change needs a document.",
    "pay": "Add your card to Apple Pay or Google Pay from Card > Add to wallet.",
    "age": "You need to be 18 or over to open an account; a youth account is available from 13 with a parent.",
    "country": "We support residents of the EEA, the UK, the US and Australia; see Help > Countries.",
}
_NON_ANSWERS = (
    "I'm sorry, I can't help with that. Please contact our support team.",
    "Thanks for reaching out! Please check our Help Centre for more information.",
    "I understand your concern. Is there anything else I can help you with?",
)
_WRONG_ANSWERS = (
    "This usually takes about 30 days; there is nothing you can do to speed it up.",
    "You need to visit a branch with your ID to sort this out.",
)
_COMMENTS_DOWN = (
    "Didn't answer my question",
    "This is wrong, the app says something else",
    "Too generic",
    "I had to call support anyway",
    "Wrong policy",
)
_COMMENTS_UP = ("Thanks, that helped", "Quick and clear", "Perfect")


_FALLBACK_ANSWER = "You can find this under Help in the app; I've also opened a chat with a specialist for you."
# How often the assistant answers well, by prompt version, on the topics it knows and on those it has no answer for
# (14 of the 77 intents). Failures bunch on the unknown topics, as real ones bunch on a few causes: the demo's
# clusters are a dozen or two patterns an SME can work through, not one per intent.
_GOOD_RATE = {"v1": (0.93, 0.05), "v2": (0.97, 0.2)}


def topic_answer(intent: str) -> str:
    """The demo's notion of a right answer to a Banking77 intent (the reviews' corrections use it too)."""
    for keyword, answer in _TOPIC_ANSWERS.items():
        if keyword in intent.lower():
            return answer
    return _FALLBACK_ANSWER


def _read_queries(rng: random.Random, count: int, data_dir: Path) -> list[tuple[str, str]]:
    with open(data_dir / "train.csv", newline="", encoding="utf-8") as handle:
        rows = [(row["text"], row["category"]) for row in csv.DictReader(handle)]
    return rng.sample(rows, min(count, len(rows)))


def load_project() -> Project:
    project = project_get_or_create(slug=DEMO_SLUG, name="Support bot (demo)")
    project.description = f"Demo: a banking support assistant. {ATTRIBUTION}"
    project.save(update_fields=["description", "updated_at"])
    ScoreThreshold.objects.update_or_create(project=project, name="helpfulness", defaults={"threshold": 3})
    return project


def build_interactions(rng: random.Random, anchor: datetime, data_dir: Path = DATA_DIR) -> list[dict]:
    """Chat interactions: the query as the user's message; v2 answers well more often than v1, and both fail most on
    the topics the assistant has no answer for."""
    items = []
    for n, (query, intent) in enumerate(_read_queries(rng, INTERACTIONS, data_dir)):
        model, prompt = rng.choice(MODELS), rng.choice(PROMPTS)
        known, unknown = _GOOD_RATE[prompt]
        good_rate = known if topic_answer(intent) != _FALLBACK_ANSWER else unknown
        roll = rng.random()
        quality = "good" if roll < good_rate else "generic" if roll < good_rate + (1 - good_rate) * 0.7 else "wrong"
        output = {
            "good": topic_answer(intent),
            "generic": rng.choice(_NON_ANSWERS),
            "wrong": rng.choice(_WRONG_ANSWERS),
        }[quality]
        occurred = anchor - timedelta(seconds=rng.randint(0, 14 * 24 * 3600))
        items.append(
            {
                "id": f"demo-chat-{n:05d}",
                "input": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": query}],
                "output": output,
                "model": model,
                "prompt_version": prompt,
                "trace_id": f"{rng.getrandbits(64):016x}",
                "metadata": {"intent": intent, "channel": rng.choice(("app", "web")), "demo_quality": quality},
                "occurred_at": occurred.isoformat(),
            }
        )
    return items


def _feedback(item: dict, kind: str, minutes_later: int, **fields) -> dict:
    when = datetime.fromisoformat(item["occurred_at"]) + timedelta(minutes=minutes_later)
    return {"id": f"{item['id']}-{kind}", "interaction_id": item["id"], "created_at": when.isoformat(), **fields}


def build_feedback(rng: random.Random, interactions: list[dict]) -> list[dict]:
    """Thumbs from users, helpfulness 1-5 from an automated judge, categories, comments and SME corrections."""
    items = []
    for item in interactions:
        bad = item["metadata"]["demo_quality"] != "good"
        if rng.random() < 0.55:
            down = rng.random() < (0.8 if bad else 0.03)
            thumbs = _feedback(
                item, "thumbs", 2, name="thumbs", value="down" if down else "up", author=f"user-{rng.randint(1, 400)}"
            )
            if rng.random() < 0.3:
                thumbs["comment"] = rng.choice(_COMMENTS_DOWN if down else _COMMENTS_UP)
            items.append(thumbs)
        if rng.random() < 0.4:
            score = rng.choice((1, 2, 2, 3)) if bad else rng.choice((3, 4, 4, 5, 5))
            items.append(
                _feedback(item, "helpfulness", 5, name="helpfulness", value=score, source="automated", author="judge")
            )
        if rng.random() < 0.15:
            resolution = rng.choice(("unresolved", "escalated") if bad else ("resolved", "resolved", "escalated"))
            items.append(
                _feedback(item, "resolution", 30, name="resolution", value=resolution, source="automated",
                          author="resolution-classifier")
            )  # fmt: skip
        if bad and rng.random() < 0.12:
            items.append(
                _feedback(item, "correction", 60 * 24, correction=topic_answer(item["metadata"]["intent"]),
                          comment="What the assistant should have said.", source="sme", author="sme-demo")
            )  # fmt: skip
    return items


def ingest(project: Project, *, interactions: list[dict], feedback: list[dict]) -> dict[int, int]:
    """Through the same set-based service as the API, in API-sized batches; returns counts by status."""
    counts: dict[int, int] = {}
    for kind, items in (("interactions", interactions), ("feedback", feedback)):
        for start in range(0, len(items), BATCH):
            chunk = items[start : start + BATCH]
            result = capture_ingest(project_id=project.pk, **{"interactions": [], "feedback": [], kind: chunk})
            for item_result in getattr(result, kind):
                counts[item_result.status] = counts.get(item_result.status, 0) + 1
    return counts


def load(*, seed: int = 77, data_dir: Path = DATA_DIR) -> tuple[Project, int, int, dict[int, int]]:
    """The project with its interactions and feedback; returns it, how many of each were sent, and counts by status."""
    rng = random.Random(seed)
    anchor = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    project = load_project()
    interactions = build_interactions(rng, anchor, data_dir)
    feedback = build_feedback(rng, interactions)
    counts = ingest(project, interactions=interactions, feedback=feedback)
    return project, len(interactions), len(feedback), counts
