"""infra/azure alerts (modules/alerts.bicep, modules/dead-letter-alert.bicep), read with the Bicep
reader of test_bicep.py: failures (Application Insights: failed requests and the code's own
EventsFailed counter, matched against what tagwarden.azure.telemetry writes) and dead-lettered or
dropped events on every system topic, all to one action group."""

from __future__ import annotations

import json
import logging

from test_bicep import AZURE, MAIN, bicep, module_file, raw

from tagwarden.azure.telemetry import Telemetry

ALERTS = AZURE / "modules" / "alerts.bicep"
DEAD_LETTER = AZURE / "modules" / "dead-letter-alert.bicep"
MEMBER = AZURE / "modules" / "member-subscription.bicep"
SUBSCRIPTIONS = AZURE / "subscriptions.bicep"


def failure_record() -> str:
    """The log record the Azure telemetry writes for a failed event."""
    seen: list[str] = []

    class Catch(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record.getMessage())

    logger = logging.getLogger("tagwarden.azure.test-alerts")
    logger.addHandler(Catch())
    logger.propagate = False
    Telemetry(logger).count_failure("TagWriteFailed")
    (message,) = seen
    return message


def test_failures_alert_counts_failed_invocations_and_the_codes_failure_counter() -> None:
    file = bicep(ALERTS)
    rule = file.resources["failures"]
    assert rule.type.startswith("Microsoft.Insights/scheduledQueryRules@")
    props = rule.value["properties"]
    assert [raw(s) for s in props["scopes"]] == ["appInsights.id"]
    assert file.resources["appInsights"].existing
    (criterion,) = props["criteria"]["allOf"]
    assert criterion["timeAggregation"] == "Count"
    assert criterion["operator"] == "GreaterThan" and criterion["threshold"] == 0
    query = file.resolve(criterion["query"])
    assert isinstance(query, str)
    assert "requests | where success == false" in query  # an invocation that raised
    (prefix,) = [p for p in query.split("'") if p.startswith("{")]
    message = failure_record()
    assert message.startswith(prefix), (prefix, message)
    assert json.loads(message)["metric"] == "EventsFailed"
    assert [raw(a) for a in props["actions"]["actionGroups"]] == ["actionGroup.id"]
    assert props["evaluationFrequency"] == props["windowSize"] == "PT5M"


def test_the_action_group_mails_the_optional_address() -> None:
    file = bicep(ALERTS)
    group = file.resources["actionGroup"].value
    assert group["location"] == "global"
    assert len(group["properties"]["groupShortName"]) <= 12  # Azure's limit
    receivers = raw(group["properties"]["emailReceivers"])
    assert receivers.startswith("empty(alertEmail) ? [] :") and "emailAddress: alertEmail" in receivers
    assert file.params["alertEmail"].value == ""
    assert raw(file.outputs["actionGroupId"].value) == "actionGroup.id"


def test_dead_lettered_and_dropped_events_alert_on_the_system_topic() -> None:
    file = bicep(DEAD_LETTER)
    assert file.resources["systemTopic"].existing
    decl = file.resources["alerts"]
    assert decl.type.startswith("Microsoft.Insights/metricAlerts@")
    metrics = file.resolve(decl.value.iterable)
    assert {m["metric"] for m in metrics} == {"DeadLetteredCount", "DroppedEventCount"}
    props = decl.value.body["properties"]
    assert [raw(s) for s in props["scopes"]] == ["systemTopic.id"]
    (criterion,) = props["criteria"]["allOf"]  # one metric per alert: allOf would need both at once
    assert criterion["metricNamespace"] == "Microsoft.EventGrid/systemTopics"
    assert raw(criterion["metricName"]) == "m.metric"
    assert criterion["timeAggregation"] == "Total"
    assert criterion["operator"] == "GreaterThan" and criterion["threshold"] == 0
    assert [raw(a["actionGroupId"]) for a in props["actions"]] == ["actionGroupId"]


def test_every_topic_alerts_to_the_apps_group() -> None:
    main = bicep(MAIN)
    alerts = main.modules["alerts"]
    assert module_file(MAIN, alerts).path == ALERTS
    assert raw(alerts.value["params"]["appInsightsName"]) == "app.outputs.appInsightsName"
    own = main.modules["deadLetterAlert"].value
    assert raw(own["params"]["systemTopicName"]) == "systemTopic.outputs.name"
    assert raw(own["params"]["actionGroupId"]) == "alerts.outputs.actionGroupId"
    assert raw(main.outputs["actionGroupId"].value) == "alerts.outputs.actionGroupId"
    # each member subscription's topic, when subscriptions.bicep is given the group
    member = bicep(MEMBER).modules["deadLetterAlert"]
    assert module_file(MEMBER, member).path == DEAD_LETTER
    assert raw(member.condition) == "(!empty(actionGroupId))"
    assert raw(member.value["params"]["systemTopicName"]) == "systemTopic.outputs.name"
    (loop,) = bicep(SUBSCRIPTIONS).modules.values()
    assert raw(loop.value.body["params"]["actionGroupId"]) == "actionGroupId"
