"""kombu's filesystem transport, with messages that appear whole: the serverless broker of `make run` and tests.

kombu's own `_put` creates the message file under its final name and then writes it, so a worker polling the
folder can pick up a half-written file (seen as a JSONDecodeError that kills the consumer). Here a message is
written under a name the consumer never matches and renamed into place, which is atomic on one filesystem.
Registered as the `atomicfs://` transport (config/celery.py imports this module).
"""

import os
import uuid
from time import monotonic_ns

from kombu.exceptions import ChannelError
from kombu.transport import TRANSPORT_ALIASES, filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps

ALIAS = "atomicfs"


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        name = f"{monotonic_ns():020d}_{uuid.uuid4()}.{queue}.msg"  # zero-padded: name order is FIFO
        final = os.path.join(self.data_folder_out, name)
        # '.<name>.part' never matches the consumer's '<stamp>_<uuid>.<queue>.msg' pattern.
        partial = os.path.join(self.data_folder_out, f".{name}.part")
        try:
            with open(partial, "wb") as handle:
                handle.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel


TRANSPORT_ALIASES[ALIAS] = f"{__name__}:Transport"
