"""The embedded broker (no Redis: ``make run``, the tests): kombu's filesystem transport, with each
message written whole before a worker can take it.

kombu (5.7) creates a message's file under its final name, ``<ms>_<uuid>.<queue>.msg``, and then
writes it; a worker lists the folder, moves each file of its queue away and reads it. A worker
that looks between the two reads an empty file, cannot decode it and stops for good
("Unrecoverable error: JSONDecodeError('Expecting value: line 1 column 1 (char 0)')", kombu issue
#1551): the `make run` worker, and with it the whole development server, or a test's worker.

Here a message is written under a name no worker takes (``….msg.part``: the worker takes only
names that end in ``.<queue>.msg``) and then renamed into place, which is atomic in one folder.
The settings name it by its URL scheme, ``shopops-filesystem://``, which this module registers
with kombu when the Celery app loads (``shopops/celery.py``); Redis, in production, is not
concerned.
"""

from __future__ import annotations

import os
import uuid
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import TRANSPORT_ALIASES, filesystem
from kombu.utils.encoding import str_to_bytes

SCHEME = "shopops-filesystem"
PART = ".part"


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        """Put ``payload`` on ``queue``: its file written whole, then renamed to the name a
        worker takes (kombu's own name: the milliseconds first, so the oldest is taken first)."""
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        path = os.path.join(self.data_folder_out, name)
        try:
            with open(path + PART, "wb", buffering=0) as part:
                part.write(str_to_bytes(filesystem.dumps(payload)))
            os.replace(path + PART, path)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {path!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel


TRANSPORT_ALIASES[SCHEME] = f"{__name__}:Transport"
