#!/usr/bin/python3
"""A second, independent AMQP client for the intake tests: the Python binding
of Qpid Proton. Sends one message per id given, each with reply-to, and
prints one line per outcome and per outcome message:

  settled <message id> <outcome> <condition> <description>
  reply <correlation id> <outcome property> <error property>

Usage: python_client.py PORT ID...
"""
import sys

from proton import Message
from proton.handlers import MessagingHandler
from proton.reactor import Container

REPLY_ADDRESS = "replies/python"


class Client(MessagingHandler):
    def __init__(self, port, ids):
        super().__init__(auto_accept=True)
        self.url = "127.0.0.1:%d" % port
        self.ids = ids
        self.sent = False
        self.id_by_tag = {}
        self.settled = 0
        self.replies = 0

    def on_start(self, event):
        connection = event.container.connect(self.url)
        event.container.create_receiver(connection, REPLY_ADDRESS)
        event.container.create_sender(connection, "licences/events")

    def on_sendable(self, event):
        if self.sent:
            return
        self.sent = True
        for message_id in self.ids:
            body = ("<event id='%s'/>" % message_id).encode("utf-8")
            delivery = event.sender.send(Message(id=message_id, body=body, reply_to=REPLY_ADDRESS,
                                                 content_type="application/xml",
                                                 properties={"system": "python"}))
            self.id_by_tag[delivery.tag] = message_id

    def settle(self, event, outcome):
        condition = event.delivery.remote.condition
        name = condition.name if condition else "-"
        description = condition.description if condition else "-"
        print("settled", self.id_by_tag.get(event.delivery.tag, "?"), outcome, name, description,
              flush=True)
        self.settled += 1
        self.finish(event)

    def on_accepted(self, event):
        self.settle(event, "accepted")

    def on_rejected(self, event):
        self.settle(event, "rejected")

    def on_released(self, event):
        self.settle(event, "released")

    def on_message(self, event):
        properties = event.message.properties or {}
        print("reply", event.message.correlation_id, properties.get("outcome", "-"),
              properties.get("error", "-"), flush=True)
        self.replies += 1
        self.finish(event)

    def finish(self, event):
        if self.settled == len(self.ids) and self.replies == len(self.ids):
            event.connection.close()


Container(Client(int(sys.argv[1]), sys.argv[2:])).run()
