"""Compute and containers: EC2 (and its VPC resources), Lambda, ECS, EKS, ECR, Batch, Auto Scaling,
Lightsail, App Runner, Elastic Beanstalk, GameLift, WorkSpaces, AppStream, Cloud9, Amplify.

EC2 records come in two shapes. Older APIs are logged with the EC2 XML member names
(`responseElements.volumeId`, `requestParameters.tagSpecificationSet.items[]`), newer ones
(NAT gateways, launch templates, transit gateways, fleets, flow logs ...) as the raw query and XML
response wrapped in `CreateXRequest` / `CreateXResponse`, with `item` for list members.
"""

from __future__ import annotations

from tagwarden.aws.catalogue._types import REQ, RESP, SED, Creates, Entry, arn, e, row

_EC2_TAGS = f"{REQ}.tagSpecificationSet.items"


def _ec2(
    event: str,
    rtype: str,
    ids: str,
    kind: str,
    tag_spec: str | None,
    *,
    name: str | None = None,
    account: bool = True,
) -> Entry:
    """An EC2 create logged in the classic shape; `kind` is the ARN resource type."""
    owner = "{account}" if account else ""  # AMIs and snapshots have no account in their ARN
    return e(
        "ec2",
        event,
        Creates(
            rtype,
            ids=f"{RESP}.{ids}",
            arn=f"arn:{{partition}}:ec2:{{region}}:{owner}:{kind}/{{id}}",
            name=name,
            tags=_EC2_TAGS if tag_spec else None,
            tag_spec=tag_spec,
            tagger="ec2",
        ),
    )


def _ec2x(
    event: str,
    rtype: str,
    ids: str,
    kind: str,
    tag_spec: str,
    *,
    name: str | None = None,
    tag_key: str = "TagSpecification",
    account: bool = True,
) -> Entry:
    """An EC2 create logged in the wrapped shape: ids under `CreateXResponse`, tags under
    `CreateXRequest.TagSpecification` ({ResourceType, Tag: [{Key, Value}]})."""
    owner = "{account}" if account else ""
    return e(
        "ec2",
        event,
        Creates(
            rtype,
            ids=f"{RESP}.{event}Response.{ids}",
            arn=f"arn:{{partition}}:ec2:{{region}}:{owner}:{kind}/{{id}}",
            name=f"{RESP}.{event}Response.{name}" if name else None,
            tags=f"{REQ}.{event}Request.{tag_key}",
            tag_spec=tag_spec,
            tagger="ec2",
        ),
    )


EC2: tuple[Entry, ...] = (
    e(
        "ec2",
        "RunInstances",
        Creates(
            "AWS::EC2::Instance",
            ids=f"{RESP}.instancesSet.items.instanceId",
            arn=arn("ec2", "instance/{id}"),
            tags=_EC2_TAGS,
            tag_spec="instance",
            tagger="ec2",
        ),
        Creates(
            "AWS::EC2::NetworkInterface",
            ids=f"{RESP}.instancesSet.items.networkInterfaceSet.items.networkInterfaceId",
            arn=arn("ec2", "network-interface/{id}"),
            tags=_EC2_TAGS,
            tag_spec="network-interface",
            tagger="ec2",
        ),
    ),
    _ec2("CreateVolume", "AWS::EC2::Volume", "volumeId", "volume", "volume"),
    _ec2("CreateSnapshot", "AWS::EC2::Snapshot", "snapshotId", "snapshot", "snapshot", account=False),
    _ec2("CopySnapshot", "AWS::EC2::Snapshot", "snapshotId", "snapshot", "snapshot", account=False),
    _ec2x(
        "CreateSnapshots",
        "AWS::EC2::Snapshot",
        "snapshotSet.item.snapshotId",
        "snapshot",
        "snapshot",
        account=False,
    ),
    _ec2("CreateImage", "AWS::EC2::Image", "imageId", "image", "image", name=f"{REQ}.name", account=False),
    _ec2("CopyImage", "AWS::EC2::Image", "imageId", "image", "image", name=f"{REQ}.name", account=False),
    _ec2("RegisterImage", "AWS::EC2::Image", "imageId", "image", "image", name=f"{REQ}.name", account=False),
    _ec2(
        "CreateSecurityGroup",
        "AWS::EC2::SecurityGroup",
        "groupId",
        "security-group",
        "security-group",
        name=f"{REQ}.groupName",
    ),
    _ec2(
        "CreateNetworkInterface",
        "AWS::EC2::NetworkInterface",
        "networkInterface.networkInterfaceId",
        "network-interface",
        "network-interface",
    ),
    _ec2("AllocateAddress", "AWS::EC2::EIP", "allocationId", "elastic-ip", "elastic-ip"),
    _ec2("CreateVpc", "AWS::EC2::VPC", "vpc.vpcId", "vpc", "vpc"),
    _ec2("CreateSubnet", "AWS::EC2::Subnet", "subnet.subnetId", "subnet", "subnet"),
    _ec2(
        "CreateInternetGateway",
        "AWS::EC2::InternetGateway",
        "internetGateway.internetGatewayId",
        "internet-gateway",
        "internet-gateway",
    ),
    _ec2("CreateRouteTable", "AWS::EC2::RouteTable", "routeTable.routeTableId", "route-table", "route-table"),
    _ec2("CreateNetworkAcl", "AWS::EC2::NetworkAcl", "networkAcl.networkAclId", "network-acl", "network-acl"),
    _ec2(
        "CreateDhcpOptions",
        "AWS::EC2::DHCPOptions",
        "dhcpOptions.dhcpOptionsId",
        "dhcp-options",
        "dhcp-options",
    ),
    _ec2(
        "CreateVpcPeeringConnection",
        "AWS::EC2::VPCPeeringConnection",
        "vpcPeeringConnection.vpcPeeringConnectionId",
        "vpc-peering-connection",
        "vpc-peering-connection",
    ),
    _ec2(
        "CreateCustomerGateway",
        "AWS::EC2::CustomerGateway",
        "customerGateway.customerGatewayId",
        "customer-gateway",
        "customer-gateway",
    ),
    _ec2("CreateVpnGateway", "AWS::EC2::VPNGateway", "vpnGateway.vpnGatewayId", "vpn-gateway", "vpn-gateway"),
    _ec2(
        "CreateVpnConnection",
        "AWS::EC2::VPNConnection",
        "vpnConnection.vpnConnectionId",
        "vpn-connection",
        "vpn-connection",
    ),
    _ec2("CreateKeyPair", "AWS::EC2::KeyPair", "keyPairId", "key-pair", "key-pair", name=f"{RESP}.keyName"),
    _ec2("ImportKeyPair", "AWS::EC2::KeyPair", "keyPairId", "key-pair", "key-pair", name=f"{RESP}.keyName"),
    _ec2(
        "RequestSpotInstances",
        "AWS::EC2::SpotInstanceRequest",
        "spotInstanceRequestSet.items.spotInstanceRequestId",
        "spot-instances-request",
        "spot-instances-request",
    ),
    # The placement-group ARN names the group; CreateTags takes its pg- id (the native id).
    e(
        "ec2",
        "CreatePlacementGroup",
        Creates(
            "AWS::EC2::PlacementGroup",
            ids=f"{RESP}.placementGroup.groupId",
            arn=arn("ec2", "placement-group/{name}"),
            name=f"{REQ}.groupName",
            tags=_EC2_TAGS,
            tag_spec="placement-group",
            tagger="ec2",
        ),
    ),
    _ec2x(
        "CreateLaunchTemplate",
        "AWS::EC2::LaunchTemplate",
        "launchTemplate.launchTemplateId",
        "launch-template",
        "launch-template",
        name="launchTemplate.launchTemplateName",
    ),
    _ec2x("CreateNatGateway", "AWS::EC2::NatGateway", "natGateway.natGatewayId", "natgateway", "natgateway"),
    _ec2x(
        "CreateEgressOnlyInternetGateway",
        "AWS::EC2::EgressOnlyInternetGateway",
        "egressOnlyInternetGateway.egressOnlyInternetGatewayId",
        "egress-only-internet-gateway",
        "egress-only-internet-gateway",
    ),
    _ec2x(
        "CreateVpcEndpoint",
        "AWS::EC2::VPCEndpoint",
        "vpcEndpoint.vpcEndpointId",
        "vpc-endpoint",
        "vpc-endpoint",
    ),
    _ec2x(
        "CreateTransitGateway",
        "AWS::EC2::TransitGateway",
        "transitGateway.transitGatewayId",
        "transit-gateway",
        "transit-gateway",
    ),
    _ec2x(
        "CreateTransitGatewayVpcAttachment",
        "AWS::EC2::TransitGatewayVpcAttachment",
        "transitGatewayVpcAttachment.transitGatewayAttachmentId",
        "transit-gateway-attachment",
        "transit-gateway-attachment",
        tag_key="TagSpecifications",
    ),
    _ec2x("CreateFleet", "AWS::EC2::EC2Fleet", "fleetId", "fleet", "fleet"),
    _ec2x("CreateFlowLogs", "AWS::EC2::FlowLog", "flowLogIdSet.item", "vpc-flow-log", "vpc-flow-log"),
    _ec2x(
        "CreateTrafficMirrorFilter",
        "AWS::EC2::TrafficMirrorFilter",
        "trafficMirrorFilter.trafficMirrorFilterId",
        "traffic-mirror-filter",
        "traffic-mirror-filter",
    ),
    _ec2x(
        "CreateTrafficMirrorFilterRule",
        "AWS::EC2::TrafficMirrorFilterRule",
        "trafficMirrorFilterRule.trafficMirrorFilterRuleId",
        "traffic-mirror-filter-rule",
        "traffic-mirror-filter-rule",
    ),
    _ec2x(
        "CreateTrafficMirrorTarget",
        "AWS::EC2::TrafficMirrorTarget",
        "trafficMirrorTarget.trafficMirrorTargetId",
        "traffic-mirror-target",
        "traffic-mirror-target",
    ),
    _ec2x(
        "CreateTrafficMirrorSession",
        "AWS::EC2::TrafficMirrorSession",
        "trafficMirrorSession.trafficMirrorSessionId",
        "traffic-mirror-session",
        "traffic-mirror-session",
    ),
)

LAMBDA: tuple[Entry, ...] = (
    row(
        "lambda",
        "CreateFunction20150331",
        "AWS::Lambda::Function",
        f"{RESP}.functionArn",
        name=f"{RESP}.functionName",
        tagger="lambda",
    ),
    row(
        "lambda",
        "CreateEventSourceMapping20150331",
        "AWS::Lambda::EventSourceMapping",
        f"{RESP}.uUID",
        arn=arn("lambda", "event-source-mapping:{id}"),
        tagger="lambda",
    ),
    # Layer versions cannot carry tags: listed so rules can still notify or delete.
    row(
        "lambda",
        "PublishLayerVersion20181031",
        "AWS::Lambda::LayerVersion",
        f"{RESP}.layerVersionArn",
        name=f"{REQ}.layerName",
        tags=None,
        tagger="untaggable",
    ),
)

CONTAINERS: tuple[Entry, ...] = (
    row(
        "ecs",
        "CreateCluster",
        "AWS::ECS::Cluster",
        f"{RESP}.cluster.clusterArn",
        name=f"{RESP}.cluster.clusterName",
        tagger="ecs",
    ),
    row(
        "ecs",
        "CreateService",
        "AWS::ECS::Service",
        f"{RESP}.service.serviceArn",
        name=f"{RESP}.service.serviceName",
        tagger="ecs",
    ),
    row(
        "ecs",
        "RegisterTaskDefinition",
        "AWS::ECS::TaskDefinition",
        f"{RESP}.taskDefinition.taskDefinitionArn",
        name=f"{RESP}.taskDefinition.family",
        tagger="ecs",
    ),
    row("ecs", "RunTask", "AWS::ECS::Task", f"{RESP}.tasks.taskArn", tagger="ecs"),
    row("ecs", "StartTask", "AWS::ECS::Task", f"{RESP}.tasks.taskArn", tagger="ecs"),
    row(
        "ecs",
        "CreateCapacityProvider",
        "AWS::ECS::CapacityProvider",
        f"{RESP}.capacityProvider.capacityProviderArn",
        name=f"{RESP}.capacityProvider.name",
        tagger="ecs",
    ),
    row(
        "eks",
        "CreateCluster",
        "AWS::EKS::Cluster",
        f"{RESP}.cluster.arn",
        name=f"{RESP}.cluster.name",
        tagger="eks",
    ),
    row(
        "eks",
        "CreateNodegroup",
        "AWS::EKS::Nodegroup",
        f"{RESP}.nodegroup.nodegroupArn",
        name=f"{RESP}.nodegroup.nodegroupName",
        tagger="eks",
    ),
    row(
        "eks",
        "CreateFargateProfile",
        "AWS::EKS::FargateProfile",
        f"{RESP}.fargateProfile.fargateProfileArn",
        name=f"{RESP}.fargateProfile.fargateProfileName",
        tagger="eks",
    ),
    row(
        "eks",
        "CreateAddon",
        "AWS::EKS::Addon",
        f"{RESP}.addon.addonArn",
        name=f"{RESP}.addon.addonName",
        tagger="eks",
    ),
    row(
        "ecr",
        "CreateRepository",
        "AWS::ECR::Repository",
        f"{RESP}.repository.repositoryArn",
        name=f"{RESP}.repository.repositoryName",
        tagger="ecr",
    ),
    row(
        "ecr-public",
        "CreateRepository",
        "AWS::ECR::PublicRepository",
        f"{RESP}.repository.repositoryArn",
        name=f"{RESP}.repository.repositoryName",
        tagger="ecr-public",
    ),
    row(
        "apprunner",
        "CreateService",
        "AWS::AppRunner::Service",
        f"{RESP}.service.serviceArn",
        name=f"{RESP}.service.serviceName",
        tagger="apprunner",
    ),
)

BATCH_AND_FLEETS: tuple[Entry, ...] = (
    row(
        "batch",
        "CreateComputeEnvironment",
        "AWS::Batch::ComputeEnvironment",
        f"{RESP}.computeEnvironmentArn",
        name=f"{RESP}.computeEnvironmentName",
        tagger="batch",
    ),
    row(
        "batch",
        "CreateJobQueue",
        "AWS::Batch::JobQueue",
        f"{RESP}.jobQueueArn",
        name=f"{RESP}.jobQueueName",
        tagger="batch",
    ),
    row(
        "batch",
        "RegisterJobDefinition",
        "AWS::Batch::JobDefinition",
        f"{RESP}.jobDefinitionArn",
        name=f"{RESP}.jobDefinitionName",
        tagger="batch",
    ),
    row("batch", "SubmitJob", "AWS::Batch::Job", f"{RESP}.jobArn", name=f"{RESP}.jobName", tagger="batch"),
    # The group ARN embeds a UUID the record does not carry: the id is the group name, which is
    # what CreateOrUpdateTags takes. Its tags are {resourceId, resourceType, key, value,
    # propagateAtLaunch} items.
    row(
        "autoscaling",
        "CreateAutoScalingGroup",
        "AWS::AutoScaling::AutoScalingGroup",
        f"{REQ}.autoScalingGroupName",
        name=f"{REQ}.autoScalingGroupName",
        tagger="autoscaling",
    ),
    # Lightsail has no ARN in the create record either; its tag API takes the resource name.
    row(
        "lightsail",
        "CreateInstances",
        "AWS::Lightsail::Instance",
        f"{REQ}.instanceNames",
        name=f"{REQ}.instanceNames",
        tagger="lightsail",
    ),
    row(
        "elasticbeanstalk",
        "CreateApplication",
        "AWS::ElasticBeanstalk::Application",
        f"{RESP}.application.applicationArn",
        name=f"{RESP}.application.applicationName",
        tagger="elasticbeanstalk",
    ),
    row(
        "elasticbeanstalk",
        "CreateEnvironment",
        "AWS::ElasticBeanstalk::Environment",
        f"{RESP}.environmentArn",
        name=f"{RESP}.environmentName",
        tagger="elasticbeanstalk",
    ),
    row(
        "gamelift",
        "CreateFleet",
        "AWS::GameLift::Fleet",
        f"{RESP}.fleetAttributes.fleetArn",
        name=f"{RESP}.fleetAttributes.name",
        tagger="gamelift",
    ),
    row(
        "workspaces",
        "CreateWorkspaces",
        "AWS::WorkSpaces::Workspace",
        f"{RESP}.pendingRequests.workspaceId",
        arn=arn("workspaces", "workspace/{id}"),
        tags=f"{REQ}.workspaces.tags",
        tagger="workspaces",
    ),
    # An image made in an image builder (Image Assistant) is reported by a service event naming it.
    row(
        "appstream",
        "CreateImage",
        "AWS::AppStream::Image",
        f"{SED}.ImageName",
        arn=arn("appstream", "image/{id}"),
        name=f"{SED}.ImageName",
        tags=None,
        tagger="appstream",
    ),
    row(
        "cloud9",
        "CreateEnvironmentEC2",
        "AWS::Cloud9::EnvironmentEC2",
        f"{RESP}.environmentId",
        arn=arn("cloud9", "environment:{id}"),
        name=f"{REQ}.name",
        tagger="cloud9",
    ),
    row(
        "cloud9",
        "CreateEnvironmentSSH",
        "AWS::Cloud9::EnvironmentSSH",
        f"{RESP}.environmentId",
        arn=arn("cloud9", "environment:{id}"),
        name=f"{REQ}.name",
        tagger="cloud9",
    ),
    row(
        "amplify",
        "CreateApp",
        "AWS::Amplify::App",
        f"{RESP}.app.appArn",
        name=f"{RESP}.app.name",
        tagger="amplify",
    ),
)

ENTRIES: tuple[Entry, ...] = (*EC2, *LAMBDA, *CONTAINERS, *BATCH_AND_FLEETS)
