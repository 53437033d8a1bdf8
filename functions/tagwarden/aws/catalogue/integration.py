"""Messaging, workflows and APIs: SQS, SNS, Step Functions, EventBridge (rules, buses, Pipes,
Scheduler), API Gateway (REST and HTTP/WebSocket APIs), AppSync, Amazon MQ, App Mesh, Pinpoint campaigns.

API Gateway's REST API (v1) wraps the request body in `<operation>Input` (`createRestApiInput`);
its v2 operations (CreateApi) share the eventSource apigateway.amazonaws.com.
"""

from __future__ import annotations

from tagwarden.aws.catalogue._types import REQ, RESP, Creates, Entry, arn, e, row

_APIGW = "arn:{partition}:apigateway:{region}::"

MESSAGING: tuple[Entry, ...] = (
    # Pinpoint logs its JSON bodies as they are (PascalCase members); a campaign lives in an app.
    row(
        "pinpoint",
        "CreateCampaign",
        "AWS::Pinpoint::Campaign",
        f"{RESP}.Id",
        arn=arn("mobiletargeting", "apps/{parent}/campaigns/{id}"),
        name=f"{RESP}.Name",
        parent=f"{RESP}.ApplicationId",
    ),
    e(
        "sqs",
        "CreateQueue",
        Creates(
            "AWS::SQS::Queue",
            ids=f"{REQ}.queueName",
            arn=arn("sqs", "{id}"),
            name=f"{REQ}.queueName",
            native=f"{RESP}.queueUrl",
            tags=f"{REQ}.tags",
            tagger="sqs",
        ),
    ),
    row("sns", "CreateTopic", "AWS::SNS::Topic", f"{RESP}.topicArn", name=f"{REQ}.name", tagger="sns"),
    row(
        "amazonmq",
        "CreateBroker",
        "AWS::AmazonMQ::Broker",
        f"{RESP}.brokerArn",
        name=f"{REQ}.brokerName",
        tagger="mq",
    ),
    row(
        "states",
        "CreateStateMachine",
        "AWS::StepFunctions::StateMachine",
        f"{RESP}.stateMachineArn",
        name=f"{REQ}.name",
        tagger="states",
    ),
    row(
        "states",
        "CreateActivity",
        "AWS::StepFunctions::Activity",
        f"{RESP}.activityArn",
        name=f"{REQ}.name",
        tagger="states",
    ),
    row("events", "PutRule", "AWS::Events::Rule", f"{RESP}.ruleArn", name=f"{REQ}.name", tagger="events"),
    row(
        "events",
        "CreateEventBus",
        "AWS::Events::EventBus",
        f"{RESP}.eventBusArn",
        name=f"{REQ}.name",
        tagger="events",
    ),
    row("pipes", "CreatePipe", "AWS::Pipes::Pipe", f"{RESP}.arn", name=f"{RESP}.name", tagger="pipes"),
    row(
        "scheduler",
        "CreateScheduleGroup",
        "AWS::Scheduler::ScheduleGroup",
        f"{RESP}.scheduleGroupArn",
        name=f"{REQ}.name",
        tagger="scheduler",
    ),
)

APIS: tuple[Entry, ...] = (
    row(
        "apigateway",
        "CreateRestApi",
        "AWS::ApiGateway::RestApi",
        f"{RESP}.id",
        arn=_APIGW + "/restapis/{id}",
        name=f"{RESP}.name",
        tags=f"{REQ}.createRestApiInput.tags",
        tagger="apigateway",
    ),
    # The stage ARN needs the API id and the stage name: {id} is the API, {name} the stage.
    row(
        "apigateway",
        "CreateStage",
        "AWS::ApiGateway::Stage",
        f"{REQ}.restApiId",
        arn=_APIGW + "/restapis/{id}/stages/{name}",
        name=f"{REQ}.createStageInput.stageName",
        native=f"{REQ}.createStageInput.stageName",
        tags=f"{REQ}.createStageInput.tags",
        tagger="apigateway",
    ),
    row(
        "apigateway",
        "CreateApi",
        "AWS::ApiGatewayV2::Api",
        f"{RESP}.apiId",
        arn=_APIGW + "/apis/{id}",
        name=f"{RESP}.name",
        tagger="apigatewayv2",
    ),
    row(
        "appsync",
        "CreateGraphqlApi",
        "AWS::AppSync::GraphQLApi",
        f"{RESP}.graphqlApi.arn",
        name=f"{RESP}.graphqlApi.name",
        tagger="appsync",
    ),
    row(
        "appmesh",
        "CreateMesh",
        "AWS::AppMesh::Mesh",
        f"{RESP}.mesh.metadata.arn",
        name=f"{RESP}.mesh.meshName",
    ),
    row(
        "appmesh",
        "CreateVirtualGateway",
        "AWS::AppMesh::VirtualGateway",
        f"{RESP}.virtualGateway.metadata.arn",
        name=f"{RESP}.virtualGateway.virtualGatewayName",
    ),
    row(
        "appmesh",
        "CreateVirtualNode",
        "AWS::AppMesh::VirtualNode",
        f"{RESP}.virtualNode.metadata.arn",
        name=f"{RESP}.virtualNode.virtualNodeName",
    ),
)

ENTRIES: tuple[Entry, ...] = (*MESSAGING, *APIS)
