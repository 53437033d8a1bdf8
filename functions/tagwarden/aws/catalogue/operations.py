"""Networking, monitoring, deployment and the long tail: Elastic Load Balancing, Route 53 (and
Resolver), CloudFront, Global Accelerator, Direct Connect, CloudFormation, CloudWatch (alarms,
logs, Internet Monitor), the Code* tools, Transfer Family, Recycle Bin, Service Catalog
AppRegistry, and a few media, IoT and data-exchange services."""

from __future__ import annotations

from tagwarden.aws.catalogue._types import (
    REQ,
    RESP,
    Creates,
    Entry,
    arn,
    e,
    global_arn,
    row,
)

NETWORK: tuple[Entry, ...] = (
    # One event name for both load balancer APIs: classic requests carry loadBalancerName (and
    # the response only a DNS name), v2 requests carry name and the response the ARN.
    e(
        "elasticloadbalancing",
        "CreateLoadBalancer",
        Creates(
            "AWS::ElasticLoadBalancingV2::LoadBalancer",
            ids=f"{RESP}.loadBalancers.loadBalancerArn",
            name=f"{RESP}.loadBalancers.loadBalancerName",
            tags=f"{REQ}.tags",
            tagger="elbv2",
        ),
        Creates(
            "AWS::ElasticLoadBalancing::LoadBalancer",
            ids=f"{REQ}.loadBalancerName",
            arn=arn("elasticloadbalancing", "loadbalancer/{id}"),
            name=f"{REQ}.loadBalancerName",
            tags=f"{REQ}.tags",
            tagger="elb",
        ),
    ),
    row(
        "elasticloadbalancing",
        "CreateTargetGroup",
        "AWS::ElasticLoadBalancingV2::TargetGroup",
        f"{RESP}.targetGroups.targetGroupArn",
        name=f"{RESP}.targetGroups.targetGroupName",
        tagger="elbv2",
    ),
    # hostedZone.id reads "/hostedzone/Z…"; the path language cannot strip the prefix to build
    # the ARN, so the id stays as logged (ChangeTagsForResource accepts it).
    row(
        "route53",
        "CreateHostedZone",
        "AWS::Route53::HostedZone",
        f"{RESP}.hostedZone.id",
        name=f"{RESP}.hostedZone.name",
        tags=None,
        tagger="route53",
    ),
    row(
        "route53",
        "CreateHealthCheck",
        "AWS::Route53::HealthCheck",
        f"{RESP}.healthCheck.id",
        arn=global_arn("route53", "healthcheck/{id}"),
        tags=None,
        tagger="route53",
    ),
    row(
        "route53resolver",
        "CreateResolverEndpoint",
        "AWS::Route53Resolver::ResolverEndpoint",
        f"{RESP}.resolverEndpoint.arn",
        name=f"{RESP}.resolverEndpoint.name",
    ),
    row(
        "cloudfront",
        "CreateDistribution",
        "AWS::CloudFront::Distribution",
        f"{RESP}.distribution.aRN",
        native=f"{RESP}.distribution.id",
        tags=None,
        tagger="cloudfront",
    ),
    row(
        "cloudfront",
        "CreateDistributionWithTags",
        "AWS::CloudFront::Distribution",
        f"{RESP}.distribution.aRN",
        native=f"{RESP}.distribution.id",
        tags=f"{REQ}.distributionConfigWithTags.tags.items",
        tagger="cloudfront",
    ),
    row(
        "globalaccelerator",
        "CreateAccelerator",
        "AWS::GlobalAccelerator::Accelerator",
        f"{RESP}.accelerator.acceleratorArn",
        name=f"{RESP}.accelerator.name",
    ),
    row(
        "directconnect",
        "CreateConnection",
        "AWS::DirectConnect::Connection",
        f"{RESP}.connectionId",
        arn=arn("directconnect", "dxcon/{id}"),
        name=f"{RESP}.connectionName",
    ),
    # Private and public virtual interfaces answer with the interface itself, transit ones wrap it.
    *(
        row(
            "directconnect",
            f"Create{kind}VirtualInterface",
            "AWS::DirectConnect::VirtualInterface",
            f"{RESP}.{wrap}virtualInterfaceId",
            arn=arn("directconnect", "dxvif/{id}"),
            name=f"{RESP}.{wrap}virtualInterfaceName",
            tags=f"{REQ}.new{kind}VirtualInterface.tags",
        )
        for kind, wrap in (("Private", ""), ("Public", ""), ("Transit", "virtualInterface."))
    ),
)

MONITORING_AND_DEPLOYMENT: tuple[Entry, ...] = (
    row(
        "cloudformation",
        "CreateStack",
        "AWS::CloudFormation::Stack",
        f"{RESP}.stackId",
        name=f"{REQ}.stackName",
        tagger="cloudformation",
    ),
    # PutMetricAlarm also updates an alarm of the same name; the response is empty.
    row(
        "monitoring",
        "PutMetricAlarm",
        "AWS::CloudWatch::Alarm",
        f"{REQ}.alarmName",
        arn=arn("cloudwatch", "alarm:{id}"),
        name=f"{REQ}.alarmName",
        tagger="cloudwatch",
    ),
    row(
        "monitoring",
        "PutCompositeAlarm",
        "AWS::CloudWatch::CompositeAlarm",
        f"{REQ}.alarmName",
        arn=arn("cloudwatch", "alarm:{id}"),
        name=f"{REQ}.alarmName",
        tagger="cloudwatch",
    ),
    row(
        "logs",
        "CreateLogGroup",
        "AWS::Logs::LogGroup",
        f"{REQ}.logGroupName",
        arn=arn("logs", "log-group:{id}"),
        name=f"{REQ}.logGroupName",
        tagger="logs",
    ),
    row(
        "internetmonitor",
        "CreateMonitor",
        "AWS::InternetMonitor::Monitor",
        f"{RESP}.Arn",
        name=f"{REQ}.MonitorName",
        tags=f"{REQ}.Tags",
    ),
    row(
        "codebuild",
        "CreateProject",
        "AWS::CodeBuild::Project",
        f"{RESP}.project.arn",
        name=f"{RESP}.project.name",
        tagger="codebuild",
    ),
    row(
        "codepipeline",
        "CreatePipeline",
        "AWS::CodePipeline::Pipeline",
        f"{RESP}.pipeline.name",
        arn=arn("codepipeline", "{id}"),
        name=f"{RESP}.pipeline.name",
        tagger="codepipeline",
    ),
    row(
        "codecommit",
        "CreateRepository",
        "AWS::CodeCommit::Repository",
        f"{RESP}.repositoryMetadata.arn",
        name=f"{RESP}.repositoryMetadata.repositoryName",
        tagger="codecommit",
    ),
    row(
        "codedeploy",
        "CreateApplication",
        "AWS::CodeDeploy::Application",
        f"{REQ}.applicationName",
        arn=arn("codedeploy", "application:{id}"),
        name=f"{REQ}.applicationName",
    ),
    # The deployment group ARN needs the application and group names: {id} is the application.
    row(
        "codedeploy",
        "CreateDeploymentGroup",
        "AWS::CodeDeploy::DeploymentGroup",
        f"{REQ}.applicationName",
        arn=arn("codedeploy", "deploymentgroup:{id}/{name}"),
        name=f"{REQ}.deploymentGroupName",
        native=f"{REQ}.deploymentGroupName",
    ),
    row(
        "servicecatalog-appregistry",
        "CreateApplication",
        "AWS::ServiceCatalogAppRegistry::Application",
        f"{RESP}.application.applicationArn",
        name=f"{RESP}.application.name",
    ),
    row(
        "rbin",
        "CreateRule",
        "AWS::Rbin::Rule",
        f"{RESP}.identifier",
        arn=arn("rbin", "rule/{id}"),
    ),
    row(
        "transfer",
        "CreateServer",
        "AWS::Transfer::Server",
        f"{RESP}.serverId",
        arn=arn("transfer", "server/{id}"),
        tagger="transfer",
    ),
)

LONG_TAIL: tuple[Entry, ...] = (
    row(
        "opsworks-cm",
        "CreateServer",
        "AWS::OpsWorksCM::Server",
        f"{RESP}.server.serverArn",
        name=f"{REQ}.serverName",
    ),
    row(
        "m2",
        "CreateApplication",
        "AWS::M2::Application",
        f"{RESP}.applicationArn",
        name=f"{REQ}.name",
    ),
    row(
        "mediaconvert",
        "CreateQueue",
        "AWS::MediaConvert::Queue",
        f"{RESP}.queue.arn",
        name=f"{RESP}.queue.name",
    ),
    row(
        "mediastore",
        "CreateContainer",
        "AWS::MediaStore::Container",
        f"{RESP}.container.aRN",
        name=f"{REQ}.containerName",
    ),
    # Data Exchange logs its members as the API spells them (PascalCase).
    row(
        "dataexchange",
        "CreateDataSet",
        "AWS::DataExchange::DataSet",
        f"{RESP}.Arn",
        name=f"{RESP}.Name",
        tags=f"{REQ}.Tags",
    ),
    row(
        "voiceid",
        "CreateDomain",
        "AWS::VoiceID::Domain",
        f"{RESP}.domain.arn",
        name=f"{RESP}.domain.name",
    ),
    row(
        "iotsitewise",
        "CreateAsset",
        "AWS::IoTSiteWise::Asset",
        f"{RESP}.assetArn",
        name=f"{REQ}.assetName",
    ),
    row(
        "iotanalytics",
        "CreateChannel",
        "AWS::IoTAnalytics::Channel",
        f"{RESP}.channelArn",
        name=f"{RESP}.channelName",
    ),
    row(
        "iotanalytics",
        "CreateDataset",
        "AWS::IoTAnalytics::Dataset",
        f"{RESP}.datasetArn",
        name=f"{RESP}.datasetName",
    ),
)

ENTRIES: tuple[Entry, ...] = (*NETWORK, *MONITORING_AND_DEPLOYMENT, *LONG_TAIL)
