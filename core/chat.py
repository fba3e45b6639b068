"""Chat messages as applications send them (OpenAI style), read the same way everywhere.

An input or output is a CONVERSATION when it is a non-empty list of message objects, each with a "role" or a
"content", bare or under "messages" ({"messages": [...]}, as chat completion requests carry it). A message's
content is a string or a list of parts ({"type": "text", "text": ...}); anything else is shown as JSON.
"""

import json
from typing import Any


def content_text(content: Any) -> str:
    """Message content as text: a string, the text parts of a multi-part content list, else JSON."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [part.get("text", "") if isinstance(part, dict) else str(part) for part in content]
        return "\n".join(part for part in parts if part)
    return json.dumps(content, ensure_ascii=False, sort_keys=True)


def chat_messages(value: Any) -> list[dict[str, str]] | None:
    """The messages of a conversation as [{"role", "content"}] with text content, or None for anything else."""
    if isinstance(value, dict) and isinstance(value.get("messages"), list):
        value = value["messages"]
    if not (isinstance(value, list) and value):
        return None
    if not all(isinstance(m, dict) and ("role" in m or "content" in m) for m in value):
        return None
    return [{"role": str(m.get("role", "")), "content": content_text(m.get("content"))} for m in value]


def user_text(value: Any) -> str:
    """What the user asked: the last user message of a conversation (its last message when none is the user's),
    or the value as text."""
    messages = chat_messages(value)
    if messages is None:
        return content_text(value)
    users = [m for m in messages if m["role"] == "user"]
    return (users or messages)[-1]["content"]
