"""The message queue that joins several workers, and what happens when it goes away and comes back."""
from __future__ import annotations

import logging
import time

import socketio

log = logging.getLogger("rouages.queue")

# Seconds between two attempts to reach the queue again: short, since screens lag for as long as it stays lost.
RETRY_SECONDS = 1.0
# While publications fail, one is tried at most this often: the others are dropped at once rather than each
# holding up the posts acknowledged after it.
PUBLISH_PAUSE = 0.5
# What the screens are sent when they may have missed broadcasts: each one asks for what changed since its cursors.
RESYNC = "resync"


class RedisQueue(socketio.RedisManager):
    """Redis between workers, telling the screens to catch up when messages may have been lost.

    While Redis is unreachable, what a worker broadcasts reaches its own clients only. Every worker loses its
    subscription with Redis: when it has subscribed again, it tells its clients to resync, so that they ask for
    what changed since their cursors. A publication can also fail while the subscriptions hold (its connection
    refused, say): the first one that succeeds afterwards is followed by a resync of every worker's clients.
    """

    def __init__(self, url: str, channel: str):
        super().__init__(url, channel=channel, logger=log)
        self.lost = False  # until the log has said that the queue is back
        self.publisher = None
        self.unsent = False  # a publication failed: the other workers' clients missed it
        self.failed_at = 0.0

    def _publish(self, data):
        # A client of its own: the listener's reconnections replace `self.redis` and `self.pubsub` meanwhile. Short
        # timeouts: a post is acknowledged after its broadcast, which must not wait on an unreachable Redis host.
        if self.publisher is None:
            self.publisher = self._get_redis_module().Redis.from_url(
                self.redis_url, **{"socket_connect_timeout": 1, "socket_timeout": 2, **self.redis_options})
        if self.unsent and time.monotonic() - self.failed_at < PUBLISH_PAUSE:
            return  # failed a moment ago: lost like the ones before it, and caught up with them
        message = self.json.dumps(data)
        for attempt in range(2):  # redis-py opens a new connection for the second one
            try:
                self.publisher.publish(self.channel, message)
                break
            except Exception as error:  # noqa: BLE001 - whatever redis-py raises, the queue is unreachable
                if attempt:
                    self._lose(error)
                    self.unsent, self.failed_at = True, time.monotonic()
                    return
        if self.unsent:
            self.unsent = False
            self._back()
            # To every worker, this one included (the message comes back to it with another host id).
            self._publish({"method": "emit", "event": RESYNC, "data": [{}], "binary": False, "namespace": "/",
                           "room": None, "skip_sid": None, "callback": None, "host_id": "resync"})

    def _redis_listen_with_retries(self):
        missed = False
        while True:
            try:
                self._redis_connect()
                pubsub = self.pubsub
                pubsub.subscribe(self.channel)
                if missed:
                    missed = False
                    self._back()
                    self.server.emit(RESYNC, {}, ignore_queue=True)
                yield from pubsub.listen()
            except Exception as error:  # noqa: BLE001
                missed = True
                self._lose(error)
                time.sleep(RETRY_SECONDS)

    def _lose(self, error: Exception) -> None:
        if not self.lost:
            self.lost = True
            log.error("Message queue lost (%s): other workers' screens miss this worker's broadcasts until it is "
                      "back, then catch up.", error)

    def _back(self) -> None:
        if self.lost:
            self.lost = False
            log.warning("Message queue back: this worker's screens catch up on what they missed.")
