"""One realistic CloudTrail record per catalogue entry, and what normalize must make of it.

Request and response shapes follow real records (../shared/corpus, AWS documentation examples and
the service models): JSON services log members with a lower-case first letter, query services
(EC2, RDS, ElastiCache, Redshift, IAM, ELB) their flattened result, newer EC2 APIs the wrapped
`CreateXRequest` / `CreateXResponse` form. Records are built with builders.cloudtrail only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from builders import ACCOUNT, REGION, cloudtrail, ec2_tag_spec, service_event

TAGS = {"team": "ml-platform", "cost-center": "cc-1234"}
ONE = {"team": "ml-platform"}


@dataclass(frozen=True)
class Res:
    """An expected resource. `tags` None: the case's tags."""

    type: str
    id: str
    name: str | None = None
    native: str | None = None
    tags: dict[str, str] | None = None


@dataclass(frozen=True)
class Case:
    source: str
    event: str
    request: dict[str, Any] | None
    response: dict[str, Any] | None
    expect: tuple[Res, ...]
    tags: dict[str, str] = field(default_factory=dict)
    tag_gap: str | None = None  # why the request tags are not read yet (the tag test is xfail)
    details: dict[str, Any] | None = None  # a service event: its serviceEventDetails

    @property
    def key(self) -> tuple[str, str]:
        return (self.source, self.event)

    @property
    def id(self) -> str:
        return f"{self.source.removesuffix('.amazonaws.com')}:{self.event}"

    def record(self) -> dict[str, Any]:
        if self.details is not None:
            return service_event(self.event, self.source, self.details)
        return cloudtrail(self.event, self.source, self.request, self.response)


def case(
    service: str,
    event: str,
    request: dict[str, Any] | None,
    response: dict[str, Any] | None,
    *expect: Res,
    tags: dict[str, str] | None = None,
    tag_gap: str | None = None,
    details: dict[str, Any] | None = None,
) -> Case:
    return Case(
        f"{service}.amazonaws.com",
        event,
        request,
        response,
        expect,
        TAGS if tags is None else tags,
        tag_gap,
        details,
    )


def a(service: str, resource: str, region: str = REGION, account: str = ACCOUNT) -> str:
    return f"arn:aws:{service}:{region}:{account}:{resource}"


def kv(tags: dict[str, str] = TAGS) -> list[dict[str, str]]:
    """Tags as most JSON services log them: [{key, value}]."""
    return [{"key": k, "value": v} for k, v in tags.items()]


def KV(tags: dict[str, str] = TAGS) -> list[dict[str, str]]:
    """Tags as a few services log them: [{Key, Value}]."""
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def ec2_tags(resource_type: str, tags: dict[str, str] = TAGS) -> dict[str, Any]:
    return {"tagSpecificationSet": {"items": [ec2_tag_spec(resource_type, tags)]}}


def ec2x_tags(resource_type: str, tags: dict[str, str] = TAGS) -> dict[str, Any]:
    """The wrapped EC2 form: the query string as parsed, with XML `tag` indexes."""
    items = [{"Key": k, "Value": v, "tag": i} for i, (k, v) in enumerate(tags.items(), 1)]
    return {"ResourceType": resource_type, "tag": 1, "Tag": items[0] if len(items) == 1 else items}


def ec2x_response(event: str, body: dict[str, Any]) -> dict[str, Any]:
    return {
        f"{event}Response": {
            "xmlns": "http://ec2.amazonaws.com/doc/2016-11-15/",
            "requestId": "6a3c2bd5-3a8e-4d31-9e2b-0b7d9c1f6f10",
            **body,
        }
    }


def ec2(resource: str) -> str:
    return a("ec2", resource)


def ec2_noacct(resource: str) -> str:
    return f"arn:aws:ec2:{REGION}::{resource}"


_I1, _I2 = "i-0a1b2c3d4e5f60001", "i-0a1b2c3d4e5f60002"
_E1, _E2 = "eni-0a1b2c3d4e5f60001", "eni-0a1b2c3d4e5f60002"
_VPC, _SUBNET = "vpc-0f1e2d3c4b5a69788", "subnet-0123456789abcdef0"


def _instance(iid: str, eni: str) -> dict[str, Any]:
    return {
        "instanceId": iid,
        "imageId": "ami-0abcdef1234567890",
        "instanceState": {"code": 0, "name": "pending"},
        "instanceType": "g5.xlarge",
        "subnetId": _SUBNET,
        "vpcId": _VPC,
        "networkInterfaceSet": {
            "items": [{"networkInterfaceId": eni, "subnetId": _SUBNET, "vpcId": _VPC, "status": "in-use"}]
        },
    }


EC2_CASES: tuple[Case, ...] = (
    case(
        "ec2",
        "RunInstances",
        {
            "instancesSet": {"items": [{"imageId": "ami-0abcdef1234567890", "minCount": 2, "maxCount": 2}]},
            "instanceType": "g5.xlarge",
            "subnetId": _SUBNET,
            "tagSpecificationSet": {
                "items": [ec2_tag_spec("instance", TAGS), ec2_tag_spec("network-interface", ONE)]
            },
        },
        {
            "reservationId": "r-0123456789abcdef0",
            "ownerId": ACCOUNT,
            "instancesSet": {"items": [_instance(_I1, _E1), _instance(_I2, _E2)]},
        },
        Res("AWS::EC2::Instance", ec2(f"instance/{_I1}"), native=_I1),
        Res("AWS::EC2::Instance", ec2(f"instance/{_I2}"), native=_I2),
        Res("AWS::EC2::NetworkInterface", ec2(f"network-interface/{_E1}"), native=_E1, tags=ONE),
        Res("AWS::EC2::NetworkInterface", ec2(f"network-interface/{_E2}"), native=_E2, tags=ONE),
    ),
    case(
        "ec2",
        "CreateVolume",
        {"size": 500, "zone": "us-east-1a", "volumeType": "gp3", "encrypted": True, **ec2_tags("volume")},
        {
            "requestId": "1b2c3d4e-0000-4000-8000-000000000001",
            "volumeId": "vol-0a1b2c3d4e5f60001",
            "size": "500",
            "zone": "us-east-1a",
            "status": "creating",
            "volumeType": "gp3",
            "encrypted": True,
        },
        Res("AWS::EC2::Volume", ec2("volume/vol-0a1b2c3d4e5f60001"), native="vol-0a1b2c3d4e5f60001"),
    ),
    case(
        "ec2",
        "CreateSnapshot",
        {"volumeId": "vol-0a1b2c3d4e5f60001", "description": "pre-finetune", **ec2_tags("snapshot")},
        {
            "requestId": "1b2c3d4e-0000-4000-8000-000000000002",
            "snapshotId": "snap-0a1b2c3d4e5f60001",
            "volumeId": "vol-0a1b2c3d4e5f60001",
            "status": "pending",
            "ownerId": ACCOUNT,
            "volumeSize": 500,
        },
        Res("AWS::EC2::Snapshot", ec2_noacct("snapshot/snap-0a1b2c3d4e5f60001")),
    ),
    case(
        "ec2",
        "CopySnapshot",
        {
            "sourceRegion": "us-west-2",
            "sourceSnapshotId": "snap-0f0f0f0f0f0f0f0f0",
            "description": "copy for dr",
            **ec2_tags("snapshot"),
        },
        {"requestId": "1b2c3d4e-0000-4000-8000-000000000003", "snapshotId": "snap-0a1b2c3d4e5f60002"},
        Res("AWS::EC2::Snapshot", ec2_noacct("snapshot/snap-0a1b2c3d4e5f60002")),
    ),
    case(
        "ec2",
        "CreateSnapshots",
        {
            "CreateSnapshotsRequest": {
                "InstanceSpecification": {"InstanceId": _I1, "ExcludeBootVolume": False},
                "CopyTagsFromSource": "volume",
                "TagSpecification": ec2x_tags("snapshot"),
            }
        },
        ec2x_response(
            "CreateSnapshots",
            {
                "snapshotSet": {
                    "item": [
                        {"snapshotId": "snap-0a1b2c3d4e5f60003", "volumeId": "vol-01", "state": "pending"},
                        {"snapshotId": "snap-0a1b2c3d4e5f60004", "volumeId": "vol-02", "state": "pending"},
                    ]
                }
            },
        ),
        Res("AWS::EC2::Snapshot", ec2_noacct("snapshot/snap-0a1b2c3d4e5f60003")),
        Res("AWS::EC2::Snapshot", ec2_noacct("snapshot/snap-0a1b2c3d4e5f60004")),
    ),
    case(
        "ec2",
        "CreateImage",
        {"instanceId": _I1, "name": "agent-golden-2026-11", "noReboot": True, **ec2_tags("image")},
        {"requestId": "1b2c3d4e-0000-4000-8000-000000000004", "imageId": "ami-0a1b2c3d4e5f60001"},
        Res("AWS::EC2::Image", ec2_noacct("image/ami-0a1b2c3d4e5f60001"), name="agent-golden-2026-11"),
    ),
    case(
        "ec2",
        "CopyImage",
        {
            "sourceRegion": "us-west-2",
            "sourceImageId": "ami-0f0f0f0f0f0f0f0f0",
            "name": "agent-golden-copy",
            **ec2_tags("image"),
        },
        {"requestId": "1b2c3d4e-0000-4000-8000-000000000005", "imageId": "ami-0a1b2c3d4e5f60002"},
        Res("AWS::EC2::Image", ec2_noacct("image/ami-0a1b2c3d4e5f60002"), name="agent-golden-copy"),
    ),
    case(
        "ec2",
        "RegisterImage",
        {
            "name": "agent-imported",
            "architecture": "x86_64",
            "rootDeviceName": "/dev/xvda",
            "blockDeviceMapping": {
                "items": [{"deviceName": "/dev/xvda", "ebs": {"snapshotId": "snap-0a1b2c3d4e5f60001"}}]
            },
            **ec2_tags("image"),
        },
        {"requestId": "1b2c3d4e-0000-4000-8000-000000000006", "imageId": "ami-0a1b2c3d4e5f60003"},
        Res("AWS::EC2::Image", ec2_noacct("image/ami-0a1b2c3d4e5f60003"), name="agent-imported"),
    ),
    case(
        "ec2",
        "CreateSecurityGroup",
        {
            "groupName": "agent-sandbox",
            "groupDescription": "sandbox egress only",
            "vpcId": _VPC,
            **ec2_tags("security-group"),
        },
        {
            "requestId": "1b2c3d4e-0000-4000-8000-000000000007",
            "_return": True,
            "groupId": "sg-0a1b2c3d4e5f60001",
            "securityGroupArn": ec2("security-group/sg-0a1b2c3d4e5f60001"),
        },
        Res("AWS::EC2::SecurityGroup", ec2("security-group/sg-0a1b2c3d4e5f60001"), name="agent-sandbox"),
    ),
    case(
        "ec2",
        "CreateNetworkInterface",
        {"subnetId": _SUBNET, "description": "agent eni", **ec2_tags("network-interface")},
        {
            "requestId": "1b2c3d4e-0000-4000-8000-000000000008",
            "networkInterface": {
                "networkInterfaceId": "eni-0a1b2c3d4e5f60009",
                "subnetId": _SUBNET,
                "vpcId": _VPC,
                "status": "pending",
                "privateIpAddress": "10.0.1.25",
            },
        },
        Res("AWS::EC2::NetworkInterface", ec2("network-interface/eni-0a1b2c3d4e5f60009")),
    ),
    case(
        "ec2",
        "AllocateAddress",
        {"domain": "vpc", **ec2_tags("elastic-ip")},
        {
            "requestId": "1b2c3d4e-0000-4000-8000-000000000009",
            "publicIp": "198.51.100.7",
            "domain": "vpc",
            "allocationId": "eipalloc-0a1b2c3d4e5f60001",
            "networkBorderGroup": REGION,
        },
        Res("AWS::EC2::EIP", ec2("elastic-ip/eipalloc-0a1b2c3d4e5f60001")),
    ),
    case(
        "ec2",
        "CreateVpc",
        {"cidrBlock": "10.42.0.0/16", "instanceTenancy": "default", **ec2_tags("vpc")},
        {
            "requestId": "1b2c3d4e-0000-4000-8000-000000000010",
            "vpc": {
                "vpcId": "vpc-0a1b2c3d4e5f60001",
                "state": "pending",
                "ownerId": ACCOUNT,
                "cidrBlock": "10.42.0.0/16",
                "dhcpOptionsId": "dopt-0a1b2c3d",
                "isDefault": False,
            },
        },
        Res("AWS::EC2::VPC", ec2("vpc/vpc-0a1b2c3d4e5f60001")),
    ),
    case(
        "ec2",
        "CreateSubnet",
        {"vpcId": _VPC, "cidrBlock": "10.42.1.0/24", "availabilityZone": "us-east-1b", **ec2_tags("subnet")},
        {
            "requestId": "1b2c3d4e-0000-4000-8000-000000000011",
            "subnet": {
                "subnetId": "subnet-0a1b2c3d4e5f60001",
                "vpcId": _VPC,
                "state": "available",
                "cidrBlock": "10.42.1.0/24",
                "availabilityZone": "us-east-1b",
            },
        },
        Res("AWS::EC2::Subnet", ec2("subnet/subnet-0a1b2c3d4e5f60001")),
    ),
    case(
        "ec2",
        "CreateInternetGateway",
        ec2_tags("internet-gateway"),
        {
            "requestId": "1b2c3d4e-0000-4000-8000-000000000012",
            "internetGateway": {"internetGatewayId": "igw-0a1b2c3d4e5f60001", "attachmentSet": {}},
        },
        Res("AWS::EC2::InternetGateway", ec2("internet-gateway/igw-0a1b2c3d4e5f60001")),
    ),
    case(
        "ec2",
        "CreateRouteTable",
        {"vpcId": _VPC, **ec2_tags("route-table")},
        {
            "requestId": "1b2c3d4e-0000-4000-8000-000000000013",
            "routeTable": {"routeTableId": "rtb-0a1b2c3d4e5f60001", "vpcId": _VPC, "routeSet": {}},
        },
        Res("AWS::EC2::RouteTable", ec2("route-table/rtb-0a1b2c3d4e5f60001")),
    ),
    case(
        "ec2",
        "CreateNetworkAcl",
        {"vpcId": _VPC, **ec2_tags("network-acl")},
        {
            "requestId": "1b2c3d4e-0000-4000-8000-000000000014",
            "networkAcl": {"networkAclId": "acl-0a1b2c3d4e5f60001", "vpcId": _VPC, "default": False},
        },
        Res("AWS::EC2::NetworkAcl", ec2("network-acl/acl-0a1b2c3d4e5f60001")),
    ),
    case(
        "ec2",
        "CreateDhcpOptions",
        {
            "dhcpConfigurationSet": {
                "items": [
                    {"key": "domain-name-servers", "valueSet": {"items": [{"value": "AmazonProvidedDNS"}]}}
                ]
            },
            **ec2_tags("dhcp-options"),
        },
        {
            "requestId": "1b2c3d4e-0000-4000-8000-000000000015",
            "dhcpOptions": {"dhcpOptionsId": "dopt-0a1b2c3d4e5f60001", "ownerId": ACCOUNT},
        },
        Res("AWS::EC2::DHCPOptions", ec2("dhcp-options/dopt-0a1b2c3d4e5f60001")),
    ),
    case(
        "ec2",
        "CreateVpcPeeringConnection",
        {"vpcId": _VPC, "peerVpcId": "vpc-0ffffffffffffffff", **ec2_tags("vpc-peering-connection")},
        {
            "requestId": "1b2c3d4e-0000-4000-8000-000000000016",
            "vpcPeeringConnection": {
                "vpcPeeringConnectionId": "pcx-0a1b2c3d4e5f60001",
                "status": {"code": "initiating-request"},
            },
        },
        Res("AWS::EC2::VPCPeeringConnection", ec2("vpc-peering-connection/pcx-0a1b2c3d4e5f60001")),
    ),
    case(
        "ec2",
        "CreateCustomerGateway",
        {"type": "ipsec.1", "ipAddress": "203.0.113.12", "bgpAsn": 65000, **ec2_tags("customer-gateway")},
        {
            "requestId": "1b2c3d4e-0000-4000-8000-000000000017",
            "customerGateway": {"customerGatewayId": "cgw-0a1b2c3d4e5f60001", "state": "available"},
        },
        Res("AWS::EC2::CustomerGateway", ec2("customer-gateway/cgw-0a1b2c3d4e5f60001")),
    ),
    case(
        "ec2",
        "CreateVpnGateway",
        {"type": "ipsec.1", **ec2_tags("vpn-gateway")},
        {
            "requestId": "1b2c3d4e-0000-4000-8000-000000000018",
            "vpnGateway": {"vpnGatewayId": "vgw-0a1b2c3d4e5f60001", "state": "available"},
        },
        Res("AWS::EC2::VPNGateway", ec2("vpn-gateway/vgw-0a1b2c3d4e5f60001")),
    ),
    case(
        "ec2",
        "CreateVpnConnection",
        {
            "type": "ipsec.1",
            "customerGatewayId": "cgw-0a1b2c3d4e5f60001",
            "vpnGatewayId": "vgw-0a1b2c3d4e5f60001",
            **ec2_tags("vpn-connection"),
        },
        {
            "requestId": "1b2c3d4e-0000-4000-8000-000000000019",
            "vpnConnection": {
                "vpnConnectionId": "vpn-0a1b2c3d4e5f60001",
                "state": "pending",
                "customerGatewayConfiguration": "HIDDEN_DUE_TO_SECURITY_REASONS",
            },
        },
        Res("AWS::EC2::VPNConnection", ec2("vpn-connection/vpn-0a1b2c3d4e5f60001")),
    ),
    case(
        "ec2",
        "CreateKeyPair",
        {"keyName": "agent-42-key", "keyType": "ed25519", **ec2_tags("key-pair")},
        {
            "requestId": "1b2c3d4e-0000-4000-8000-000000000020",
            "keyName": "agent-42-key",
            "keyFingerprint": "b2:5f:6e:1a:9c:44:aa:10:0f:3e:9d:21:7b:c8:40:11",
            "keyMaterial": "<sensitiveDataRemoved>",
            "keyPairId": "key-0a1b2c3d4e5f60001",
        },
        Res("AWS::EC2::KeyPair", ec2("key-pair/key-0a1b2c3d4e5f60001"), name="agent-42-key"),
    ),
    case(
        "ec2",
        "ImportKeyPair",
        {"keyName": "laptop", "publicKeyMaterial": "c3NoLWVkMjU1MTkgQUFBQQ==", **ec2_tags("key-pair")},
        {
            "requestId": "1b2c3d4e-0000-4000-8000-000000000021",
            "keyName": "laptop",
            "keyFingerprint": "1f:51:ae:28:bf:89:e9:d8:1f:25:5d:37:2d:7d:b8:ca",
            "keyPairId": "key-0a1b2c3d4e5f60002",
        },
        Res("AWS::EC2::KeyPair", ec2("key-pair/key-0a1b2c3d4e5f60002"), name="laptop"),
    ),
    case(
        "ec2",
        "RequestSpotInstances",
        {
            "instanceCount": 2,
            "type": "one-time",
            "launchSpecification": {"imageId": "ami-0abcdef1234567890", "instanceType": "p4d.24xlarge"},
            **ec2_tags("spot-instances-request"),
        },
        {
            "requestId": "1b2c3d4e-0000-4000-8000-000000000022",
            "spotInstanceRequestSet": {
                "items": [
                    {"spotInstanceRequestId": "sir-0a1b2c3d", "state": "open", "type": "one-time"},
                    {"spotInstanceRequestId": "sir-0a1b2c3e", "state": "open", "type": "one-time"},
                ]
            },
        },
        Res("AWS::EC2::SpotInstanceRequest", ec2("spot-instances-request/sir-0a1b2c3d")),
        Res("AWS::EC2::SpotInstanceRequest", ec2("spot-instances-request/sir-0a1b2c3e")),
    ),
    case(
        "ec2",
        "CreatePlacementGroup",
        {"groupName": "training-cluster", "strategy": "cluster", **ec2_tags("placement-group")},
        {
            "requestId": "1b2c3d4e-0000-4000-8000-000000000023",
            "_return": True,
            "placementGroup": {
                "groupName": "training-cluster",
                "state": "available",
                "strategy": "cluster",
                "groupId": "pg-0a1b2c3d4e5f60001",
            },
        },
        Res(
            "AWS::EC2::PlacementGroup",
            ec2("placement-group/training-cluster"),
            name="training-cluster",
            native="pg-0a1b2c3d4e5f60001",
        ),
    ),
    case(
        "ec2",
        "CreateLaunchTemplate",
        {
            "CreateLaunchTemplateRequest": {
                "LaunchTemplateName": "agent-workers",
                "LaunchTemplateData": {"ImageId": "ami-0abcdef1234567890", "InstanceType": "c7i.large"},
                "TagSpecification": ec2x_tags("launch-template"),
            }
        },
        ec2x_response(
            "CreateLaunchTemplate",
            {
                "launchTemplate": {
                    "launchTemplateId": "lt-0a1b2c3d4e5f60001",
                    "launchTemplateName": "agent-workers",
                    "createdBy": f"arn:aws:sts::{ACCOUNT}:assumed-role/agent-fleet-support/agent-42",
                    "defaultVersionNumber": 1,
                    "latestVersionNumber": 1,
                }
            },
        ),
        Res("AWS::EC2::LaunchTemplate", ec2("launch-template/lt-0a1b2c3d4e5f60001"), name="agent-workers"),
    ),
    case(
        "ec2",
        "CreateNatGateway",
        {
            "CreateNatGatewayRequest": {
                "SubnetId": _SUBNET,
                "AllocationId": "eipalloc-0a1b2c3d4e5f60001",
                "ClientToken": "f1f7a6a0-2f4e-4b7b-9b52-0c2f9d1e3a44",
                "TagSpecification": ec2x_tags("natgateway"),
            }
        },
        ec2x_response(
            "CreateNatGateway",
            {
                "clientToken": "f1f7a6a0-2f4e-4b7b-9b52-0c2f9d1e3a44",
                "natGateway": {
                    "natGatewayAddressSet": {"item": {"allocationId": "eipalloc-0a1b2c3d4e5f60001"}},
                    "natGatewayId": "nat-0a1b2c3d4e5f60001",
                    "state": "pending",
                    "subnetId": _SUBNET,
                    "vpcId": _VPC,
                    "connectivityType": "public",
                },
            },
        ),
        Res("AWS::EC2::NatGateway", ec2("natgateway/nat-0a1b2c3d4e5f60001")),
    ),
    case(
        "ec2",
        "CreateEgressOnlyInternetGateway",
        {
            "CreateEgressOnlyInternetGatewayRequest": {
                "VpcId": _VPC,
                "TagSpecification": ec2x_tags("egress-only-internet-gateway", ONE),
            }
        },
        ec2x_response(
            "CreateEgressOnlyInternetGateway",
            {
                "egressOnlyInternetGateway": {
                    "egressOnlyInternetGatewayId": "eigw-0a1b2c3d4e5f60001",
                    "attachmentSet": {"item": {"state": "attached", "vpcId": _VPC}},
                }
            },
        ),
        Res(
            "AWS::EC2::EgressOnlyInternetGateway",
            ec2("egress-only-internet-gateway/eigw-0a1b2c3d4e5f60001"),
        ),
        tags=ONE,
    ),
    case(
        "ec2",
        "CreateVpcEndpoint",
        {
            "CreateVpcEndpointRequest": {
                "VpcId": _VPC,
                "ServiceName": "com.amazonaws.us-east-1.s3",
                "VpcEndpointType": "Gateway",
                "RouteTableId": {"content": "rtb-0a1b2c3d4e5f60001", "tag": 1},
                "TagSpecification": ec2x_tags("vpc-endpoint"),
            }
        },
        ec2x_response(
            "CreateVpcEndpoint",
            {
                "vpcEndpoint": {
                    "vpcEndpointId": "vpce-0a1b2c3d4e5f60001",
                    "vpcEndpointType": "Gateway",
                    "vpcId": _VPC,
                    "serviceName": "com.amazonaws.us-east-1.s3",
                    "state": "available",
                }
            },
        ),
        Res("AWS::EC2::VPCEndpoint", ec2("vpc-endpoint/vpce-0a1b2c3d4e5f60001")),
    ),
    case(
        "ec2",
        "CreateTransitGateway",
        {
            "CreateTransitGatewayRequest": {
                "Options": {"DnsSupport": "enable", "VpnEcmpSupport": "enable"},
                "TagSpecification": ec2x_tags("transit-gateway", ONE),
            }
        },
        ec2x_response(
            "CreateTransitGateway",
            {
                "transitGateway": {
                    "transitGatewayId": "tgw-0a1b2c3d4e5f60001",
                    "state": "pending",
                    "ownerId": 123456789012,
                    "tagSet": {"item": {"key": "team", "value": "ml-platform"}},
                }
            },
        ),
        Res("AWS::EC2::TransitGateway", ec2("transit-gateway/tgw-0a1b2c3d4e5f60001")),
        tags=ONE,
    ),
    case(
        "ec2",
        "CreateTransitGatewayVpcAttachment",
        {
            "CreateTransitGatewayVpcAttachmentRequest": {
                "TransitGatewayId": "tgw-0a1b2c3d4e5f60001",
                "VpcId": _VPC,
                "SubnetIds": {"content": _SUBNET, "tag": 1},
                "TagSpecifications": ec2x_tags("transit-gateway-attachment"),
            }
        },
        ec2x_response(
            "CreateTransitGatewayVpcAttachment",
            {
                "transitGatewayVpcAttachment": {
                    "transitGatewayAttachmentId": "tgw-attach-0a1b2c3d4e5f60001",
                    "transitGatewayId": "tgw-0a1b2c3d4e5f60001",
                    "vpcId": _VPC,
                    "state": "pending",
                }
            },
        ),
        Res(
            "AWS::EC2::TransitGatewayVpcAttachment",
            ec2("transit-gateway-attachment/tgw-attach-0a1b2c3d4e5f60001"),
        ),
    ),
    case(
        "ec2",
        "CreateFleet",
        {
            "CreateFleetRequest": {
                "Type": "maintain",
                "LaunchTemplateConfigs": {
                    "LaunchTemplateSpecification": {"LaunchTemplateId": "lt-0a1b2c3d4e5f60001", "Version": 1},
                    "tag": 1,
                },
                "TargetCapacitySpecification": {
                    "TotalTargetCapacity": 4,
                    "DefaultTargetCapacityType": "spot",
                },
                "TagSpecification": ec2x_tags("fleet"),
            }
        },
        ec2x_response("CreateFleet", {"fleetId": "fleet-0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9"}),
        Res("AWS::EC2::EC2Fleet", ec2("fleet/fleet-0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9")),
    ),
    case(
        "ec2",
        "CreateFlowLogs",
        {
            "CreateFlowLogsRequest": {
                "ResourceId": {"content": _VPC, "tag": 1},
                "ResourceType": "VPC",
                "TrafficType": "ALL",
                "LogDestinationType": "s3",
                "LogDestination": "arn:aws:s3:::flow-logs-bucket",
                "TagSpecification": ec2x_tags("vpc-flow-log"),
            }
        },
        ec2x_response(
            "CreateFlowLogs", {"flowLogIdSet": {"item": "fl-0a1b2c3d4e5f60001"}, "unsuccessful": ""}
        ),
        Res("AWS::EC2::FlowLog", ec2("vpc-flow-log/fl-0a1b2c3d4e5f60001")),
    ),
    case(
        "ec2",
        "CreateTrafficMirrorFilter",
        {
            "CreateTrafficMirrorFilterRequest": {
                "ClientToken": "5b7eff74-2b70-4f92-8aa1-9c716bf151aa",
                "TagSpecification": ec2x_tags("traffic-mirror-filter"),
            }
        },
        ec2x_response(
            "CreateTrafficMirrorFilter",
            {"trafficMirrorFilter": {"trafficMirrorFilterId": "tmf-0a1b2c3d4e5f60001", "tagSet": ""}},
        ),
        Res("AWS::EC2::TrafficMirrorFilter", ec2("traffic-mirror-filter/tmf-0a1b2c3d4e5f60001")),
    ),
    case(
        "ec2",
        "CreateTrafficMirrorFilterRule",
        {
            "CreateTrafficMirrorFilterRuleRequest": {
                "ClientToken": "b59974fd-e63c-489a-9011-4386f541e2e7",
                "DestinationCidrBlock": "0.0.0.0/0",
                "Protocol": 6,
                "RuleAction": "accept",
                "RuleNumber": 100,
                "SourceCidrBlock": "0.0.0.0/0",
                "TrafficDirection": "egress",
                "TrafficMirrorFilterId": "tmf-0a1b2c3d4e5f60001",
                "TagSpecification": ec2x_tags("traffic-mirror-filter-rule"),
            }
        },
        ec2x_response(
            "CreateTrafficMirrorFilterRule",
            {
                "clientToken": "b59974fd-e63c-489a-9011-4386f541e2e7",
                "trafficMirrorFilterRule": {
                    "destinationCidrBlock": "0.0.0.0/0",
                    "protocol": 6,
                    "ruleAction": "accept",
                    "ruleNumber": 100,
                    "trafficDirection": "egress",
                    "trafficMirrorFilterId": "tmf-0a1b2c3d4e5f60001",
                    "trafficMirrorFilterRuleId": "tmfr-01669e70d44b9705a",
                },
            },
        ),
        Res("AWS::EC2::TrafficMirrorFilterRule", ec2("traffic-mirror-filter-rule/tmfr-01669e70d44b9705a")),
    ),
    case(
        "ec2",
        "CreateTrafficMirrorTarget",
        {
            "CreateTrafficMirrorTargetRequest": {
                "NetworkInterfaceId": _E1,
                "TagSpecification": ec2x_tags("traffic-mirror-target"),
            }
        },
        ec2x_response(
            "CreateTrafficMirrorTarget",
            {
                "trafficMirrorTarget": {
                    "networkInterfaceId": _E1,
                    "trafficMirrorTargetId": "tmt-0a1b2c3d4e5f60001",
                    "type": "network-interface",
                }
            },
        ),
        Res("AWS::EC2::TrafficMirrorTarget", ec2("traffic-mirror-target/tmt-0a1b2c3d4e5f60001")),
    ),
    case(
        "ec2",
        "CreateTrafficMirrorSession",
        {
            "CreateTrafficMirrorSessionRequest": {
                "NetworkInterfaceId": _E2,
                "TrafficMirrorTargetId": "tmt-0a1b2c3d4e5f60001",
                "TrafficMirrorFilterId": "tmf-0a1b2c3d4e5f60001",
                "SessionNumber": 1,
                "TagSpecification": ec2x_tags("traffic-mirror-session"),
            }
        },
        ec2x_response(
            "CreateTrafficMirrorSession",
            {
                "trafficMirrorSession": {
                    "trafficMirrorSessionId": "tms-0a1b2c3d4e5f60001",
                    "networkInterfaceId": _E2,
                    "sessionNumber": 1,
                }
            },
        ),
        Res("AWS::EC2::TrafficMirrorSession", ec2("traffic-mirror-session/tms-0a1b2c3d4e5f60001")),
    ),
)

_FN = a("lambda", "function:summarize-tickets")
_CLUSTER = a("ecs", "cluster/agents")

COMPUTE_CASES: tuple[Case, ...] = (
    case(
        "appstream",
        "CreateImage",
        None,
        None,
        Res("AWS::AppStream::Image", a("appstream", "image/ExampleImage1"), name="ExampleImage1"),
        tags={},
        details={
            "ImageName": "ExampleImage1",
            "ImagePlatform": "WINDOWS",
            "ImageDisPlayName": "Example Image 1",
            "ImageBuilderSupported": "True",
            "ImageState": "PENDING",
        },
    ),
    case(
        "lambda",
        "CreateFunction20150331",
        {
            "functionName": "summarize-tickets",
            "runtime": "python3.13",
            "role": f"arn:aws:iam::{ACCOUNT}:role/summarize-tickets",
            "handler": "app.handler",
            "code": {},
            "tags": TAGS,
        },
        {
            "functionName": "summarize-tickets",
            "functionArn": _FN,
            "runtime": "python3.13",
            "state": "Pending",
        },
        Res("AWS::Lambda::Function", _FN, name="summarize-tickets"),
    ),
    case(
        "lambda",
        "CreateEventSourceMapping20150331",
        {
            "functionName": "summarize-tickets",
            "eventSourceArn": a("sqs", "tickets"),
            "batchSize": 10,
            "tags": TAGS,
        },
        {
            "uUID": "a1b2c3d4-5678-90ab-cdef-11111EXAMPLE",
            "batchSize": 10,
            "eventSourceArn": a("sqs", "tickets"),
            "functionArn": _FN,
            "state": "Creating",
        },
        Res(
            "AWS::Lambda::EventSourceMapping",
            a("lambda", "event-source-mapping:a1b2c3d4-5678-90ab-cdef-11111EXAMPLE"),
        ),
    ),
    case(
        "lambda",
        "PublishLayerVersion20181031",
        {"layerName": "pandas-layer", "compatibleRuntimes": ["python3.13"], "content": {}},
        {
            "layerArn": a("lambda", "layer:pandas-layer"),
            "layerVersionArn": a("lambda", "layer:pandas-layer:3"),
            "version": 3,
        },
        Res("AWS::Lambda::LayerVersion", a("lambda", "layer:pandas-layer:3"), name="pandas-layer"),
        tags={},
    ),
    case(
        "ecs",
        "CreateCluster",
        {"clusterName": "agents", "tags": kv()},
        {"cluster": {"clusterArn": _CLUSTER, "clusterName": "agents", "status": "ACTIVE", "tags": kv()}},
        Res("AWS::ECS::Cluster", _CLUSTER, name="agents"),
    ),
    case(
        "ecs",
        "CreateService",
        {"cluster": "agents", "serviceName": "crawler", "taskDefinition": "crawler:3", "tags": kv()},
        {
            "service": {
                "serviceArn": a("ecs", "service/agents/crawler"),
                "serviceName": "crawler",
                "clusterArn": _CLUSTER,
                "status": "ACTIVE",
                "desiredCount": 2,
            }
        },
        Res("AWS::ECS::Service", a("ecs", "service/agents/crawler"), name="crawler"),
    ),
    case(
        "ecs",
        "RegisterTaskDefinition",
        {"family": "crawler", "containerDefinitions": [{"name": "app", "image": "crawler:1"}], "tags": kv()},
        {
            "taskDefinition": {
                "taskDefinitionArn": a("ecs", "task-definition/crawler:3"),
                "family": "crawler",
                "revision": 3,
                "status": "ACTIVE",
            },
            "tags": kv(),
        },
        Res("AWS::ECS::TaskDefinition", a("ecs", "task-definition/crawler:3"), name="crawler"),
    ),
    case(
        "ecs",
        "RunTask",
        {
            "cluster": "agents",
            "taskDefinition": "crawler:3",
            "count": 2,
            "launchType": "FARGATE",
            "tags": kv(),
        },
        {
            "tasks": [
                {"taskArn": a("ecs", "task/agents/0f9e8d7c6b5a4e3d"), "lastStatus": "PROVISIONING"},
                {"taskArn": a("ecs", "task/agents/1a2b3c4d5e6f7081"), "lastStatus": "PROVISIONING"},
            ],
            "failures": [],
        },
        Res("AWS::ECS::Task", a("ecs", "task/agents/0f9e8d7c6b5a4e3d")),
        Res("AWS::ECS::Task", a("ecs", "task/agents/1a2b3c4d5e6f7081")),
    ),
    case(
        "ecs",
        "StartTask",
        {
            "cluster": "agents",
            "taskDefinition": "crawler:3",
            "containerInstances": [a("ecs", "container-instance/agents/9f8e")],
            "tags": kv(),
        },
        {"tasks": [{"taskArn": a("ecs", "task/agents/2b3c4d5e6f708192"), "lastStatus": "PENDING"}]},
        Res("AWS::ECS::Task", a("ecs", "task/agents/2b3c4d5e6f708192")),
    ),
    case(
        "ecs",
        "CreateCapacityProvider",
        {
            "name": "gpu-spot",
            "autoScalingGroupProvider": {"autoScalingGroupArn": a("autoscaling", "autoScalingGroup:x")},
            "tags": kv(),
        },
        {
            "capacityProvider": {
                "capacityProviderArn": a("ecs", "capacity-provider/gpu-spot"),
                "name": "gpu-spot",
                "status": "ACTIVE",
            }
        },
        Res("AWS::ECS::CapacityProvider", a("ecs", "capacity-provider/gpu-spot"), name="gpu-spot"),
    ),
    case(
        "eks",
        "CreateCluster",
        {"name": "agents", "roleArn": f"arn:aws:iam::{ACCOUNT}:role/eks", "tags": TAGS},
        {
            "cluster": {
                "name": "agents",
                "arn": a("eks", "cluster/agents"),
                "status": "CREATING",
                "version": "1.31",
                "tags": TAGS,
            }
        },
        Res("AWS::EKS::Cluster", a("eks", "cluster/agents"), name="agents"),
    ),
    case(
        "eks",
        "CreateNodegroup",
        {"name": "agents", "nodegroupName": "gpu", "tags": TAGS},
        {
            "nodegroup": {
                "nodegroupName": "gpu",
                "nodegroupArn": a("eks", "nodegroup/agents/gpu/b2c8a1d4-0f9e-4c11-9a3e-5d7f0e1a2b3c"),
                "clusterName": "agents",
                "status": "CREATING",
            }
        },
        Res(
            "AWS::EKS::Nodegroup",
            a("eks", "nodegroup/agents/gpu/b2c8a1d4-0f9e-4c11-9a3e-5d7f0e1a2b3c"),
            name="gpu",
        ),
    ),
    case(
        "eks",
        "CreateFargateProfile",
        {"name": "agents", "fargateProfileName": "batch", "tags": TAGS},
        {
            "fargateProfile": {
                "fargateProfileName": "batch",
                "fargateProfileArn": a("eks", "fargateprofile/agents/batch/12c8a1d4-aaaa-bbbb"),
                "clusterName": "agents",
                "status": "CREATING",
            }
        },
        Res(
            "AWS::EKS::FargateProfile",
            a("eks", "fargateprofile/agents/batch/12c8a1d4-aaaa-bbbb"),
            name="batch",
        ),
    ),
    case(
        "eks",
        "CreateAddon",
        {"name": "agents", "addonName": "vpc-cni", "tags": TAGS},
        {
            "addon": {
                "addonName": "vpc-cni",
                "clusterName": "agents",
                "addonArn": a("eks", "addon/agents/vpc-cni/34c8a1d4-cccc-dddd"),
                "status": "CREATING",
            }
        },
        Res("AWS::EKS::Addon", a("eks", "addon/agents/vpc-cni/34c8a1d4-cccc-dddd"), name="vpc-cni"),
    ),
    case(
        "ecr",
        "CreateRepository",
        {"repositoryName": "agents/crawler", "tags": kv()},
        {
            "repository": {
                "repositoryArn": a("ecr", "repository/agents/crawler"),
                "registryId": ACCOUNT,
                "repositoryName": "agents/crawler",
                "repositoryUri": f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/agents/crawler",
            }
        },
        Res("AWS::ECR::Repository", a("ecr", "repository/agents/crawler"), name="agents/crawler"),
    ),
    case(
        "ecr-public",
        "CreateRepository",
        {"repositoryName": "tools", "tags": kv()},
        {
            "repository": {
                "repositoryArn": f"arn:aws:ecr-public::{ACCOUNT}:repository/tools",
                "registryId": ACCOUNT,
                "repositoryName": "tools",
            },
            "catalogData": {},
        },
        Res("AWS::ECR::PublicRepository", f"arn:aws:ecr-public::{ACCOUNT}:repository/tools", name="tools"),
    ),
    case(
        "apprunner",
        "CreateService",
        {"serviceName": "chat-ui", "sourceConfiguration": {"imageRepository": {}}, "tags": kv()},
        {
            "service": {
                "serviceName": "chat-ui",
                "serviceId": "8fe1e10304f84fd2b0df550fe98a71fa",
                "serviceArn": a("apprunner", "service/chat-ui/8fe1e10304f84fd2b0df550fe98a71fa"),
                "status": "OPERATION_IN_PROGRESS",
            },
            "operationId": "17fe9f55-7e91-4097-b243-fcabbb69a4cf",
        },
        Res(
            "AWS::AppRunner::Service",
            a("apprunner", "service/chat-ui/8fe1e10304f84fd2b0df550fe98a71fa"),
            name="chat-ui",
        ),
    ),
    case(
        "batch",
        "CreateComputeEnvironment",
        {"computeEnvironmentName": "gpu-spot", "type": "MANAGED", "tags": TAGS},
        {
            "computeEnvironmentName": "gpu-spot",
            "computeEnvironmentArn": a("batch", "compute-environment/gpu-spot"),
        },
        Res("AWS::Batch::ComputeEnvironment", a("batch", "compute-environment/gpu-spot"), name="gpu-spot"),
    ),
    case(
        "batch",
        "CreateJobQueue",
        {"jobQueueName": "eval", "priority": 1, "tags": TAGS},
        {"jobQueueName": "eval", "jobQueueArn": a("batch", "job-queue/eval")},
        Res("AWS::Batch::JobQueue", a("batch", "job-queue/eval"), name="eval"),
    ),
    case(
        "batch",
        "RegisterJobDefinition",
        {"jobDefinitionName": "eval-run", "type": "container", "tags": TAGS},
        {
            "jobDefinitionName": "eval-run",
            "jobDefinitionArn": a("batch", "job-definition/eval-run:1"),
            "revision": 1,
        },
        Res("AWS::Batch::JobDefinition", a("batch", "job-definition/eval-run:1"), name="eval-run"),
    ),
    case(
        "batch",
        "SubmitJob",
        {"jobName": "eval-0042", "jobQueue": "eval", "jobDefinition": "eval-run:1", "tags": TAGS},
        {
            "jobArn": a("batch", "job/876da822-4198-45f2-a252-6cea32512ea8"),
            "jobName": "eval-0042",
            "jobId": "876da822-4198-45f2-a252-6cea32512ea8",
        },
        Res("AWS::Batch::Job", a("batch", "job/876da822-4198-45f2-a252-6cea32512ea8"), name="eval-0042"),
    ),
    case(
        "autoscaling",
        "CreateAutoScalingGroup",
        {
            "autoScalingGroupName": "agent-workers",
            "launchTemplate": {"launchTemplateId": "lt-0a1b2c3d4e5f60001", "version": "$Latest"},
            "minSize": 0,
            "maxSize": 8,
            "vPCZoneIdentifier": _SUBNET,
            "tags": [
                {
                    "resourceId": "agent-workers",
                    "resourceType": "auto-scaling-group",
                    "key": "team",
                    "value": "ml-platform",
                    "propagateAtLaunch": True,
                }
            ],
        },
        None,
        Res("AWS::AutoScaling::AutoScalingGroup", "agent-workers", name="agent-workers"),
        tags={"team": "ml-platform"},
    ),
    case(
        "lightsail",
        "CreateInstances",
        {
            "instanceNames": ["wp-1", "wp-2"],
            "availabilityZone": "us-east-1a",
            "blueprintId": "wordpress",
            "bundleId": "small_3_0",
            "tags": kv(),
        },
        {
            "operations": [
                {
                    "id": "e8a1c3d2-1111",
                    "resourceName": "wp-1",
                    "resourceType": "Instance",
                    "status": "Started",
                },
                {
                    "id": "e8a1c3d2-2222",
                    "resourceName": "wp-2",
                    "resourceType": "Instance",
                    "status": "Started",
                },
            ]
        },
        Res("AWS::Lightsail::Instance", "wp-1", name="wp-1"),
        Res("AWS::Lightsail::Instance", "wp-2", name="wp-2"),
    ),
    case(
        "elasticbeanstalk",
        "CreateApplication",
        {"applicationName": "support-bot", "tags": kv()},
        {
            "application": {
                "applicationArn": a("elasticbeanstalk", "application/support-bot"),
                "applicationName": "support-bot",
            }
        },
        Res(
            "AWS::ElasticBeanstalk::Application",
            a("elasticbeanstalk", "application/support-bot"),
            name="support-bot",
        ),
    ),
    case(
        "elasticbeanstalk",
        "CreateEnvironment",
        {
            "applicationName": "support-bot",
            "environmentName": "support-bot-prod",
            "solutionStackName": "64bit Amazon Linux 2023 v4.3.0 running Python 3.12",
            "tags": kv(),
        },
        {
            "environmentName": "support-bot-prod",
            "environmentId": "e-abcd1234",
            "applicationName": "support-bot",
            "status": "Launching",
            "environmentArn": a("elasticbeanstalk", "environment/support-bot/support-bot-prod"),
        },
        Res(
            "AWS::ElasticBeanstalk::Environment",
            a("elasticbeanstalk", "environment/support-bot/support-bot-prod"),
            name="support-bot-prod",
        ),
    ),
    case(
        "gamelift",
        "CreateFleet",
        {"name": "arena", "buildId": "build-1111aaaa", "eC2InstanceType": "c5.large", "tags": kv()},
        {
            "fleetAttributes": {
                "fleetId": "fleet-2222bbbb-33cc-44dd-55ee-666677778888",
                "fleetArn": a("gamelift", "fleet/fleet-2222bbbb-33cc-44dd-55ee-666677778888"),
                "name": "arena",
                "status": "NEW",
            }
        },
        Res(
            "AWS::GameLift::Fleet",
            a("gamelift", "fleet/fleet-2222bbbb-33cc-44dd-55ee-666677778888"),
            name="arena",
        ),
    ),
    case(
        "workspaces",
        "CreateWorkspaces",
        {
            "workspaces": [
                {
                    "directoryId": "d-906732325d",
                    "userName": "alice",
                    "bundleId": "wsb-clj85qzj1",
                    "tags": kv(),
                }
            ]
        },
        {
            "failedRequests": [],
            "pendingRequests": [
                {
                    "workspaceId": "ws-f9cq1bdxk",
                    "directoryId": "d-906732325d",
                    "userName": "alice",
                    "state": "PENDING",
                }
            ],
        },
        Res("AWS::WorkSpaces::Workspace", a("workspaces", "workspace/ws-f9cq1bdxk")),
    ),
    case(
        "cloud9",
        "CreateEnvironmentEC2",
        {
            "name": "agent-ide",
            "instanceType": "t3.small",
            "imageId": "amazonlinux-2023-x86_64",
            "automaticStopTimeMinutes": 30,
            "tags": kv(),
        },
        {"environmentId": "5c39cc4a85d74a8bbb6e23ed6e1f2a3b"},
        Res(
            "AWS::Cloud9::EnvironmentEC2",
            a("cloud9", "environment:5c39cc4a85d74a8bbb6e23ed6e1f2a3b"),
            name="agent-ide",
        ),
    ),
    case(
        "cloud9",
        "CreateEnvironmentSSH",
        {"name": "my-ssh-environment", "host": "198.51.100.0", "port": 22, "loginName": "ec2-user"},
        {"environmentId": "6d40dd5b96e85b9ccc7f34fe7f2a3b4c"},
        Res(
            "AWS::Cloud9::EnvironmentSSH",
            a("cloud9", "environment:6d40dd5b96e85b9ccc7f34fe7f2a3b4c"),
            name="my-ssh-environment",
        ),
        tags={},
    ),
    case(
        "amplify",
        "CreateApp",
        {"name": "docs-site", "platform": "WEB", "tags": TAGS},
        {
            "app": {
                "appId": "d2w8example",
                "appArn": a("amplify", "apps/d2w8example"),
                "name": "docs-site",
                "tags": TAGS,
            }
        },
        Res("AWS::Amplify::App", a("amplify", "apps/d2w8example"), name="docs-site"),
    ),
)


def _rds(event: str, request: dict[str, Any], response: dict[str, Any], *expect: Res) -> Case:
    return case("rds", event, {**request, "tags": kv()}, response, *expect)


_DB = a("rds", "db:agent-pg")
_DBC = a("rds", "cluster:agent-aurora")

DATA_CASES: tuple[Case, ...] = (
    case(
        "s3",
        "CreateBucket",
        {
            "bucketName": "agent-scratch-0042",
            "Host": "agent-scratch-0042.s3.amazonaws.com",
            "CreateBucketConfiguration": {
                "xmlns": "http://s3.amazonaws.com/doc/2006-03-01/",
                "LocationConstraint": "us-west-2",
                "Tags": {"Tag": KV()},
            },
        },
        None,
        Res("AWS::S3::Bucket", "arn:aws:s3:::agent-scratch-0042", name="agent-scratch-0042"),
    ),
    case(
        "elasticfilesystem",
        "CreateFileSystem",
        {"creationToken": "agent-efs", "performanceMode": "generalPurpose", "encrypted": True, "tags": kv()},
        {
            "ownerId": ACCOUNT,
            "creationToken": "agent-efs",
            "fileSystemId": "fs-0a1b2c3d4e5f60001",
            "fileSystemArn": a("elasticfilesystem", "file-system/fs-0a1b2c3d4e5f60001"),
            "lifeCycleState": "creating",
            "tags": kv(),
        },
        Res(
            "AWS::EFS::FileSystem",
            a("elasticfilesystem", "file-system/fs-0a1b2c3d4e5f60001"),
            native="fs-0a1b2c3d4e5f60001",
        ),
    ),
    case(
        "elasticfilesystem",
        "CreateAccessPoint",
        {"clientToken": "ap-1", "fileSystemId": "fs-0a1b2c3d4e5f60001", "tags": kv()},
        {
            "accessPointId": "fsap-0a1b2c3d4e5f60001",
            "accessPointArn": a("elasticfilesystem", "access-point/fsap-0a1b2c3d4e5f60001"),
            "fileSystemId": "fs-0a1b2c3d4e5f60001",
            "lifeCycleState": "creating",
        },
        Res(
            "AWS::EFS::AccessPoint",
            a("elasticfilesystem", "access-point/fsap-0a1b2c3d4e5f60001"),
            native="fsap-0a1b2c3d4e5f60001",
        ),
    ),
    case(
        "fsx",
        "CreateFileSystem",
        {"fileSystemType": "LUSTRE", "storageCapacity": 1200, "subnetIds": [_SUBNET], "tags": kv()},
        {
            "fileSystem": {
                "ownerId": ACCOUNT,
                "fileSystemId": "fs-0123456789abcdef1",
                "fileSystemType": "LUSTRE",
                "lifecycle": "CREATING",
                "resourceARN": a("fsx", "file-system/fs-0123456789abcdef1"),
            }
        },
        Res(
            "AWS::FSx::FileSystem",
            a("fsx", "file-system/fs-0123456789abcdef1"),
            native="fs-0123456789abcdef1",
        ),
    ),
    case(
        "backup",
        "CreateBackupVault",
        {"backupVaultName": "agent-vault", "backupVaultTags": TAGS},
        {
            "backupVaultName": "agent-vault",
            "backupVaultArn": a("backup", "backup-vault:agent-vault"),
            "creationDate": "Nov 29, 2026, 10:00:00 AM",
        },
        Res("AWS::Backup::BackupVault", a("backup", "backup-vault:agent-vault"), name="agent-vault"),
    ),
    case(
        "backup",
        "CreateBackupPlan",
        {"backupPlan": {"backupPlanName": "nightly", "rules": []}, "backupPlanTags": TAGS},
        {
            "backupPlanId": "8c2b3d4e-1111-2222-3333-444455556666",
            "backupPlanArn": a("backup", "backup-plan:8c2b3d4e-1111-2222-3333-444455556666"),
            "versionId": "ZmIyNjU0",
        },
        Res(
            "AWS::Backup::BackupPlan",
            a("backup", "backup-plan:8c2b3d4e-1111-2222-3333-444455556666"),
            name="nightly",
        ),
    ),
    case(
        "glacier",
        "CreateVault",
        {"accountId": "-", "vaultName": "cold-archive"},
        {"location": f"/{ACCOUNT}/vaults/cold-archive"},
        Res("AWS::Glacier::Vault", a("glacier", "vaults/cold-archive"), name="cold-archive"),
        tags={},
    ),
    case(
        "datasync",
        "CreateTask",
        {
            "name": "sync-datasets",
            "sourceLocationArn": a("datasync", "location/loc-04aaa9c609812135d"),
            "destinationLocationArn": a("datasync", "location/loc-020c33c5d9966f40a"),
            "tags": kv(),
        },
        {"taskArn": a("datasync", "task/task-00e5db3f3f41f6cd2")},
        Res("AWS::DataSync::Task", a("datasync", "task/task-00e5db3f3f41f6cd2"), name="sync-datasets"),
    ),
    case(
        "dynamodb",
        "CreateTable",
        {
            "tableName": "agent-memory",
            "billingMode": "PAY_PER_REQUEST",
            "keySchema": [{"attributeName": "pk", "keyType": "HASH"}],
            "attributeDefinitions": [{"attributeName": "pk", "attributeType": "S"}],
            "tags": kv(),
        },
        {
            "tableDescription": {
                "tableName": "agent-memory",
                "tableArn": a("dynamodb", "table/agent-memory"),
                "tableId": "2b3c4d5e-6f70-4182-93a4-b5c6d7e8f901",
                "tableStatus": "CREATING",
            }
        },
        Res("AWS::DynamoDB::Table", a("dynamodb", "table/agent-memory"), name="agent-memory"),
    ),
    case(
        "dynamodb",
        "RestoreTableFromBackup",
        {
            "targetTableName": "agent-memory-restored",
            "backupArn": a("dynamodb", "table/agent-memory/backup/01700000000000-abcdefgh"),
        },
        {
            "tableDescription": {
                "tableName": "agent-memory-restored",
                "tableArn": a("dynamodb", "table/agent-memory-restored"),
                "tableStatus": "CREATING",
            }
        },
        Res(
            "AWS::DynamoDB::Table",
            a("dynamodb", "table/agent-memory-restored"),
            name="agent-memory-restored",
        ),
        tags={},
    ),
    case(
        "dynamodb",
        "RestoreTableToPointInTime",
        {
            "sourceTableName": "agent-memory",
            "targetTableName": "agent-memory-pitr",
            "useLatestRestorableTime": True,
        },
        {
            "tableDescription": {
                "tableName": "agent-memory-pitr",
                "tableArn": a("dynamodb", "table/agent-memory-pitr"),
                "tableStatus": "CREATING",
            }
        },
        Res("AWS::DynamoDB::Table", a("dynamodb", "table/agent-memory-pitr"), name="agent-memory-pitr"),
        tags={},
    ),
    case(
        "dax",
        "CreateCluster",
        {"clusterName": "agentcache", "nodeType": "dax.r5.large", "replicationFactor": 3, "tags": kv()},
        {
            "cluster": {
                "clusterName": "agentcache",
                "clusterArn": a("dax", "cache/agentcache"),
                "status": "creating",
            }
        },
        Res("AWS::DAX::Cluster", a("dax", "cache/agentcache"), name="agentcache"),
    ),
    _rds(
        "CreateDBInstance",
        {"dBInstanceIdentifier": "agent-pg", "engine": "postgres", "dBInstanceClass": "db.t4g.micro"},
        {
            "dBInstanceIdentifier": "agent-pg",
            "dBInstanceArn": _DB,
            "dBInstanceStatus": "creating",
            "engine": "postgres",
            "dbiResourceId": "db-ABCDEFGHIJKLMNOPQRSTUVWXY",
        },
        Res("AWS::RDS::DBInstance", _DB, name="agent-pg"),
    ),
    _rds(
        "CreateDBInstanceReadReplica",
        {"dBInstanceIdentifier": "agent-pg-ro", "sourceDBInstanceIdentifier": "agent-pg"},
        {
            "dBInstanceIdentifier": "agent-pg-ro",
            "dBInstanceArn": a("rds", "db:agent-pg-ro"),
            "dBInstanceStatus": "creating",
            "readReplicaSourceDBInstanceIdentifier": "agent-pg",
        },
        Res("AWS::RDS::DBInstance", a("rds", "db:agent-pg-ro"), name="agent-pg-ro"),
    ),
    _rds(
        "RestoreDBInstanceFromDBSnapshot",
        {"dBInstanceIdentifier": "agent-pg-restore", "dBSnapshotIdentifier": "agent-pg-snap"},
        {
            "dBInstanceIdentifier": "agent-pg-restore",
            "dBInstanceArn": a("rds", "db:agent-pg-restore"),
            "dBInstanceStatus": "creating",
        },
        Res("AWS::RDS::DBInstance", a("rds", "db:agent-pg-restore"), name="agent-pg-restore"),
    ),
    _rds(
        "RestoreDBInstanceToPointInTime",
        {
            "sourceDBInstanceIdentifier": "agent-pg",
            "targetDBInstanceIdentifier": "agent-pg-pitr",
            "useLatestRestorableTime": True,
        },
        {
            "dBInstanceIdentifier": "agent-pg-pitr",
            "dBInstanceArn": a("rds", "db:agent-pg-pitr"),
            "dBInstanceStatus": "creating",
        },
        Res("AWS::RDS::DBInstance", a("rds", "db:agent-pg-pitr"), name="agent-pg-pitr"),
    ),
    _rds(
        "CreateDBCluster",
        {"dBClusterIdentifier": "agent-aurora", "engine": "aurora-postgresql", "masterUsername": "admin"},
        {
            "dBClusterIdentifier": "agent-aurora",
            "dBClusterArn": _DBC,
            "status": "creating",
            "engine": "aurora-postgresql",
        },
        Res("AWS::RDS::DBCluster", _DBC, name="agent-aurora"),
    ),
    _rds(
        "RestoreDBClusterFromSnapshot",
        {
            "dBClusterIdentifier": "agent-aurora-restore",
            "snapshotIdentifier": "agent-aurora-snap",
            "engine": "aurora-postgresql",
        },
        {
            "dBClusterIdentifier": "agent-aurora-restore",
            "dBClusterArn": a("rds", "cluster:agent-aurora-restore"),
            "status": "creating",
        },
        Res("AWS::RDS::DBCluster", a("rds", "cluster:agent-aurora-restore"), name="agent-aurora-restore"),
    ),
    _rds(
        "RestoreDBClusterToPointInTime",
        {"dBClusterIdentifier": "agent-aurora-pitr", "sourceDBClusterIdentifier": "agent-aurora"},
        {
            "dBClusterIdentifier": "agent-aurora-pitr",
            "dBClusterArn": a("rds", "cluster:agent-aurora-pitr"),
            "status": "creating",
        },
        Res("AWS::RDS::DBCluster", a("rds", "cluster:agent-aurora-pitr"), name="agent-aurora-pitr"),
    ),
    _rds(
        "CreateDBSnapshot",
        {"dBSnapshotIdentifier": "agent-pg-snap", "dBInstanceIdentifier": "agent-pg"},
        {
            "dBSnapshotIdentifier": "agent-pg-snap",
            "dBInstanceIdentifier": "agent-pg",
            "dBSnapshotArn": a("rds", "snapshot:agent-pg-snap"),
            "status": "creating",
            "snapshotType": "manual",
        },
        Res("AWS::RDS::DBSnapshot", a("rds", "snapshot:agent-pg-snap"), name="agent-pg-snap"),
    ),
    _rds(
        "CopyDBSnapshot",
        {
            "sourceDBSnapshotIdentifier": a("rds", "snapshot:agent-pg-snap", region="us-west-2"),
            "targetDBSnapshotIdentifier": "agent-pg-snap-copy",
            "copyTags": False,
        },
        {
            "dBSnapshotIdentifier": "agent-pg-snap-copy",
            "dBSnapshotArn": a("rds", "snapshot:agent-pg-snap-copy"),
            "status": "pending",
        },
        Res("AWS::RDS::DBSnapshot", a("rds", "snapshot:agent-pg-snap-copy"), name="agent-pg-snap-copy"),
    ),
    _rds(
        "CreateDBClusterSnapshot",
        {"dBClusterSnapshotIdentifier": "agent-aurora-snap", "dBClusterIdentifier": "agent-aurora"},
        {
            "dBClusterSnapshotIdentifier": "agent-aurora-snap",
            "dBClusterIdentifier": "agent-aurora",
            "dBClusterSnapshotArn": a("rds", "cluster-snapshot:agent-aurora-snap"),
            "status": "creating",
        },
        Res(
            "AWS::RDS::DBClusterSnapshot",
            a("rds", "cluster-snapshot:agent-aurora-snap"),
            name="agent-aurora-snap",
        ),
    ),
    _rds(
        "CopyDBClusterSnapshot",
        {
            "sourceDBClusterSnapshotIdentifier": a(
                "rds", "cluster-snapshot:agent-aurora-snap", region="us-west-2"
            ),
            "targetDBClusterSnapshotIdentifier": "agent-aurora-snap-copy",
        },
        {
            "dBClusterSnapshotIdentifier": "agent-aurora-snap-copy",
            "dBClusterSnapshotArn": a("rds", "cluster-snapshot:agent-aurora-snap-copy"),
            "status": "copying",
        },
        Res(
            "AWS::RDS::DBClusterSnapshot",
            a("rds", "cluster-snapshot:agent-aurora-snap-copy"),
            name="agent-aurora-snap-copy",
        ),
    ),
    _rds(
        "CreateDBSubnetGroup",
        {
            "dBSubnetGroupName": "agent-db-subnets",
            "dBSubnetGroupDescription": "agents",
            "subnetIds": [_SUBNET, "subnet-0fedcba9876543210"],
        },
        {
            "dBSubnetGroupName": "agent-db-subnets",
            "vpcId": _VPC,
            "subnetGroupStatus": "Complete",
            "dBSubnetGroupArn": a("rds", "subgrp:agent-db-subnets"),
        },
        Res("AWS::RDS::DBSubnetGroup", a("rds", "subgrp:agent-db-subnets"), name="agent-db-subnets"),
    ),
    _rds(
        "CreateDBParameterGroup",
        {
            "dBParameterGroupName": "agent-pg16",
            "dBParameterGroupFamily": "postgres16",
            "description": "agents",
        },
        {
            "dBParameterGroupName": "agent-pg16",
            "dBParameterGroupFamily": "postgres16",
            "dBParameterGroupArn": a("rds", "pg:agent-pg16"),
        },
        Res("AWS::RDS::DBParameterGroup", a("rds", "pg:agent-pg16"), name="agent-pg16"),
    ),
    _rds(
        "CreateDBClusterParameterGroup",
        {
            "dBClusterParameterGroupName": "agent-aurora-pg16",
            "dBParameterGroupFamily": "aurora-postgresql16",
            "description": "agents",
        },
        {
            "dBClusterParameterGroupName": "agent-aurora-pg16",
            "dBClusterParameterGroupArn": a("rds", "cluster-pg:agent-aurora-pg16"),
        },
        Res(
            "AWS::RDS::DBClusterParameterGroup",
            a("rds", "cluster-pg:agent-aurora-pg16"),
            name="agent-aurora-pg16",
        ),
    ),
    _rds(
        "CreateOptionGroup",
        {"optionGroupName": "agent-mysql", "engineName": "mysql", "majorEngineVersion": "8.0"},
        {
            "optionGroupName": "agent-mysql",
            "engineName": "mysql",
            "optionGroupArn": a("rds", "og:agent-mysql"),
        },
        Res("AWS::RDS::OptionGroup", a("rds", "og:agent-mysql"), name="agent-mysql"),
    ),
    case(
        "elasticache",
        "CreateCacheCluster",
        {"cacheClusterId": "agent-cache", "engine": "memcached", "numCacheNodes": 2, "tags": kv()},
        {
            "cacheClusterId": "agent-cache",
            "cacheClusterStatus": "creating",
            "engine": "memcached",
            "numCacheNodes": 2,
        },
        Res("AWS::ElastiCache::CacheCluster", a("elasticache", "cluster:agent-cache"), name="agent-cache"),
    ),
    case(
        "elasticache",
        "CreateReplicationGroup",
        {
            "replicationGroupId": "agent-redis",
            "replicationGroupDescription": "agents",
            "engine": "redis",
            "tags": kv(),
        },
        {"replicationGroupId": "agent-redis", "status": "creating", "description": "agents"},
        Res(
            "AWS::ElastiCache::ReplicationGroup",
            a("elasticache", "replicationgroup:agent-redis"),
            name="agent-redis",
        ),
    ),
    case(
        "elasticache",
        "CreateServerlessCache",
        {"serverlessCacheName": "agent-valkey", "engine": "valkey", "tags": kv()},
        {
            "serverlessCache": {
                "serverlessCacheName": "agent-valkey",
                "status": "creating",
                "aRN": a("elasticache", "serverlesscache:agent-valkey"),
            }
        },
        Res(
            "AWS::ElastiCache::ServerlessCache",
            a("elasticache", "serverlesscache:agent-valkey"),
            name="agent-valkey",
        ),
    ),
    case(
        "memorydb",
        "CreateCluster",
        {"clusterName": "agent-mem", "nodeType": "db.r7g.large", "aCLName": "open-access", "tags": kv()},
        {"cluster": {"name": "agent-mem", "status": "creating", "aRN": a("memorydb", "cluster/agent-mem")}},
        Res("AWS::MemoryDB::Cluster", a("memorydb", "cluster/agent-mem"), name="agent-mem"),
    ),
    case(
        "redshift",
        "CreateCluster",
        {
            "clusterIdentifier": "agent-dw",
            "nodeType": "ra3.xlplus",
            "masterUsername": "awsuser",
            "masterUserPassword": "****",
            "tags": kv(),
        },
        {
            "clusterIdentifier": "agent-dw",
            "nodeType": "ra3.xlplus",
            "clusterStatus": "creating",
            "masterUsername": "awsuser",
            "tags": kv(),
        },
        Res("AWS::Redshift::Cluster", a("redshift", "cluster:agent-dw"), name="agent-dw"),
    ),
    case(
        "redshift-serverless",
        "CreateNamespace",
        {"namespaceName": "agent-ns", "dbName": "dev", "tags": kv()},
        {
            "namespace": {
                "namespaceName": "agent-ns",
                "namespaceId": "8b726a0c-16ca-4799-acca-1d27cb403599",
                "namespaceArn": a("redshift-serverless", "namespace/8b726a0c-16ca-4799-acca-1d27cb403599"),
                "status": "AVAILABLE",
            }
        },
        Res(
            "AWS::RedshiftServerless::Namespace",
            a("redshift-serverless", "namespace/8b726a0c-16ca-4799-acca-1d27cb403599"),
            name="agent-ns",
        ),
    ),
    case(
        "redshift-serverless",
        "CreateWorkgroup",
        {"workgroupName": "agent-wg", "namespaceName": "agent-ns", "baseCapacity": 8, "tags": kv()},
        {
            "workgroup": {
                "workgroupName": "agent-wg",
                "workgroupId": "3f1c2d3e-4a5b-6c7d-8e9f-0a1b2c3d4e5f",
                "workgroupArn": a("redshift-serverless", "workgroup/3f1c2d3e-4a5b-6c7d-8e9f-0a1b2c3d4e5f"),
                "status": "CREATING",
            }
        },
        Res(
            "AWS::RedshiftServerless::Workgroup",
            a("redshift-serverless", "workgroup/3f1c2d3e-4a5b-6c7d-8e9f-0a1b2c3d4e5f"),
            name="agent-wg",
        ),
    ),
    case(
        "docdb-elastic",
        "CreateCluster",
        {"clusterName": "agent-docs", "authType": "PLAIN_TEXT", "shardCapacity": 2, "tags": TAGS},
        {
            "cluster": {
                "clusterName": "agent-docs",
                "clusterArn": a("docdb-elastic", "cluster/0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9"),
                "status": "CREATING",
            }
        },
        Res(
            "AWS::DocDBElastic::Cluster",
            a("docdb-elastic", "cluster/0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9"),
            name="agent-docs",
        ),
    ),
    case(
        "timestream",
        "CreateDatabase",
        {"databaseName": "telemetry", "tags": kv()},
        {
            "database": {
                "arn": a("timestream", "database/telemetry"),
                "databaseName": "telemetry",
                "tableCount": 0,
            }
        },
        Res("AWS::Timestream::Database", a("timestream", "database/telemetry"), name="telemetry"),
    ),
    case(
        "timestream",
        "CreateTable",
        {"databaseName": "telemetry", "tableName": "tokens", "tags": kv()},
        {
            "table": {
                "arn": a("timestream", "database/telemetry/table/tokens"),
                "tableName": "tokens",
                "databaseName": "telemetry",
                "tableStatus": "ACTIVE",
            }
        },
        Res("AWS::Timestream::Table", a("timestream", "database/telemetry/table/tokens"), name="tokens"),
    ),
    case(
        "neptune-graph",
        "CreateGraph",
        {"graphName": "kg", "provisionedMemory": 16, "tags": TAGS},
        {
            "id": "g-0a1b2c3d4e",
            "name": "kg",
            "arn": a("neptune-graph", "graph/g-0a1b2c3d4e"),
            "status": "CREATING",
        },
        Res("AWS::NeptuneGraph::Graph", a("neptune-graph", "graph/g-0a1b2c3d4e"), name="kg"),
    ),
    case(
        "dms",
        "CreateReplicationInstance",
        {
            "replicationInstanceIdentifier": "agent-dms",
            "replicationInstanceClass": "dms.t3.medium",
            "tags": kv(),
        },
        {
            "replicationInstance": {
                "replicationInstanceIdentifier": "agent-dms",
                "replicationInstanceArn": a("dms", "rep:ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
                "replicationInstanceStatus": "creating",
            }
        },
        Res("AWS::DMS::ReplicationInstance", a("dms", "rep:ABCDEFGHIJKLMNOPQRSTUVWXYZ"), name="agent-dms"),
    ),
    case(
        "dms",
        "CreateEndpoint",
        {"endpointIdentifier": "src-pg", "endpointType": "source", "engineName": "postgres", "tags": kv()},
        {
            "endpoint": {
                "endpointIdentifier": "src-pg",
                "endpointType": "SOURCE",
                "endpointArn": a("dms", "endpoint:BCDEFGHIJKLMNOPQRSTUVWXYZA"),
                "status": "active",
            }
        },
        Res("AWS::DMS::Endpoint", a("dms", "endpoint:BCDEFGHIJKLMNOPQRSTUVWXYZA"), name="src-pg"),
    ),
    case(
        "dms",
        "CreateReplicationTask",
        {
            "replicationTaskIdentifier": "pg-to-s3",
            "migrationType": "full-load",
            "sourceEndpointArn": a("dms", "endpoint:BCDEFGHIJKLMNOPQRSTUVWXYZA"),
            "tags": kv(),
        },
        {
            "replicationTask": {
                "replicationTaskIdentifier": "pg-to-s3",
                "replicationTaskArn": a("dms", "task:CDEFGHIJKLMNOPQRSTUVWXYZAB"),
                "status": "creating",
            }
        },
        Res("AWS::DMS::ReplicationTask", a("dms", "task:CDEFGHIJKLMNOPQRSTUVWXYZAB"), name="pg-to-s3"),
    ),
)


def _glue(
    event: str, request: dict[str, Any], response: dict[str, Any] | None, rtype: str, arn_: str
) -> Case:
    name = arn_.rsplit("/", 1)[-1]
    return case("glue", event, {**request, "tags": TAGS}, response, Res(rtype, a("glue", arn_), name=name))


ANALYTICS_CASES: tuple[Case, ...] = (
    case(
        "cloudsearch",
        "CreateDomain",
        {"domainName": "test-domain"},
        {
            "domainStatus": {
                "aRN": a("cloudsearch", "domain/test-domain"),
                "searchInstanceCount": 0,
                "docService": {},
                "requiresIndexDocuments": False,
                "deleted": False,
                "searchService": {},
                "domainId": f"{ACCOUNT}/test-domain",
                "processing": False,
                "created": True,
                "searchPartitionCount": 0,
                "domainName": "test-domain",
            }
        },
        Res("AWS::CloudSearch::Domain", a("cloudsearch", "domain/test-domain"), name="test-domain"),
        tags={},
    ),
    case(
        "kinesis",
        "CreateStream",
        {"streamName": "agent-events", "shardCount": 2, "tags": TAGS},
        None,
        Res("AWS::Kinesis::Stream", a("kinesis", "stream/agent-events"), name="agent-events"),
    ),
    case(
        "firehose",
        "CreateDeliveryStream",
        {
            "deliveryStreamName": "agent-events-to-s3",
            "deliveryStreamType": "DirectPut",
            "extendedS3DestinationConfiguration": {"bucketARN": "arn:aws:s3:::agent-lake"},
            "tags": kv(),
        },
        {"deliveryStreamARN": a("firehose", "deliverystream/agent-events-to-s3")},
        Res(
            "AWS::KinesisFirehose::DeliveryStream",
            a("firehose", "deliverystream/agent-events-to-s3"),
            name="agent-events-to-s3",
            native="agent-events-to-s3",
        ),
    ),
    case(
        "kinesisvideo",
        "CreateStream",
        {"streamName": "camera-1", "dataRetentionInHours": 24, "tags": TAGS},
        {"streamARN": a("kinesisvideo", "stream/camera-1/1700000000000")},
        Res("AWS::KinesisVideo::Stream", a("kinesisvideo", "stream/camera-1/1700000000000"), name="camera-1"),
    ),
    case(
        "kinesisanalytics",
        "CreateApplication",
        {"applicationName": "flink-enrich", "runtimeEnvironment": "FLINK-1_20", "tags": kv()},
        {
            "applicationDetail": {
                "applicationARN": a("kinesisanalytics", "application/flink-enrich"),
                "applicationName": "flink-enrich",
                "applicationStatus": "READY",
                "applicationVersionId": 1,
            }
        },
        Res(
            "AWS::KinesisAnalyticsV2::Application",
            a("kinesisanalytics", "application/flink-enrich"),
            name="flink-enrich",
        ),
    ),
    case(
        "kafka",
        "CreateCluster",
        {"clusterName": "agent-msk", "kafkaVersion": "3.6.0", "numberOfBrokerNodes": 3, "tags": TAGS},
        {
            "clusterArn": a("kafka", "cluster/agent-msk/5f8a1b2c-3d4e-5f60-7182-93a4b5c6d7e8-2"),
            "clusterName": "agent-msk",
            "state": "CREATING",
        },
        Res(
            "AWS::MSK::Cluster",
            a("kafka", "cluster/agent-msk/5f8a1b2c-3d4e-5f60-7182-93a4b5c6d7e8-2"),
            name="agent-msk",
        ),
    ),
    case(
        "kafka",
        "CreateClusterV2",
        {"clusterName": "agent-msk-sl", "serverless": {"vpcConfigs": []}, "tags": TAGS},
        {
            "clusterArn": a("kafka", "cluster/agent-msk-sl/6a9b2c3d-4e5f-6071-8293-a4b5c6d7e8f9-s1"),
            "clusterName": "agent-msk-sl",
            "clusterType": "SERVERLESS",
            "state": "CREATING",
        },
        Res(
            "AWS::MSK::Cluster",
            a("kafka", "cluster/agent-msk-sl/6a9b2c3d-4e5f-6071-8293-a4b5c6d7e8f9-s1"),
            name="agent-msk-sl",
        ),
    ),
    _glue(
        "CreateJob",
        {"name": "etl-tickets", "role": "glue-etl", "command": {"name": "glueetl"}},
        {"name": "etl-tickets"},
        "AWS::Glue::Job",
        "job/etl-tickets",
    ),
    _glue(
        "CreateDatabase",
        {"catalogId": ACCOUNT, "databaseInput": {"name": "agent_lake"}},
        None,
        "AWS::Glue::Database",
        "database/agent_lake",
    ),
    _glue(
        "CreateCrawler",
        {"name": "lake-crawler", "role": "glue-crawler", "databaseName": "agent_lake", "targets": {}},
        None,
        "AWS::Glue::Crawler",
        "crawler/lake-crawler",
    ),
    _glue(
        "CreateConnection",
        {"connectionInput": {"name": "pg-conn", "connectionType": "JDBC"}},
        None,
        "AWS::Glue::Connection",
        "connection/pg-conn",
    ),
    _glue(
        "CreateDevEndpoint",
        {"endpointName": "notebook-dev", "roleArn": f"arn:aws:iam::{ACCOUNT}:role/glue-dev"},
        {"endpointName": "notebook-dev", "status": "PROVISIONING"},
        "AWS::Glue::DevEndpoint",
        "devEndpoint/notebook-dev",
    ),
    _glue(
        "CreateTrigger",
        {"name": "nightly-etl", "type": "SCHEDULED", "schedule": "cron(0 2 * * ? *)", "actions": []},
        {"name": "nightly-etl"},
        "AWS::Glue::Trigger",
        "trigger/nightly-etl",
    ),
    _glue(
        "CreateWorkflow",
        {"name": "lake-refresh"},
        {"name": "lake-refresh"},
        "AWS::Glue::Workflow",
        "workflow/lake-refresh",
    ),
    case(
        "glue",
        "CreateRegistry",
        {"registryName": "events", "tags": TAGS},
        {"registryArn": a("glue", "registry/events"), "registryName": "events", "tags": TAGS},
        Res("AWS::Glue::Registry", a("glue", "registry/events"), name="events"),
    ),
    case(
        "athena",
        "CreateWorkGroup",
        {"name": "agents", "configuration": {"enforceWorkGroupConfiguration": True}, "tags": kv()},
        None,
        Res("AWS::Athena::WorkGroup", a("athena", "workgroup/agents"), name="agents"),
    ),
    case(
        "athena",
        "CreateDataCatalog",
        {"name": "lake", "type": "GLUE", "parameters": {"catalog-id": ACCOUNT}, "tags": kv()},
        {"dataCatalog": {"name": "lake", "type": "GLUE", "status": "CREATE_COMPLETE"}},
        Res("AWS::Athena::DataCatalog", a("athena", "datacatalog/lake"), name="lake"),
    ),
    case(
        "elasticmapreduce",
        "RunJobFlow",
        {
            "name": "spark-features",
            "releaseLabel": "emr-7.5.0",
            "instances": {"instanceCount": 3, "masterInstanceType": "m7g.xlarge"},
            "tags": kv(),
        },
        {"jobFlowId": "j-2WDJCGEG4E6AJ", "clusterArn": a("elasticmapreduce", "cluster/j-2WDJCGEG4E6AJ")},
        Res(
            "AWS::EMR::Cluster",
            a("elasticmapreduce", "cluster/j-2WDJCGEG4E6AJ"),
            name="spark-features",
            native="j-2WDJCGEG4E6AJ",
        ),
    ),
    case(
        "emr-serverless",
        "CreateApplication",
        {"name": "spark-adhoc", "releaseLabel": "emr-7.5.0", "type": "SPARK", "tags": TAGS},
        {
            "applicationId": "00fabcdefghijk09",
            "name": "spark-adhoc",
            "arn": a("emr-serverless", "/applications/00fabcdefghijk09"),
        },
        Res(
            "AWS::EMRServerless::Application",
            a("emr-serverless", "/applications/00fabcdefghijk09"),
            name="spark-adhoc",
        ),
    ),
    case(
        "es",
        "CreateDomain",
        {
            "domainName": "agent-search",
            "engineVersion": "OpenSearch_2.17",
            "clusterConfig": {"instanceType": "r7g.large.search", "instanceCount": 2},
            "tagList": kv(),
        },
        {
            "domainStatus": {
                "domainId": f"{ACCOUNT}/agent-search",
                "domainName": "agent-search",
                "aRN": a("es", "domain/agent-search"),
                "created": True,
                "processing": True,
            }
        },
        Res("AWS::OpenSearchService::Domain", a("es", "domain/agent-search"), name="agent-search"),
    ),
    case(
        "es",
        "CreateElasticsearchDomain",
        {"domainName": "legacy-logs", "elasticsearchVersion": "7.10", "tagList": kv()},
        {
            "domainStatus": {
                "domainId": f"{ACCOUNT}/legacy-logs",
                "domainName": "legacy-logs",
                "aRN": a("es", "domain/legacy-logs"),
                "created": True,
            }
        },
        Res("AWS::Elasticsearch::Domain", a("es", "domain/legacy-logs"), name="legacy-logs"),
    ),
    case(
        "aoss",
        "CreateCollection",
        {"name": "rag-vectors", "type": "VECTORSEARCH", "tags": kv()},
        {
            "createCollectionDetail": {
                "id": "07tjusf2h91cunochc",
                "name": "rag-vectors",
                "status": "CREATING",
                "type": "VECTORSEARCH",
                "arn": a("aoss", "collection/07tjusf2h91cunochc"),
            }
        },
        Res(
            "AWS::OpenSearchServerless::Collection",
            a("aoss", "collection/07tjusf2h91cunochc"),
            name="rag-vectors",
        ),
    ),
    case(
        "datapipeline",
        "CreatePipeline",
        {"name": "nightly-copy", "uniqueId": "nightly-copy-1", "tags": kv()},
        {"pipelineId": "df-06372391ZG65EXAMPLE"},
        Res(
            "AWS::DataPipeline::Pipeline",
            a("datapipeline", "pipeline/df-06372391ZG65EXAMPLE"),
            name="nightly-copy",
            native="df-06372391ZG65EXAMPLE",
        ),
    ),
)


def _sm(
    event: str, thing: str, name: str, rtype: str, kind: str, extra: dict[str, Any] | None = None
) -> Case:
    arn_ = a("sagemaker", f"{kind}/{name}")
    return case(
        "sagemaker",
        event,
        {f"{thing}Name": name, **(extra or {}), "tags": kv()},
        {f"{thing}Arn": arn_},
        Res(rtype, arn_, name=name),
    )


_AGENT_ARN = a("bedrock", "agent/AGENT12345")

AI_CASES: tuple[Case, ...] = (
    case(
        "bedrock",
        "CreateAgent",
        {
            "agentName": "support-triage",
            "foundationModel": "anthropic.claude-sonnet-4",
            "instruction": "HIDDEN_DUE_TO_SECURITY_REASONS",
            "tags": TAGS,
        },
        {
            "agent": {
                "agentId": "AGENT12345",
                "agentName": "support-triage",
                "agentArn": _AGENT_ARN,
                "agentStatus": "CREATING",
                "instruction": "HIDDEN_DUE_TO_SECURITY_REASONS",
            }
        },
        Res("AWS::Bedrock::Agent", _AGENT_ARN, name="support-triage"),
    ),
    case(
        "bedrock",
        "CreateAgentAlias",
        {"agentId": "AGENT12345", "agentAliasName": "prod", "tags": TAGS},
        {
            "agentAlias": {
                "agentId": "AGENT12345",
                "agentAliasId": "ALIAS67890",
                "agentAliasName": "prod",
                "agentAliasArn": a("bedrock", "agent-alias/AGENT12345/ALIAS67890"),
                "agentAliasStatus": "CREATING",
            }
        },
        Res("AWS::Bedrock::AgentAlias", a("bedrock", "agent-alias/AGENT12345/ALIAS67890"), name="prod"),
    ),
    case(
        "bedrock",
        "CreateKnowledgeBase",
        {"name": "support-kb", "roleArn": f"arn:aws:iam::{ACCOUNT}:role/kb", "tags": TAGS},
        {
            "knowledgeBase": {
                "knowledgeBaseId": "KB0123ABCD",
                "name": "support-kb",
                "knowledgeBaseArn": a("bedrock", "knowledge-base/KB0123ABCD"),
                "status": "CREATING",
            }
        },
        Res("AWS::Bedrock::KnowledgeBase", a("bedrock", "knowledge-base/KB0123ABCD"), name="support-kb"),
    ),
    case(
        "bedrock",
        "CreateFlow",
        {"name": "ticket-router", "executionRoleArn": f"arn:aws:iam::{ACCOUNT}:role/flow", "tags": TAGS},
        {
            "name": "ticket-router",
            "id": "FLOW123456",
            "arn": a("bedrock", "flow/FLOW123456"),
            "status": "NotPrepared",
        },
        Res("AWS::Bedrock::Flow", a("bedrock", "flow/FLOW123456"), name="ticket-router"),
    ),
    case(
        "bedrock",
        "CreatePrompt",
        {"name": "summarize", "variants": [], "tags": TAGS},
        {
            "name": "summarize",
            "id": "PROMPT1234",
            "arn": a("bedrock", "prompt/PROMPT1234"),
            "version": "DRAFT",
        },
        Res("AWS::Bedrock::Prompt", a("bedrock", "prompt/PROMPT1234"), name="summarize"),
    ),
    case(
        "bedrock",
        "CreateGuardrail",
        {"name": "no-pii", "blockedInputMessaging": "HIDDEN_DUE_TO_SECURITY_REASONS", "tags": kv()},
        {
            "guardrailId": "gr0abc123def",
            "guardrailArn": a("bedrock", "guardrail/gr0abc123def"),
            "version": "DRAFT",
        },
        Res("AWS::Bedrock::Guardrail", a("bedrock", "guardrail/gr0abc123def"), name="no-pii"),
    ),
    case(
        "bedrock",
        "CreateInferenceProfile",
        {
            "inferenceProfileName": "team-claude",
            "modelSource": {"copyFrom": a("bedrock", "inference-profile/us.anthropic.claude-sonnet-4")},
            "tags": kv(),
        },
        {
            "inferenceProfileArn": a("bedrock", "application-inference-profile/x1y2z3w4v5u6"),
            "status": "ACTIVE",
        },
        Res(
            "AWS::Bedrock::ApplicationInferenceProfile",
            a("bedrock", "application-inference-profile/x1y2z3w4v5u6"),
            name="team-claude",
        ),
    ),
    case(
        "bedrock",
        "CreateProvisionedModelThroughput",
        {
            "provisionedModelName": "pt-claude",
            "modelId": "anthropic.claude-v2",
            "modelUnits": 1,
            "tags": kv(),
        },
        {"provisionedModelArn": a("bedrock", "provisioned-model/abcd1234efgh")},
        Res(
            "AWS::Bedrock::ProvisionedModelThroughput",
            a("bedrock", "provisioned-model/abcd1234efgh"),
            name="pt-claude",
        ),
    ),
    case(
        "bedrock",
        "CreateModelCustomizationJob",
        {
            "jobName": "ft-support-v1",
            "customModelName": "support-v1",
            "baseModelIdentifier": "amazon.titan-text-express-v1",
            "jobTags": kv(),
            "customModelTags": kv(ONE),
        },
        {"jobArn": a("bedrock", "model-customization-job/amazon.titan-text-express-v1:0:8k/q4ad8z8tioq8")},
        Res(
            "AWS::Bedrock::ModelCustomizationJob",
            a("bedrock", "model-customization-job/amazon.titan-text-express-v1:0:8k/q4ad8z8tioq8"),
            name="ft-support-v1",
        ),
    ),
    case(
        "bedrock",
        "CreateModelInvocationJob",
        {"jobName": "batch-summaries", "modelId": "anthropic.claude-3-haiku", "tags": kv()},
        {"jobArn": a("bedrock", "model-invocation-job/b7x2k9q1w3e5")},
        Res(
            "AWS::Bedrock::ModelInvocationJob",
            a("bedrock", "model-invocation-job/b7x2k9q1w3e5"),
            name="batch-summaries",
        ),
    ),
    case(
        "bedrock",
        "CreateEvaluationJob",
        {"jobName": "eval-rag", "roleArn": f"arn:aws:iam::{ACCOUNT}:role/eval", "jobTags": kv()},
        {"jobArn": a("bedrock", "evaluation-job/c8y3l0r2x4f6")},
        Res("AWS::Bedrock::EvaluationJob", a("bedrock", "evaluation-job/c8y3l0r2x4f6"), name="eval-rag"),
    ),
    case(
        "bedrock",
        "CreateModelImportJob",
        {"jobName": "import-llama", "importedModelName": "llama-ft", "jobTags": kv()},
        {"jobArn": a("bedrock", "model-import-job/d9z4m1s3y5g7")},
        Res(
            "AWS::Bedrock::ModelImportJob", a("bedrock", "model-import-job/d9z4m1s3y5g7"), name="import-llama"
        ),
    ),
    _sm(
        "CreateEndpoint",
        "endpoint",
        "triage-ep",
        "AWS::SageMaker::Endpoint",
        "endpoint",
        {"endpointConfigName": "triage-cfg"},
    ),
    _sm(
        "CreateEndpointConfig",
        "endpointConfig",
        "triage-cfg",
        "AWS::SageMaker::EndpointConfig",
        "endpoint-config",
    ),
    _sm("CreateModel", "model", "triage-model", "AWS::SageMaker::Model", "model"),
    _sm(
        "CreateNotebookInstance",
        "notebookInstance",
        "agent-nb",
        "AWS::SageMaker::NotebookInstance",
        "notebook-instance",
        {"instanceType": "ml.t3.medium"},
    ),
    _sm("CreateTrainingJob", "trainingJob", "ft-run-7", "AWS::SageMaker::TrainingJob", "training-job"),
    _sm("CreateProcessingJob", "processingJob", "prep-7", "AWS::SageMaker::ProcessingJob", "processing-job"),
    _sm("CreateTransformJob", "transformJob", "score-7", "AWS::SageMaker::TransformJob", "transform-job"),
    _sm(
        "CreateHyperParameterTuningJob",
        "hyperParameterTuningJob",
        "hpo-7",
        "AWS::SageMaker::HyperParameterTuningJob",
        "hyper-parameter-tuning-job",
    ),
    _sm("CreateAutoMLJobV2", "autoMLJob", "automl-7", "AWS::SageMaker::AutoMLJob", "automl-job"),
    _sm("CreateLabelingJob", "labelingJob", "label-7", "AWS::SageMaker::LabelingJob", "labeling-job"),
    _sm("CreateDomain", "domain", "studio", "AWS::SageMaker::Domain", "domain", {"authMode": "IAM"}),
    _sm(
        "CreateUserProfile",
        "userProfile",
        "alice",
        "AWS::SageMaker::UserProfile",
        "user-profile/d-abc123",
        {"domainId": "d-abc123"},
    ),
    _sm(
        "CreateSpace", "space", "shared", "AWS::SageMaker::Space", "space/d-abc123", {"domainId": "d-abc123"}
    ),
    _sm(
        "CreateApp",
        "app",
        "default",
        "AWS::SageMaker::App",
        "app/d-abc123/alice/jupyterlab",
        {"domainId": "d-abc123", "userProfileName": "alice", "appType": "JupyterLab"},
    ),
    _sm("CreatePipeline", "pipeline", "train-eval", "AWS::SageMaker::Pipeline", "pipeline"),
    _sm(
        "CreateModelPackageGroup",
        "modelPackageGroup",
        "triage",
        "AWS::SageMaker::ModelPackageGroup",
        "model-package-group",
    ),
    _sm("CreateFeatureGroup", "featureGroup", "users", "AWS::SageMaker::FeatureGroup", "feature-group"),
    _sm(
        "CreateInferenceComponent",
        "inferenceComponent",
        "triage-ic",
        "AWS::SageMaker::InferenceComponent",
        "inference-component",
        {"endpointName": "triage-ep"},
    ),
    _sm("CreateCluster", "cluster", "hyperpod-1", "AWS::SageMaker::Cluster", "cluster"),
    _sm("CreateExperiment", "experiment", "ablation", "AWS::SageMaker::Experiment", "experiment"),
    _sm("CreateProject", "project", "mlops", "AWS::SageMaker::Project", "project"),
    case(
        "comprehend",
        "CreateDocumentClassifier",
        {"documentClassifierName": "ticket-types", "languageCode": "en", "tags": kv()},
        {"documentClassifierArn": a("comprehend", "document-classifier/ticket-types")},
        Res(
            "AWS::Comprehend::DocumentClassifier",
            a("comprehend", "document-classifier/ticket-types"),
            name="ticket-types",
        ),
    ),
    case(
        "comprehend",
        "CreateEntityRecognizer",
        {"recognizerName": "products", "languageCode": "en", "tags": kv()},
        {"entityRecognizerArn": a("comprehend", "entity-recognizer/products")},
        Res(
            "AWS::Comprehend::EntityRecognizer",
            a("comprehend", "entity-recognizer/products"),
            name="products",
        ),
    ),
    case(
        "comprehend",
        "CreateEndpoint",
        {
            "endpointName": "ticket-types-ep",
            "modelArn": a("comprehend", "document-classifier/ticket-types"),
            "desiredInferenceUnits": 1,
            "tags": kv(),
        },
        {"endpointArn": a("comprehend", "document-classifier-endpoint/ticket-types-ep")},
        Res(
            "AWS::Comprehend::Endpoint",
            a("comprehend", "document-classifier-endpoint/ticket-types-ep"),
            name="ticket-types-ep",
        ),
    ),
    case(
        "kendra",
        "CreateIndex",
        {
            "name": "docs",
            "edition": "DEVELOPER_EDITION",
            "roleArn": f"arn:aws:iam::{ACCOUNT}:role/kendra",
            "tags": kv(),
        },
        {"id": "1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d"},
        Res("AWS::Kendra::Index", a("kendra", "index/1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d"), name="docs"),
    ),
    case(
        "lex",
        "CreateBot",
        {
            "botName": "helpdesk",
            "roleArn": f"arn:aws:iam::{ACCOUNT}:role/lex",
            "idleSessionTTLInSeconds": 300,
            "botTags": TAGS,
        },
        {"botId": "ABCDEF1234", "botName": "helpdesk", "botStatus": "Creating", "botTags": TAGS},
        Res("AWS::Lex::Bot", a("lex", "bot/ABCDEF1234"), name="helpdesk"),
    ),
    case(
        "rekognition",
        "CreateCollection",
        {"collectionId": "faces-lobby", "tags": TAGS},
        {
            "collectionArn": f"aws:rekognition:{REGION}:{ACCOUNT}:collection/faces-lobby",
            "faceModelVersion": "7.0",
            "statusCode": 200,
        },
        Res("AWS::Rekognition::Collection", a("rekognition", "collection/faces-lobby"), name="faces-lobby"),
    ),
    case(
        "rekognition",
        "CreateStreamProcessor",
        {"name": "lobby-cam", "roleArn": f"arn:aws:iam::{ACCOUNT}:role/rek", "tags": TAGS},
        {"streamProcessorArn": a("rekognition", "streamprocessor/lobby-cam")},
        Res(
            "AWS::Rekognition::StreamProcessor",
            a("rekognition", "streamprocessor/lobby-cam"),
            name="lobby-cam",
        ),
    ),
    case(
        "rekognition",
        "CreateProject",
        {"projectName": "defects", "tags": TAGS},
        {"projectArn": a("rekognition", "project/defects/1700000000000")},
        Res("AWS::Rekognition::Project", a("rekognition", "project/defects/1700000000000"), name="defects"),
    ),
    case(
        "transcribe",
        "CreateVocabulary",
        {"vocabularyName": "product-terms", "languageCode": "en-US", "phrases": ["tagwarden"], "tags": kv()},
        {"vocabularyName": "product-terms", "languageCode": "en-US", "vocabularyState": "PENDING"},
        Res("AWS::Transcribe::Vocabulary", a("transcribe", "vocabulary/product-terms"), name="product-terms"),
    ),
    case(
        "forecast",
        "CreateDataset",
        {"datasetName": "demand", "domain": "RETAIL", "datasetType": "TARGET_TIME_SERIES", "tags": kv()},
        {"datasetArn": a("forecast", "dataset/demand")},
        Res("AWS::Forecast::Dataset", a("forecast", "dataset/demand"), name="demand"),
    ),
    case(
        "healthlake",
        "CreateFHIRDatastore",
        {"datastoreName": "clinic", "datastoreTypeVersion": "R4", "tags": kv()},
        {
            "datastoreId": "55576c487ff4975262b10d1d65eb4509",
            "datastoreArn": a("healthlake", "datastore/fhir/55576c487ff4975262b10d1d65eb4509"),
            "datastoreStatus": "CREATING",
        },
        Res(
            "AWS::HealthLake::FHIRDatastore",
            a("healthlake", "datastore/fhir/55576c487ff4975262b10d1d65eb4509"),
            name="clinic",
        ),
    ),
    case(
        "omics",
        "CreateWorkflow",
        {"name": "variant-calling", "engine": "NEXTFLOW", "tags": TAGS},
        {"id": "1002571", "arn": a("omics", "workflow/1002571"), "status": "CREATING", "tags": TAGS},
        Res("AWS::Omics::Workflow", a("omics", "workflow/1002571"), name="variant-calling"),
    ),
)

_APIGW = f"arn:aws:apigateway:{REGION}::"

INTEGRATION_CASES: tuple[Case, ...] = (
    case(
        "pinpoint",
        "CreateCampaign",
        {
            "Description": "spring sale",
            "HoldoutPercent": 0,
            "IsPaused": False,
            "Name": "spring-sale",
            "Schedule": {"Frequency": "ONCE", "IsLocalTime": True, "StartTime": "2026-03-01T00:00:00Z"},
            "SegmentId": "example4da204adf991a80281example",
            "SegmentVersion": 1,
            "application-id": "example71dfa4c1aab66332a5839798f",
            "tags": TAGS,
        },
        {
            "ApplicationId": "example71dfa4c1aab66332a5839798f",
            "CreationDate": "2026-02-03T01:05:16.425Z",
            "Id": "example54a654f80948680cbba240ede",
            "IsPaused": False,
            "Name": "spring-sale",
            "SegmentId": "example4da204adf991a80281example",
            "SegmentVersion": 1,
            "State": {"CampaignStatus": "SCHEDULED"},
            "Version": 1,
        },
        Res(
            "AWS::Pinpoint::Campaign",
            a(
                "mobiletargeting",
                "apps/example71dfa4c1aab66332a5839798f/campaigns/example54a654f80948680cbba240ede",
            ),
            name="spring-sale",
        ),
    ),
    case(
        "sqs",
        "CreateQueue",
        {"queueName": "tickets", "attributes": {"VisibilityTimeout": "60"}, "tags": TAGS},
        {"queueUrl": f"https://sqs.us-east-1.amazonaws.com/{ACCOUNT}/tickets"},
        Res(
            "AWS::SQS::Queue",
            a("sqs", "tickets"),
            name="tickets",
            native=f"https://sqs.us-east-1.amazonaws.com/{ACCOUNT}/tickets",
        ),
    ),
    case(
        "sns",
        "CreateTopic",
        {"name": "alerts", "tags": kv()},
        {"topicArn": a("sns", "alerts")},
        Res("AWS::SNS::Topic", a("sns", "alerts"), name="alerts"),
    ),
    case(
        "amazonmq",
        "CreateBroker",
        {
            "brokerName": "agent-bus",
            "engineType": "RABBITMQ",
            "hostInstanceType": "mq.m7g.large",
            "tags": TAGS,
        },
        {
            "brokerId": "b-1234a5b6-78cd-901e-2fgh-3i45j6k178l9",
            "brokerArn": a("mq", "broker:agent-bus:b-1234a5b6-78cd-901e-2fgh-3i45j6k178l9"),
        },
        Res(
            "AWS::AmazonMQ::Broker",
            a("mq", "broker:agent-bus:b-1234a5b6-78cd-901e-2fgh-3i45j6k178l9"),
            name="agent-bus",
        ),
    ),
    case(
        "states",
        "CreateStateMachine",
        {"name": "ingest", "definition": "{}", "roleArn": f"arn:aws:iam::{ACCOUNT}:role/sfn", "tags": kv()},
        {"stateMachineArn": a("states", "stateMachine:ingest"), "creationDate": "Nov 29, 2026, 10:00:00 AM"},
        Res("AWS::StepFunctions::StateMachine", a("states", "stateMachine:ingest"), name="ingest"),
    ),
    case(
        "states",
        "CreateActivity",
        {"name": "human-review", "tags": kv()},
        {"activityArn": a("states", "activity:human-review"), "creationDate": "Nov 29, 2026, 10:00:00 AM"},
        Res("AWS::StepFunctions::Activity", a("states", "activity:human-review"), name="human-review"),
    ),
    case(
        "events",
        "PutRule",
        {"name": "nightly", "scheduleExpression": "cron(0 3 * * ? *)", "state": "ENABLED", "tags": kv()},
        {"ruleArn": a("events", "rule/nightly")},
        Res("AWS::Events::Rule", a("events", "rule/nightly"), name="nightly"),
    ),
    case(
        "events",
        "CreateEventBus",
        {"name": "agents", "tags": kv()},
        {"eventBusArn": a("events", "event-bus/agents")},
        Res("AWS::Events::EventBus", a("events", "event-bus/agents"), name="agents"),
    ),
    case(
        "pipes",
        "CreatePipe",
        {
            "name": "tickets-to-sfn",
            "source": a("sqs", "tickets"),
            "target": a("states", "stateMachine:ingest"),
            "tags": TAGS,
        },
        {"arn": a("pipes", "pipe/tickets-to-sfn"), "name": "tickets-to-sfn", "currentState": "CREATING"},
        Res("AWS::Pipes::Pipe", a("pipes", "pipe/tickets-to-sfn"), name="tickets-to-sfn"),
    ),
    case(
        "scheduler",
        "CreateScheduleGroup",
        {"name": "agent-jobs", "tags": kv()},
        {"scheduleGroupArn": a("scheduler", "schedule-group/agent-jobs")},
        Res("AWS::Scheduler::ScheduleGroup", a("scheduler", "schedule-group/agent-jobs"), name="agent-jobs"),
    ),
    case(
        "apigateway",
        "CreateRestApi",
        {
            "createRestApiInput": {
                "name": "tools-api",
                "endpointConfiguration": {"types": ["REGIONAL"]},
                "tags": TAGS,
            },
            "template": False,
        },
        {
            "id": "a1b2c3d4e5",
            "name": "tools-api",
            "createdDate": "Nov 29, 2026, 10:00:00 AM",
            "apiKeySource": "HEADER",
            "self": {"restApiId": "a1b2c3d4e5", "template": False},
        },
        Res("AWS::ApiGateway::RestApi", f"{_APIGW}/restapis/a1b2c3d4e5", name="tools-api"),
    ),
    case(
        "apigateway",
        "CreateStage",
        {
            "restApiId": "a1b2c3d4e5",
            "createStageInput": {"deploymentId": "49ijxa", "stageName": "prod", "tags": TAGS},
            "template": False,
        },
        {
            "stageName": "prod",
            "deploymentId": "49ijxa",
            "cacheClusterEnabled": False,
            "self": {"restApiId": "a1b2c3d4e5", "stageName": "prod", "template": False},
        },
        Res(
            "AWS::ApiGateway::Stage", f"{_APIGW}/restapis/a1b2c3d4e5/stages/prod", name="prod", native="prod"
        ),
    ),
    case(
        "apigateway",
        "CreateApi",
        {"name": "chat-http", "protocolType": "HTTP", "tags": TAGS},
        {
            "apiId": "x9y8z7w6v5",
            "apiEndpoint": "https://x9y8z7w6v5.execute-api.us-east-1.amazonaws.com",
            "name": "chat-http",
            "protocolType": "HTTP",
        },
        Res("AWS::ApiGatewayV2::Api", f"{_APIGW}/apis/x9y8z7w6v5", name="chat-http"),
    ),
    case(
        "appsync",
        "CreateGraphqlApi",
        {"name": "agent-graph", "authenticationType": "AWS_IAM", "tags": TAGS},
        {
            "graphqlApi": {
                "name": "agent-graph",
                "apiId": "abcdefghijklmnopqrstuvwxyz",
                "arn": a("appsync", "apis/abcdefghijklmnopqrstuvwxyz"),
                "tags": TAGS,
            }
        },
        Res("AWS::AppSync::GraphQLApi", a("appsync", "apis/abcdefghijklmnopqrstuvwxyz"), name="agent-graph"),
    ),
    case(
        "appmesh",
        "CreateMesh",
        {"meshName": "agents", "spec": {"egressFilter": {"type": "DROP_ALL"}}, "tags": kv()},
        {"mesh": {"meshName": "agents", "metadata": {"arn": a("appmesh", "mesh/agents"), "version": 1}}},
        Res("AWS::AppMesh::Mesh", a("appmesh", "mesh/agents"), name="agents"),
    ),
    case(
        "appmesh",
        "CreateVirtualGateway",
        {"meshName": "agents", "virtualGatewayName": "ingress", "spec": {}, "tags": kv()},
        {
            "virtualGateway": {
                "meshName": "agents",
                "virtualGatewayName": "ingress",
                "metadata": {"arn": a("appmesh", "mesh/agents/virtualGateway/ingress"), "version": 1},
            }
        },
        Res(
            "AWS::AppMesh::VirtualGateway", a("appmesh", "mesh/agents/virtualGateway/ingress"), name="ingress"
        ),
    ),
    case(
        "appmesh",
        "CreateVirtualNode",
        {"meshName": "agents", "virtualNodeName": "crawler", "spec": {}, "tags": kv()},
        {
            "virtualNode": {
                "meshName": "agents",
                "virtualNodeName": "crawler",
                "metadata": {"arn": a("appmesh", "mesh/agents/virtualNode/crawler"), "version": 1},
            }
        },
        Res("AWS::AppMesh::VirtualNode", a("appmesh", "mesh/agents/virtualNode/crawler"), name="crawler"),
    ),
)


def _iam_arn(resource: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:{resource}"


SECURITY_CASES: tuple[Case, ...] = (
    case(
        "iam",
        "CreateServiceLinkedRole",
        {"aWSServiceName": "elasticbeanstalk.amazonaws.com"},
        {
            "role": {
                "path": "/aws-service-role/elasticbeanstalk.amazonaws.com/",
                "roleName": "AWSServiceRoleForElasticBeanstalk",
                "roleId": "AROA1234567890EXAMPLE",
                "arn": f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/elasticbeanstalk.amazonaws.com/"
                "AWSServiceRoleForElasticBeanstalk",
                "createDate": "Nov 29, 2026 10:00:00 AM",
            }
        },
        Res(
            "AWS::IAM::Role",
            f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/elasticbeanstalk.amazonaws.com/"
            "AWSServiceRoleForElasticBeanstalk",
            name="AWSServiceRoleForElasticBeanstalk",
            native="AWSServiceRoleForElasticBeanstalk",
        ),
        tags={},
    ),
    case(
        "guardduty",
        "CreateDetector",
        {"enable": True, "findingPublishingFrequency": "SIX_HOURS", "tags": TAGS},
        {"detectorId": "5ab04b1110c865eecf516eee2435ede7"},
        Res("AWS::GuardDuty::Detector", a("guardduty", "detector/5ab04b1110c865eecf516eee2435ede7")),
    ),
    case(
        "guardduty",
        "CreateIPSet",
        {
            "detectorId": "5ab04b1110c865eecf516eee2435ede7",
            "name": "trusted",
            "format": "TXT",
            "activate": True,
            "location": "https://s3.amazonaws.com/bucket.name/ips.txt",
            "tags": TAGS,
        },
        {"ipSetId": "0cb0141ab9fbde177613ab9436212e90"},
        Res(
            "AWS::GuardDuty::IPSet",
            a(
                "guardduty",
                "detector/5ab04b1110c865eecf516eee2435ede7/ipset/0cb0141ab9fbde177613ab9436212e90",
            ),
            name="trusted",
        ),
    ),
    case(
        "guardduty",
        "CreateThreatIntelSet",
        {
            "detectorId": "5ab04b1110c865eecf516eee2435ede7",
            "name": "Example",
            "format": "TXT",
            "activate": False,
            "location": "https://s3.amazonaws.com/bucket.name/file.txt",
            "tags": TAGS,
        },
        {"threatIntelSetId": "1ab200428351c99d859bf61992460d24"},
        Res(
            "AWS::GuardDuty::ThreatIntelSet",
            a(
                "guardduty",
                "detector/5ab04b1110c865eecf516eee2435ede7/threatintelset/1ab200428351c99d859bf61992460d24",
            ),
            name="Example",
        ),
    ),
    case(
        "guardduty",
        "CreateFilter",
        {
            "detectorId": "5ab04b1110c865eecf516eee2435ede7",
            "name": "archive-low",
            "action": "ARCHIVE",
            "findingCriteria": {"criterion": {"severity": {"lt": 4}}},
            "tags": TAGS,
        },
        {"name": "archive-low"},
        Res(
            "AWS::GuardDuty::Filter",
            a("guardduty", "detector/5ab04b1110c865eecf516eee2435ede7/filter/archive-low"),
            name="archive-low",
        ),
    ),
    *(
        case(
            service,
            event,
            {"name": "block-bad", "changeToken": "l9434322-8685-4ed2-9c5b-9410bexample", "tags": KV()},
            {
                member: {idkey: "12132e64-6750-4725-b714-e7544example", "name": "block-bad"},
                "changeToken": "l9434322-8685-4ed2-9c5b-9410bexample",
            },
            Res(
                rtype,
                f"arn:aws:{service}:{region}:{ACCOUNT}:{kind}/12132e64-6750-4725-b714-e7544example",
                name="block-bad",
            ),
        )
        for service, region in (("waf", ""), ("waf-regional", REGION))
        for event, rtype, member, idkey, kind in (
            ("CreateRule", "AWS::WAF::Rule", "rule", "ruleId", "rule"),
            ("CreateRateBasedRule", "AWS::WAF::RateBasedRule", "rule", "ruleId", "ratebasedrule"),
            ("CreateRuleGroup", "AWS::WAF::RuleGroup", "ruleGroup", "ruleGroupId", "rulegroup"),
        )
    ),
    case(
        "organizations",
        "CreateAccountResult",
        None,
        None,
        Res("AWS::Organizations::Account", "444455556666", name="sandbox-7", native="444455556666"),
        tags={},
        details={
            "createAccountStatus": {
                "id": "car-examplecreateaccountrequestid111",
                "state": "SUCCEEDED",
                "accountName": "sandbox-7",
                "accountId": "444455556666",
                "requestedTimestamp": "Nov 29, 2026 9:20:50 AM",
                "completedTimestamp": "Nov 29, 2026 9:20:53 AM",
            }
        },
    ),
    case(
        "iam",
        "CreateRole",
        {"roleName": "agent-runner", "assumeRolePolicyDocument": "{}", "tags": kv()},
        {
            "role": {
                "path": "/",
                "roleName": "agent-runner",
                "roleId": "AROAEXAMPLEEXAMPLE001",
                "arn": _iam_arn("role/agent-runner"),
                "createDate": "Nov 29, 2026, 10:00:00 AM",
                "tags": kv(),
            }
        },
        Res("AWS::IAM::Role", _iam_arn("role/agent-runner"), name="agent-runner", native="agent-runner"),
    ),
    case(
        "iam",
        "CreateUser",
        {"userName": "ci-bot", "path": "/", "tags": kv()},
        {
            "user": {
                "path": "/",
                "userName": "ci-bot",
                "userId": "AIDAEXAMPLEEXAMPLE002",
                "arn": _iam_arn("user/ci-bot"),
                "createDate": "Nov 29, 2026, 10:00:00 AM",
            }
        },
        Res("AWS::IAM::User", _iam_arn("user/ci-bot"), name="ci-bot", native="ci-bot"),
    ),
    case(
        "iam",
        "CreateInstanceProfile",
        {"instanceProfileName": "agent-ec2", "tags": kv()},
        {
            "instanceProfile": {
                "path": "/",
                "instanceProfileName": "agent-ec2",
                "instanceProfileId": "AIPAEXAMPLEEXAMPLE03",
                "arn": _iam_arn("instance-profile/agent-ec2"),
                "roles": [],
            }
        },
        Res(
            "AWS::IAM::InstanceProfile",
            _iam_arn("instance-profile/agent-ec2"),
            name="agent-ec2",
            native="agent-ec2",
        ),
    ),
    case(
        "iam",
        "CreatePolicy",
        {"policyName": "read-lake", "policyDocument": "{}", "tags": kv()},
        {
            "policy": {
                "policyName": "read-lake",
                "policyId": "ANPAEXAMPLEEXAMPLE04",
                "arn": _iam_arn("policy/read-lake"),
                "defaultVersionId": "v1",
            }
        },
        Res("AWS::IAM::ManagedPolicy", _iam_arn("policy/read-lake"), name="read-lake"),
    ),
    case(
        "iam",
        "CreateOpenIDConnectProvider",
        {
            "url": "https://token.actions.githubusercontent.com",
            "clientIDList": ["sts.amazonaws.com"],
            "tags": kv(),
        },
        {"openIDConnectProviderArn": _iam_arn("oidc-provider/token.actions.githubusercontent.com")},
        Res(
            "AWS::IAM::OIDCProvider",
            _iam_arn("oidc-provider/token.actions.githubusercontent.com"),
            name="https://token.actions.githubusercontent.com",
        ),
    ),
    case(
        "iam",
        "CreateSAMLProvider",
        {"name": "okta", "sAMLMetadataDocument": "<md:EntityDescriptor/>", "tags": kv()},
        {"sAMLProviderArn": _iam_arn("saml-provider/okta")},
        Res("AWS::IAM::SAMLProvider", _iam_arn("saml-provider/okta"), name="okta"),
    ),
    case(
        "kms",
        "CreateKey",
        {
            "keySpec": "SYMMETRIC_DEFAULT",
            "keyUsage": "ENCRYPT_DECRYPT",
            "description": "agent data",
            "tags": [{"tagKey": "team", "tagValue": "ml-platform"}],
        },
        {
            "keyMetadata": {
                "aWSAccountId": ACCOUNT,
                "keyId": "1234abcd-12ab-34cd-56ef-1234567890ab",
                "arn": a("kms", "key/1234abcd-12ab-34cd-56ef-1234567890ab"),
                "keyState": "Enabled",
            }
        },
        Res(
            "AWS::KMS::Key",
            a("kms", "key/1234abcd-12ab-34cd-56ef-1234567890ab"),
            native="1234abcd-12ab-34cd-56ef-1234567890ab",
        ),
        tags={"team": "ml-platform"},
    ),
    case(
        "secretsmanager",
        "CreateSecret",
        {"name": "agent/db", "kmsKeyId": "alias/aws/secretsmanager", "tags": kv()},
        {
            "arn": a("secretsmanager", "secret:agent/db-AbCdEf"),
            "name": "agent/db",
            "versionId": "EXAMPLE1-90ab-cdef-fedc-ba987EXAMPLE",
        },
        Res("AWS::SecretsManager::Secret", a("secretsmanager", "secret:agent/db-AbCdEf"), name="agent/db"),
    ),
    case(
        "acm",
        "RequestCertificate",
        {"domainName": "tools.example.com", "validationMethod": "DNS", "tags": kv()},
        {"certificateArn": a("acm", "certificate/12345678-1234-1234-1234-123456789012")},
        Res(
            "AWS::CertificateManager::Certificate",
            a("acm", "certificate/12345678-1234-1234-1234-123456789012"),
            name="tools.example.com",
        ),
    ),
    case(
        "acm",
        "ImportCertificate",
        {"certificate": {"hb": [45, 45, 10], "position": 1257}, "privateKey": "HIDDEN", "tags": kv()},
        {"certificateArn": a("acm", "certificate/01234567-89ab-cdef-0123-456789abcdef")},
        Res(
            "AWS::CertificateManager::Certificate",
            a("acm", "certificate/01234567-89ab-cdef-0123-456789abcdef"),
        ),
    ),
    case(
        "acm-pca",
        "CreateCertificateAuthority",
        {"certificateAuthorityType": "SUBORDINATE", "certificateAuthorityConfiguration": {}, "tags": kv()},
        {
            "certificateAuthorityArn": a(
                "acm-pca", "certificate-authority/11223344-5566-7788-99aa-bbccddeeff00"
            )
        },
        Res(
            "AWS::ACMPCA::CertificateAuthority",
            a("acm-pca", "certificate-authority/11223344-5566-7788-99aa-bbccddeeff00"),
        ),
    ),
    case(
        "cloudhsm",
        "CreateCluster",
        {"hsmType": "hsm2m.medium", "subnetIds": [_SUBNET], "tagList": kv()},
        {
            "cluster": {
                "clusterId": "cluster-dqf7m6ithhc",
                "hsmType": "hsm2m.medium",
                "state": "CREATE_IN_PROGRESS",
            }
        },
        Res("AWS::CloudHSM::Cluster", a("cloudhsm", "cluster/cluster-dqf7m6ithhc")),
    ),
    case(
        "cognito-idp",
        "CreateUserPool",
        {"poolName": "agent-users", "userPoolTags": TAGS},
        {
            "userPool": {
                "id": "us-east-1_AbCdEfGhI",
                "name": "agent-users",
                "arn": a("cognito-idp", "userpool/us-east-1_AbCdEfGhI"),
                "status": "Enabled",
            }
        },
        Res(
            "AWS::Cognito::UserPool",
            a("cognito-idp", "userpool/us-east-1_AbCdEfGhI"),
            name="agent-users",
            native="us-east-1_AbCdEfGhI",
        ),
    ),
    case(
        "cognito-identity",
        "CreateIdentityPool",
        {"identityPoolName": "agent_pool", "allowUnauthenticatedIdentities": False, "identityPoolTags": TAGS},
        {
            "identityPoolId": "us-east-1:1cf667a2-49a6-454b-9e45-23199EXAMPLE",
            "identityPoolName": "agent_pool",
            "allowUnauthenticatedIdentities": False,
        },
        Res(
            "AWS::Cognito::IdentityPool",
            a("cognito-identity", "identitypool/us-east-1:1cf667a2-49a6-454b-9e45-23199EXAMPLE"),
            name="agent_pool",
        ),
    ),
    case(
        "access-analyzer",
        "CreateAnalyzer",
        {"analyzerName": "account", "type": "ACCOUNT", "tags": TAGS},
        {"arn": a("access-analyzer", "analyzer/account")},
        Res("AWS::AccessAnalyzer::Analyzer", a("access-analyzer", "analyzer/account"), name="account"),
    ),
    case(
        "wafv2",
        "CreateWebACL",
        {"name": "api-acl", "scope": "REGIONAL", "defaultAction": {"allow": {}}, "tags": kv()},
        {
            "summary": {
                "name": "api-acl",
                "id": "ebbcb976-8d59-4d20-8ca8-4ab2f6b7c07b",
                "lockToken": "67551e73-49d8-4363-be48-244deea72ea9",
                "aRN": a("wafv2", "regional/webacl/api-acl/ebbcb976-8d59-4d20-8ca8-4ab2f6b7c07b"),
            }
        },
        Res(
            "AWS::WAFv2::WebACL",
            a("wafv2", "regional/webacl/api-acl/ebbcb976-8d59-4d20-8ca8-4ab2f6b7c07b"),
            name="api-acl",
        ),
    ),
    case(
        "wafv2",
        "CreateIPSet",
        {"name": "blocked", "scope": "REGIONAL", "iPAddressVersion": "IPV4", "addresses": [], "tags": kv()},
        {
            "summary": {
                "name": "blocked",
                "id": "1a2b3c4d-5e6f-7081-92a3-b4c5d6e7f809",
                "aRN": a("wafv2", "regional/ipset/blocked/1a2b3c4d-5e6f-7081-92a3-b4c5d6e7f809"),
            }
        },
        Res(
            "AWS::WAFv2::IPSet",
            a("wafv2", "regional/ipset/blocked/1a2b3c4d-5e6f-7081-92a3-b4c5d6e7f809"),
            name="blocked",
        ),
    ),
    case(
        "organizations",
        "CreateOrganizationalUnit",
        {"parentId": "r-a1b2", "name": "sandboxes", "tags": kv()},
        {
            "organizationalUnit": {
                "id": "ou-a1b2-c3d4e5f6",
                "arn": f"arn:aws:organizations::{ACCOUNT}:ou/o-aa111bb222/ou-a1b2-c3d4e5f6",
                "name": "sandboxes",
            }
        },
        Res(
            "AWS::Organizations::OrganizationalUnit",
            f"arn:aws:organizations::{ACCOUNT}:ou/o-aa111bb222/ou-a1b2-c3d4e5f6",
            name="sandboxes",
            native="ou-a1b2-c3d4e5f6",
        ),
    ),
    case(
        "ram",
        "CreateResourceShare",
        {"name": "share-subnets", "resourceArns": [ec2(f"subnet/{_SUBNET}")], "tags": kv()},
        {
            "resourceShare": {
                "resourceShareArn": a("ram", "resource-share/7ab63972-b505-4e2a-9f4b-EXAMPLE1111"),
                "name": "share-subnets",
                "owningAccountId": ACCOUNT,
                "status": "ACTIVE",
            }
        },
        Res(
            "AWS::RAM::ResourceShare",
            a("ram", "resource-share/7ab63972-b505-4e2a-9f4b-EXAMPLE1111"),
            name="share-subnets",
        ),
    ),
    case(
        "cloudtrail",
        "CreateTrail",
        {"name": "agent-audit", "s3BucketName": "audit-logs", "isMultiRegionTrail": True, "tagsList": kv()},
        {
            "name": "agent-audit",
            "s3BucketName": "audit-logs",
            "isMultiRegionTrail": True,
            "trailARN": a("cloudtrail", "trail/agent-audit"),
        },
        Res("AWS::CloudTrail::Trail", a("cloudtrail", "trail/agent-audit"), name="agent-audit"),
    ),
)

_ALB = a("elasticloadbalancing", "loadbalancer/app/agent-alb/50dc6c495c0c9188")

OPERATIONS_CASES: tuple[Case, ...] = (
    case(
        "directconnect",
        "CreatePrivateVirtualInterface",
        {
            "connectionId": "dxcon-fhajolyy",
            "newPrivateVirtualInterface": {
                "virtualInterfaceName": "MyVirtualInterface",
                "asn": 65000,
                "virtualGatewayId": "vgw-bb09d4a5",
                "vlan": 123,
                "tags": kv(),
            },
        },
        {
            "virtualInterfaceId": "dxvif-fgq61m6w",
            "virtualGatewayId": "vgw-bb09d4a5",
            "virtualInterfaceType": "private",
            "virtualInterfaceName": "MyVirtualInterface",
            "virtualInterfaceState": "pending",
            "ownerAccount": ACCOUNT,
            "vlan": 123,
            "connectionId": "dxcon-fhajolyy",
        },
        Res(
            "AWS::DirectConnect::VirtualInterface",
            a("directconnect", "dxvif/dxvif-fgq61m6w"),
            name="MyVirtualInterface",
        ),
    ),
    case(
        "directconnect",
        "CreatePublicVirtualInterface",
        {
            "connectionId": "dxcon-fhajolyy",
            "newPublicVirtualInterface": {"virtualInterfaceName": "public-1", "vlan": 124, "tags": kv()},
        },
        {"virtualInterfaceId": "dxvif-fgq61m7x", "virtualInterfaceName": "public-1", "vlan": 124},
        Res(
            "AWS::DirectConnect::VirtualInterface",
            a("directconnect", "dxvif/dxvif-fgq61m7x"),
            name="public-1",
        ),
    ),
    case(
        "directconnect",
        "CreateTransitVirtualInterface",
        {
            "connectionId": "dxcon-fhajolyy",
            "newTransitVirtualInterface": {"virtualInterfaceName": "transit-1", "vlan": 125, "tags": kv()},
        },
        {
            "virtualInterface": {
                "virtualInterfaceId": "dxvif-fgq61m8y",
                "virtualInterfaceName": "transit-1",
                "virtualInterfaceType": "transit",
            }
        },
        Res(
            "AWS::DirectConnect::VirtualInterface",
            a("directconnect", "dxvif/dxvif-fgq61m8y"),
            name="transit-1",
        ),
    ),
    case(
        "elasticloadbalancing",
        "CreateLoadBalancer",
        {
            "name": "agent-alb",
            "subnets": [_SUBNET, "subnet-0fedcba9876543210"],
            "scheme": "internal",
            "tags": kv(),
        },
        {
            "loadBalancers": [
                {
                    "loadBalancerArn": _ALB,
                    "dNSName": "internal-agent-alb-1234567890.us-east-1.elb.amazonaws.com",
                    "loadBalancerName": "agent-alb",
                    "type": "application",
                    "state": {"code": "provisioning"},
                }
            ]
        },
        Res("AWS::ElasticLoadBalancingV2::LoadBalancer", _ALB, name="agent-alb"),
    ),
    case(
        "elasticloadbalancing",
        "CreateTargetGroup",
        {"name": "crawler-tg", "protocol": "HTTP", "port": 8080, "vpcId": _VPC, "tags": kv()},
        {
            "targetGroups": [
                {
                    "targetGroupArn": a("elasticloadbalancing", "targetgroup/crawler-tg/73e2d6bc24d8a067"),
                    "targetGroupName": "crawler-tg",
                    "protocol": "HTTP",
                    "port": 8080,
                }
            ]
        },
        Res(
            "AWS::ElasticLoadBalancingV2::TargetGroup",
            a("elasticloadbalancing", "targetgroup/crawler-tg/73e2d6bc24d8a067"),
            name="crawler-tg",
        ),
    ),
    case(
        "route53",
        "CreateHostedZone",
        {"name": "agents.example.com", "callerReference": "2026-11-29-agent-42", "hostedZoneConfig": {}},
        {
            "hostedZone": {
                "id": "/hostedzone/Z1PA6795UKMFR9",
                "name": "agents.example.com.",
                "callerReference": "2026-11-29-agent-42",
                "resourceRecordSetCount": 2,
            },
            "changeInfo": {"id": "/change/C1PA6795UKMFR9", "status": "PENDING"},
            "delegationSet": {"nameServers": ["ns-1.awsdns-01.org"]},
            "location": "https://route53.amazonaws.com/2013-04-01/hostedzone/Z1PA6795UKMFR9",
        },
        Res("AWS::Route53::HostedZone", "/hostedzone/Z1PA6795UKMFR9", name="agents.example.com."),
        tags={},
    ),
    case(
        "route53",
        "CreateHealthCheck",
        {
            "callerReference": "hc-1",
            "healthCheckConfig": {"iPAddress": "192.0.2.249", "port": 80, "type": "TCP"},
        },
        {
            "healthCheck": {"id": "b3c9cbc6-cd18-43bc-93f8-9e557example", "healthCheckVersion": 1},
            "location": "https://route53.amazonaws.com/2013-04-01/healthcheck/b3c9cbc6-cd18-43bc-93f8-9e557example",
        },
        Res(
            "AWS::Route53::HealthCheck", "arn:aws:route53:::healthcheck/b3c9cbc6-cd18-43bc-93f8-9e557example"
        ),
        tags={},
    ),
    case(
        "route53resolver",
        "CreateResolverEndpoint",
        {"name": "outbound", "direction": "OUTBOUND", "creatorRequestId": "r-1", "tags": kv()},
        {
            "resolverEndpoint": {
                "id": "rslvr-out-1f4031f1f5example",
                "arn": a("route53resolver", "resolver-endpoint/rslvr-out-1f4031f1f5example"),
                "name": "outbound",
                "status": "CREATING",
            }
        },
        Res(
            "AWS::Route53Resolver::ResolverEndpoint",
            a("route53resolver", "resolver-endpoint/rslvr-out-1f4031f1f5example"),
            name="outbound",
        ),
    ),
    case(
        "cloudfront",
        "CreateDistribution",
        {"distributionConfig": {"callerReference": "cf-1", "enabled": True, "origins": {"quantity": 1}}},
        {
            "location": "https://cloudfront.amazonaws.com/2020-05-31/distribution/E53370FUHBNLK",
            "eTag": "E3DFGD1PHNLYY3",
            "distribution": {
                "aRN": f"arn:aws:cloudfront::{ACCOUNT}:distribution/E53370FUHBNLK",
                "id": "E53370FUHBNLK",
                "domainName": "d1bftvz1j2jyjs.cloudfront.net",
                "status": "InProgress",
            },
        },
        Res(
            "AWS::CloudFront::Distribution",
            f"arn:aws:cloudfront::{ACCOUNT}:distribution/E53370FUHBNLK",
            native="E53370FUHBNLK",
        ),
        tags={},
    ),
    case(
        "cloudfront",
        "CreateDistributionWithTags",
        {
            "distributionConfigWithTags": {
                "distributionConfig": {"callerReference": "cf-2", "enabled": True},
                "tags": {"items": kv()},
            }
        },
        {
            "distribution": {
                "aRN": f"arn:aws:cloudfront::{ACCOUNT}:distribution/E2QWRUHAPOMQZL",
                "id": "E2QWRUHAPOMQZL",
                "status": "InProgress",
            }
        },
        Res(
            "AWS::CloudFront::Distribution",
            f"arn:aws:cloudfront::{ACCOUNT}:distribution/E2QWRUHAPOMQZL",
            native="E2QWRUHAPOMQZL",
        ),
    ),
    case(
        "globalaccelerator",
        "CreateAccelerator",
        {"name": "edge", "ipAddressType": "IPV4", "enabled": True, "tags": kv()},
        {
            "accelerator": {
                "acceleratorArn": f"arn:aws:globalaccelerator::{ACCOUNT}:accelerator/0339bfd6-13bc-4d45-a114-5d7fexample",
                "name": "edge",
                "status": "IN_PROGRESS",
            }
        },
        Res(
            "AWS::GlobalAccelerator::Accelerator",
            f"arn:aws:globalaccelerator::{ACCOUNT}:accelerator/0339bfd6-13bc-4d45-a114-5d7fexample",
            name="edge",
        ),
    ),
    case(
        "directconnect",
        "CreateConnection",
        {"location": "EqDC2", "bandwidth": "1Gbps", "connectionName": "dc-link", "tags": kv()},
        {
            "connectionId": "dxcon-fhajolyy",
            "connectionName": "dc-link",
            "connectionState": "requested",
            "region": REGION,
            "ownerAccount": ACCOUNT,
        },
        Res("AWS::DirectConnect::Connection", a("directconnect", "dxcon/dxcon-fhajolyy"), name="dc-link"),
    ),
    case(
        "cloudformation",
        "CreateStack",
        {"stackName": "agent-infra", "templateURL": "https://s3.amazonaws.com/t/agent.yaml", "tags": kv()},
        {"stackId": a("cloudformation", "stack/agent-infra/a38e6a60-b397-11e3-b0fc-08002755629e")},
        Res(
            "AWS::CloudFormation::Stack",
            a("cloudformation", "stack/agent-infra/a38e6a60-b397-11e3-b0fc-08002755629e"),
            name="agent-infra",
        ),
    ),
    case(
        "monitoring",
        "PutMetricAlarm",
        {
            "alarmName": "gpu-idle",
            "metricName": "GPUUtilization",
            "namespace": "CWAgent",
            "threshold": 5.0,
            "comparisonOperator": "LessThanThreshold",
            "evaluationPeriods": 6,
            "tags": kv(),
        },
        None,
        Res("AWS::CloudWatch::Alarm", a("cloudwatch", "alarm:gpu-idle"), name="gpu-idle"),
    ),
    case(
        "monitoring",
        "PutCompositeAlarm",
        {"alarmName": "agent-degraded", "alarmRule": "ALARM(gpu-idle)", "tags": kv()},
        None,
        Res(
            "AWS::CloudWatch::CompositeAlarm", a("cloudwatch", "alarm:agent-degraded"), name="agent-degraded"
        ),
    ),
    case(
        "logs",
        "CreateLogGroup",
        {"logGroupName": "/agents/crawler", "tags": TAGS},
        None,
        Res("AWS::Logs::LogGroup", a("logs", "log-group:/agents/crawler"), name="/agents/crawler"),
    ),
    case(
        "internetmonitor",
        "CreateMonitor",
        {"MonitorName": "edge", "Resources": [ec2(f"vpc/{_VPC}")], "ClientToken": "c-1", "Tags": TAGS},
        {"Arn": a("internetmonitor", "monitor/edge"), "Status": "PENDING"},
        Res("AWS::InternetMonitor::Monitor", a("internetmonitor", "monitor/edge"), name="edge"),
    ),
    case(
        "codebuild",
        "CreateProject",
        {"name": "agent-build", "source": {"type": "GITHUB"}, "tags": kv()},
        {"project": {"name": "agent-build", "arn": a("codebuild", "project/agent-build"), "tags": kv()}},
        Res("AWS::CodeBuild::Project", a("codebuild", "project/agent-build"), name="agent-build"),
    ),
    case(
        "codepipeline",
        "CreatePipeline",
        {
            "pipeline": {"name": "agent-release", "roleArn": f"arn:aws:iam::{ACCOUNT}:role/cp", "stages": []},
            "tags": kv(),
        },
        {
            "pipeline": {"name": "agent-release", "roleArn": f"arn:aws:iam::{ACCOUNT}:role/cp", "version": 1},
            "tags": kv(),
        },
        Res("AWS::CodePipeline::Pipeline", a("codepipeline", "agent-release"), name="agent-release"),
    ),
    case(
        "codecommit",
        "CreateRepository",
        {"repositoryName": "agent-prompts", "tags": TAGS},
        {
            "repositoryMetadata": {
                "accountId": ACCOUNT,
                "repositoryId": "8afe792d-0000-4000-8000-000000000000",
                "repositoryName": "agent-prompts",
                "arn": a("codecommit", "agent-prompts"),
            }
        },
        Res("AWS::CodeCommit::Repository", a("codecommit", "agent-prompts"), name="agent-prompts"),
    ),
    case(
        "codedeploy",
        "CreateApplication",
        {"applicationName": "crawler", "computePlatform": "ECS", "tags": kv()},
        {"applicationId": "5f8a1b2c-0000-4000-8000-000000000001"},
        Res("AWS::CodeDeploy::Application", a("codedeploy", "application:crawler"), name="crawler"),
    ),
    case(
        "codedeploy",
        "CreateDeploymentGroup",
        {
            "applicationName": "crawler",
            "deploymentGroupName": "prod",
            "serviceRoleArn": f"arn:aws:iam::{ACCOUNT}:role/codedeploy",
            "tags": kv(),
        },
        {"deploymentGroupId": "7d64e680-e6f4-4c07-b10a-9e117EXAMPLE"},
        Res(
            "AWS::CodeDeploy::DeploymentGroup",
            a("codedeploy", "deploymentgroup:crawler/prod"),
            name="prod",
            native="prod",
        ),
    ),
    case(
        "servicecatalog-appregistry",
        "CreateApplication",
        {"name": "agent-platform", "clientToken": "6f36d650-a086-47cf-810a-fbfab2f8ad33", "tags": TAGS},
        {
            "application": {
                "applicationArn": a("servicecatalog", "/applications/02ocuq2cie2328pv64ya78e22f"),
                "applicationId": "02ocuq2cie2328pv64ya78e22f",
                "name": "agent-platform",
                "tags": TAGS,
            }
        },
        Res(
            "AWS::ServiceCatalogAppRegistry::Application",
            a("servicecatalog", "/applications/02ocuq2cie2328pv64ya78e22f"),
            name="agent-platform",
        ),
    ),
    case(
        "rbin",
        "CreateRule",
        {
            "resourceType": "EBS_SNAPSHOT",
            "retentionPeriod": {"retentionPeriodValue": 7, "retentionPeriodUnit": "DAYS"},
            "tags": kv(),
        },
        {"identifier": "jkrnexample", "status": "pending", "resourceType": "EBS_SNAPSHOT"},
        Res("AWS::Rbin::Rule", a("rbin", "rule/jkrnexample")),
    ),
    case(
        "transfer",
        "CreateServer",
        {"protocols": ["SFTP"], "identityProviderType": "SERVICE_MANAGED", "tags": kv()},
        {"serverId": "s-b6118b5f29a04a9e8"},
        Res("AWS::Transfer::Server", a("transfer", "server/s-b6118b5f29a04a9e8")),
    ),
    case(
        "opsworks-cm",
        "CreateServer",
        {"serverName": "chef-1", "engine": "ChefAutomate", "instanceType": "m5.large", "tags": kv()},
        {
            "server": {
                "serverName": "chef-1",
                "serverArn": a("opsworks-cm", "server/chef-1/8epp7f6z-e91f-4z10-89z5-8c6219cdb09f"),
                "status": "CREATING",
            }
        },
        Res(
            "AWS::OpsWorksCM::Server",
            a("opsworks-cm", "server/chef-1/8epp7f6z-e91f-4z10-89z5-8c6219cdb09f"),
            name="chef-1",
        ),
    ),
    case(
        "m2",
        "CreateApplication",
        {"name": "cobol-batch", "engineType": "microfocus", "definition": {"content": "{}"}, "tags": TAGS},
        {
            "applicationArn": a("m2", "app/lsfhmwhw7fffrosff2lncwqcua"),
            "applicationId": "lsfhmwhw7fffrosff2lncwqcua",
            "applicationVersion": 1,
        },
        Res("AWS::M2::Application", a("m2", "app/lsfhmwhw7fffrosff2lncwqcua"), name="cobol-batch"),
    ),
    case(
        "mediaconvert",
        "CreateQueue",
        {"name": "transcodes", "description": "", "tags": TAGS},
        {"queue": {"arn": a("mediaconvert", "queues/transcodes"), "name": "transcodes", "status": "ACTIVE"}},
        Res("AWS::MediaConvert::Queue", a("mediaconvert", "queues/transcodes"), name="transcodes"),
    ),
    case(
        "mediastore",
        "CreateContainer",
        {"containerName": "clips", "tags": kv()},
        {"container": {"status": "CREATING", "name": "clips", "aRN": a("mediastore", "container/clips")}},
        Res("AWS::MediaStore::Container", a("mediastore", "container/clips"), name="clips"),
    ),
    case(
        "dataexchange",
        "CreateDataSet",
        {"Name": "prices", "AssetType": "S3_SNAPSHOT", "Description": "daily prices", "Tags": TAGS},
        {
            "Origin": "OWNED",
            "AssetType": "S3_SNAPSHOT",
            "Name": "prices",
            "Arn": a("dataexchange", "data-sets/7a2b3c4d5e6f708192a3b4c5d6e7f809"),
            "Id": "7a2b3c4d5e6f708192a3b4c5d6e7f809",
        },
        Res(
            "AWS::DataExchange::DataSet",
            a("dataexchange", "data-sets/7a2b3c4d5e6f708192a3b4c5d6e7f809"),
            name="prices",
        ),
    ),
    case(
        "voiceid",
        "CreateDomain",
        {"name": "callers", "serverSideEncryptionConfiguration": {"kmsKeyId": "alias/voice"}, "tags": kv()},
        {
            "domain": {
                "arn": a("voiceid", "domain/UcUuCPFOsAjzg9xoByUatN"),
                "domainId": "UcUuCPFOsAjzg9xoByUatN",
                "domainStatus": "ACTIVE",
                "name": "callers",
            }
        },
        Res("AWS::VoiceID::Domain", a("voiceid", "domain/UcUuCPFOsAjzg9xoByUatN"), name="callers"),
    ),
    case(
        "iotsitewise",
        "CreateAsset",
        {"assetName": "Wind Turbine 1", "assetModelId": "a1b2c3d4-5678-90ab-cdef-11111EXAMPLE", "tags": TAGS},
        {
            "assetId": "a1b2c3d4-5678-90ab-cdef-22222EXAMPLE",
            "assetArn": a("iotsitewise", "asset/a1b2c3d4-5678-90ab-cdef-22222EXAMPLE"),
            "assetStatus": {"state": "CREATING"},
        },
        Res(
            "AWS::IoTSiteWise::Asset",
            a("iotsitewise", "asset/a1b2c3d4-5678-90ab-cdef-22222EXAMPLE"),
            name="Wind Turbine 1",
        ),
    ),
    case(
        "iotanalytics",
        "CreateChannel",
        {"channelName": "telemetry", "tags": kv()},
        {
            "channelName": "telemetry",
            "channelArn": a("iotanalytics", "channel/telemetry"),
            "retentionPeriod": {"unlimited": True},
        },
        Res("AWS::IoTAnalytics::Channel", a("iotanalytics", "channel/telemetry"), name="telemetry"),
    ),
    case(
        "iotanalytics",
        "CreateDataset",
        {"datasetName": "daily", "actions": [], "tags": kv()},
        {"datasetName": "daily", "datasetArn": a("iotanalytics", "dataset/daily")},
        Res("AWS::IoTAnalytics::Dataset", a("iotanalytics", "dataset/daily"), name="daily"),
    ),
)

CASES: tuple[Case, ...] = (
    *EC2_CASES,
    *COMPUTE_CASES,
    *DATA_CASES,
    *ANALYTICS_CASES,
    *AI_CASES,
    *INTEGRATION_CASES,
    *SECURITY_CASES,
    *OPERATIONS_CASES,
)
