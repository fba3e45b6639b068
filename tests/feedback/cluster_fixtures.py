"""Small, obvious failure data for the clustering tests: four topics of twelve short user messages."""

from tests.factories import FailureFactory, FeedbackFactory

TOPICS = {
    "card": [
        "My card was declined at the supermarket",
        "Why was my card payment declined?",
        "The shop declined my debit card",
        "Card payment refused at the checkout",
        "My card keeps getting declined online",
        "Payment with my card was rejected",
        "Declined card transaction at a restaurant",
        "Why does my card get declined when I pay?",
        "The terminal declined my card twice",
        "My card payment failed and was declined",
        "Card declined even though I have money",
        "Online store says my card was declined",
    ],
    "password": [
        "I forgot my password and cannot log in",
        "How do I reset my password?",
        "Password reset email never arrives",
        "I can't log in, my password is wrong",
        "Locked out after entering the wrong password",
        "Need to change my login password",
        "The password reset link does not work",
        "I cannot sign in to my account with my password",
        "Forgot password, how do I recover my login?",
        "My password stopped working for login",
        "Reset my account password please",
        "Login fails with an incorrect password error",
    ],
    "delivery": [
        "My parcel has not been delivered yet",
        "Where is my package? It is late",
        "The delivery of my order is delayed",
        "My package tracking has not updated in days",
        "Parcel still not arrived after two weeks",
        "When will my order be delivered?",
        "The courier never delivered my package",
        "My delivery is late, where is the parcel?",
        "Tracking says delivered but I got no package",
        "Order shipped but the parcel is lost",
        "How long does delivery of my package take?",
        "My parcel delivery keeps being postponed",
    ],
    "refund": [
        "I want a refund for my order",
        "How do I get my money back?",
        "My refund has not arrived yet",
        "Please refund the item I returned",
        "When will I receive my refund?",
        "I returned the product but got no refund",
        "Can I get a refund for a cancelled purchase?",
        "The refund to my account is missing",
        "Request a refund for a faulty product",
        "Still waiting for the refund of my return",
        "How long does a refund take to process?",
        "I was promised a refund that never came",
    ],
}


def make_failures(project, *, prefix: str = "", topics=TOPICS, comment: str = "") -> dict[str, list]:
    """Failures with one thumbs-down each, per topic; external ids are '<prefix><topic>-<n>'."""
    made: dict[str, list] = {}
    for topic, texts in topics.items():
        for n, text in enumerate(texts):
            interaction = FailureFactory(
                project=project,
                external_id=f"{prefix}{topic}-{n}",
                input=[{"role": "system", "content": "You are a bank."}, {"role": "user", "content": text}],
                output="Sorry, I cannot help with that.",
            )
            FeedbackFactory(interaction=interaction, comment=comment)
            made.setdefault(topic, []).append(interaction)
    return made


def real_queries(*, intents: int, per_intent: int) -> list[tuple[str, str]]:
    """(text, label) of real labelled queries: Banking77's train split (../shared/data beside the checkout, CC BY 4.0)
    when present, else chatterbot-corpus's English questions by topic file (in its wheel); `intents` labels in a fixed
    choice, the first `per_intent` texts of each."""
    import csv
    from pathlib import Path

    checkout = Path(__file__).resolve().parents[2]
    paths = [up / "shared" / "data" / "banking77" / "train.csv" for up in (checkout.parent, checkout.parent.parent)]
    path = next((p for p in paths if p.exists()), None)
    by_label: dict[str, list[str]] = {}
    if path is not None:
        with path.open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                by_label.setdefault(row["category"], []).append(row["text"])
    else:
        import chatterbot_corpus
        import yaml

        for file in sorted((Path(chatterbot_corpus.__file__).parent / "data" / "english").glob("*.yml")):
            data = yaml.safe_load(file.read_text(encoding="utf-8"))
            by_label[file.stem] = sorted({c[0] for c in data.get("conversations", []) if c and isinstance(c[0], str)})
    labels = [label for label in sorted(by_label) if len(by_label[label]) >= per_intent][::2][:intents]
    return [(text, label) for label in labels for text in by_label[label][:per_intent]]


def make_real_failures(project, rows: list[tuple[str, str]], *, prefix: str = "", keys: list[str] | None = None):
    """One failure with a thumbs-down per (text, label); external id '<prefix><key>', key '<label>~<n>' by default."""
    made = []
    for n, (text, label) in enumerate(rows):
        interaction = FailureFactory(
            project=project,
            external_id=f"{prefix}{keys[n] if keys else f'{label}~{n}'}",
            input=[{"role": "user", "content": text}],
            output="Sorry, I cannot help with that.",
        )
        FeedbackFactory(interaction=interaction)
        made.append(interaction)
    return made
