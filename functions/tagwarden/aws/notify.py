"""Notifications on AWS: Amazon SNS, and optionally the Amazon Q Developer (AWS Chatbot) variant.

`SnsNotifier.send` publishes one message per notification to the main topic with
MessageStructure=json: protocols that read structured data (SQS, Lambda, HTTP/S, email-json,
Firehose) get the versioned JSON (`messages.to_json`), email subscribers get the human-readable
text (`messages.body`) under `messages.subject`. Message attributes (`messages.sns_attributes`:
kind, provider, account, rule, action, resource_type, dry_run) let each subscription's filter
policy pick what it wants, e.g. {"kind": ["quarantined", "deleted"]}.

A copy for the creator: SNS cannot address a person who has no subscription of their own (a topic
delivers to its subscriptions; Publish takes no recipient), so the creator's address travels as the
`creator_address` message attribute. An email subscription for that person with the filter policy
{"creator_address": ["alice@example.com"]} receives exactly the notifications about resources they
created; an operator (or a later automation) adds such subscriptions, and each has to be confirmed
by its owner. To route by address through SES instead, subscribe a function to the topic and read
`recipients` from the JSON.

When `chatbot_topic_arn` is set, the same notification is also published there in the Amazon Q
Developer custom-notification format (`messages.chatbot`), for a topic mapped to a chat channel.
Amazon Q Developer drops messages that are not in one of its formats, which is why that variant
has a topic of its own.
"""

from __future__ import annotations

import json
from typing import Any

from tagwarden.aws.clients import Clients
from tagwarden.lifecycle.ports import Notification

CREATOR_ATTRIBUTE = "creator_address"


def topic_region(topic_arn: str) -> str | None:
    """arn:aws:sns:<region>:<account>:<name> -> <region>."""
    parts = topic_arn.split(":")
    return parts[3] if len(parts) > 5 and parts[3] else None


class SnsNotifier:
    """Publishes each notification to an SNS topic (and its Chatbot variant to a second one)."""

    def __init__(self, clients: Clients, topic_arn: str, chatbot_topic_arn: str | None = None) -> None:
        self.clients = clients
        self.topic_arn = topic_arn
        self.chatbot_topic_arn = chatbot_topic_arn or None

    def attributes(self, message: Notification) -> dict[str, dict[str, str]]:
        from tagwarden.lifecycle import messages  # on the first notification, not at cold start

        attrs = messages.sns_attributes(message)
        to = messages.recipients(message)
        if to:
            attrs[CREATOR_ATTRIBUTE] = {"DataType": "String", "StringValue": to[0]}
        return attrs

    def send(self, message: Notification) -> None:
        from tagwarden.lifecycle import messages

        attrs = self.attributes(message)
        structured = {
            "default": json.dumps(messages.to_json(message), sort_keys=False),
            "email": messages.body(message),
        }
        self._publish(
            self.topic_arn,
            Message=json.dumps(structured),
            MessageStructure="json",
            Subject=messages.subject(message),
            MessageAttributes=attrs,
        )
        if self.chatbot_topic_arn:
            self._publish(
                self.chatbot_topic_arn,
                Message=json.dumps(messages.chatbot(message)),
                Subject=messages.subject(message),
                MessageAttributes=attrs,
            )

    def _publish(self, topic_arn: str, **kwargs: Any) -> str:
        sns = self.clients.get("sns", topic_region(topic_arn))
        message_id: str = sns.publish(TopicArn=topic_arn, **kwargs)["MessageId"]
        return message_id
