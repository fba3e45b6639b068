"""Chat messages read one way by every reader: the embedded text, the queue preview, the review page, examples."""

from core.chat import chat_messages, user_text
from examples_lib.canonical import text_of
from feedback.admin.review_queue import _item_text

CHAT = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "first question"},
    {"role": "assistant", "content": "an answer"},
    {"role": "user", "content": [{"type": "text", "text": "second"}, {"type": "text", "text": "question"}]},
]


def test_a_conversation_bare_or_under_messages():
    expected = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "first question"},
        {"role": "assistant", "content": "an answer"},
        {"role": "user", "content": "second\nquestion"},
    ]
    assert chat_messages(CHAT) == expected
    assert chat_messages({"messages": CHAT, "temperature": 0}) == expected
    assert chat_messages([{"role": "user"}]) == [{"role": "user", "content": ""}]


def test_what_is_not_a_conversation():
    for value in ("plain prompt", [], ["a", "b"], [{"x": 1}], {"query": "x"}, {"messages": "hi"}, None, 3):
        assert chat_messages(value) is None


def test_the_text_of_each_reader():
    assert user_text(CHAT) == "second\nquestion"
    assert user_text([{"role": "assistant", "content": "only me"}]) == "only me"
    assert user_text({"query": "x"}) == '{"query": "x"}'
    assert text_of({"messages": CHAT}) == "Be brief.\nfirst question\nan answer\nsecond\nquestion"
    assert text_of("plain") == "plain" and text_of({"b": 1, "a": 2}) == '{"a":2,"b":1}'
    assert _item_text(CHAT, 10) == "second\nqu…"
