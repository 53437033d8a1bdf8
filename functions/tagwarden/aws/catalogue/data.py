"""Storage and databases: S3, EFS, FSx, Backup, Glacier, DataSync, DynamoDB, RDS (also Aurora,
DocumentDB and Neptune, which log under rds.amazonaws.com), ElastiCache, MemoryDB, DAX, Redshift,
Redshift Serverless, DocumentDB Elastic, Timestream, Neptune Analytics, DMS.

Query-protocol services (RDS, ElastiCache, Redshift) log the result object flattened into
`responseElements` with lowerCamel members: `responseElements.dBInstanceArn`.
"""

from __future__ import annotations

from tagwarden.aws.catalogue._types import REQ, RESP, Creates, Entry, arn, e, global_arn, row

STORAGE: tuple[Entry, ...] = (
    e(
        "s3",
        "CreateBucket",
        Creates(
            "AWS::S3::Bucket",
            ids=f"{REQ}.bucketName",
            arn=global_arn("s3", "{id}"),
            name=f"{REQ}.bucketName",
            tags=f"{REQ}.CreateBucketConfiguration.Tags.Tag",
            tagger="s3",
        ),
    ),
    row(
        "elasticfilesystem",
        "CreateFileSystem",
        "AWS::EFS::FileSystem",
        f"{RESP}.fileSystemArn",
        native=f"{RESP}.fileSystemId",
        tagger="efs",
    ),
    row(
        "elasticfilesystem",
        "CreateAccessPoint",
        "AWS::EFS::AccessPoint",
        f"{RESP}.accessPointArn",
        native=f"{RESP}.accessPointId",
        tagger="efs",
    ),
    row(
        "fsx",
        "CreateFileSystem",
        "AWS::FSx::FileSystem",
        f"{RESP}.fileSystem.resourceARN",
        native=f"{RESP}.fileSystem.fileSystemId",
        tagger="fsx",
    ),
    row(
        "backup",
        "CreateBackupVault",
        "AWS::Backup::BackupVault",
        f"{RESP}.backupVaultArn",
        name=f"{RESP}.backupVaultName",
        tags=f"{REQ}.backupVaultTags",
        tagger="backup",
    ),
    row(
        "backup",
        "CreateBackupPlan",
        "AWS::Backup::BackupPlan",
        f"{RESP}.backupPlanArn",
        name=f"{REQ}.backupPlan.backupPlanName",
        tags=f"{REQ}.backupPlanTags",
        tagger="backup",
    ),
    # Glacier returns only a Location header; AddTagsToVault takes the vault name.
    row(
        "glacier",
        "CreateVault",
        "AWS::Glacier::Vault",
        f"{REQ}.vaultName",
        arn=arn("glacier", "vaults/{id}"),
        name=f"{REQ}.vaultName",
        tags=None,
        tagger="glacier",
    ),
    row(
        "datasync",
        "CreateTask",
        "AWS::DataSync::Task",
        f"{RESP}.taskArn",
        name=f"{REQ}.name",
        tagger="datasync",
    ),
)

DYNAMODB: tuple[Entry, ...] = (
    # Table ARNs follow from the name (older records carry no tableArn).
    row(
        "dynamodb",
        "CreateTable",
        "AWS::DynamoDB::Table",
        f"{REQ}.tableName",
        arn=arn("dynamodb", "table/{id}"),
        name=f"{REQ}.tableName",
        tagger="dynamodb",
    ),
    row(
        "dynamodb",
        "RestoreTableFromBackup",
        "AWS::DynamoDB::Table",
        f"{REQ}.targetTableName",
        arn=arn("dynamodb", "table/{id}"),
        name=f"{REQ}.targetTableName",
        tags=None,
        tagger="dynamodb",
    ),
    row(
        "dynamodb",
        "RestoreTableToPointInTime",
        "AWS::DynamoDB::Table",
        f"{REQ}.targetTableName",
        arn=arn("dynamodb", "table/{id}"),
        name=f"{REQ}.targetTableName",
        tags=None,
        tagger="dynamodb",
    ),
    row(
        "dax",
        "CreateCluster",
        "AWS::DAX::Cluster",
        f"{RESP}.cluster.clusterArn",
        name=f"{RESP}.cluster.clusterName",
        tagger="dax",
    ),
)


def _rds(event: str, rtype: str, member: str, kind: str) -> Entry:
    # RDS stores identifiers lower-cased: read the one the response echoes (older records carry
    # no ARN member) and build the ARN from it.
    return row(
        "rds",
        event,
        rtype,
        f"{RESP}.{member}",
        arn=arn("rds", f"{kind}:{{id}}"),
        name=f"{RESP}.{member}",
        tagger="rds",
    )


_DB, _CLUSTER = "dBInstanceIdentifier", "dBClusterIdentifier"

RDS: tuple[Entry, ...] = (
    _rds("CreateDBInstance", "AWS::RDS::DBInstance", _DB, "db"),
    _rds("CreateDBInstanceReadReplica", "AWS::RDS::DBInstance", _DB, "db"),
    _rds("RestoreDBInstanceFromDBSnapshot", "AWS::RDS::DBInstance", _DB, "db"),
    _rds("RestoreDBInstanceToPointInTime", "AWS::RDS::DBInstance", _DB, "db"),
    _rds("CreateDBCluster", "AWS::RDS::DBCluster", _CLUSTER, "cluster"),
    _rds("RestoreDBClusterFromSnapshot", "AWS::RDS::DBCluster", _CLUSTER, "cluster"),
    _rds("RestoreDBClusterToPointInTime", "AWS::RDS::DBCluster", _CLUSTER, "cluster"),
    _rds("CreateDBSnapshot", "AWS::RDS::DBSnapshot", "dBSnapshotIdentifier", "snapshot"),
    _rds("CopyDBSnapshot", "AWS::RDS::DBSnapshot", "dBSnapshotIdentifier", "snapshot"),
    _rds(
        "CreateDBClusterSnapshot",
        "AWS::RDS::DBClusterSnapshot",
        "dBClusterSnapshotIdentifier",
        "cluster-snapshot",
    ),
    _rds(
        "CopyDBClusterSnapshot",
        "AWS::RDS::DBClusterSnapshot",
        "dBClusterSnapshotIdentifier",
        "cluster-snapshot",
    ),
    _rds("CreateDBSubnetGroup", "AWS::RDS::DBSubnetGroup", "dBSubnetGroupName", "subgrp"),
    _rds("CreateDBParameterGroup", "AWS::RDS::DBParameterGroup", "dBParameterGroupName", "pg"),
    _rds(
        "CreateDBClusterParameterGroup",
        "AWS::RDS::DBClusterParameterGroup",
        "dBClusterParameterGroupName",
        "cluster-pg",
    ),
    _rds("CreateOptionGroup", "AWS::RDS::OptionGroup", "optionGroupName", "og"),
)

CACHES_AND_WAREHOUSES: tuple[Entry, ...] = (
    # ElastiCache records of these two carry no ARN; the ids are lower-cased by the service, so
    # they are read from the response.
    row(
        "elasticache",
        "CreateCacheCluster",
        "AWS::ElastiCache::CacheCluster",
        f"{RESP}.cacheClusterId",
        arn=arn("elasticache", "cluster:{id}"),
        name=f"{RESP}.cacheClusterId",
        tagger="elasticache",
    ),
    row(
        "elasticache",
        "CreateReplicationGroup",
        "AWS::ElastiCache::ReplicationGroup",
        f"{RESP}.replicationGroupId",
        arn=arn("elasticache", "replicationgroup:{id}"),
        name=f"{RESP}.replicationGroupId",
        tagger="elasticache",
    ),
    row(
        "elasticache",
        "CreateServerlessCache",
        "AWS::ElastiCache::ServerlessCache",
        f"{REQ}.serverlessCacheName",
        arn=arn("elasticache", "serverlesscache:{id}"),
        name=f"{REQ}.serverlessCacheName",
        tagger="elasticache",
    ),
    row(
        "memorydb",
        "CreateCluster",
        "AWS::MemoryDB::Cluster",
        f"{REQ}.clusterName",
        arn=arn("memorydb", "cluster/{id}"),
        name=f"{REQ}.clusterName",
        tagger="memorydb",
    ),
    row(
        "redshift",
        "CreateCluster",
        "AWS::Redshift::Cluster",
        f"{RESP}.clusterIdentifier",
        arn=arn("redshift", "cluster:{id}"),
        name=f"{RESP}.clusterIdentifier",
        tagger="redshift",
    ),
    row(
        "redshift-serverless",
        "CreateNamespace",
        "AWS::RedshiftServerless::Namespace",
        f"{RESP}.namespace.namespaceArn",
        name=f"{RESP}.namespace.namespaceName",
        tagger="redshift-serverless",
    ),
    row(
        "redshift-serverless",
        "CreateWorkgroup",
        "AWS::RedshiftServerless::Workgroup",
        f"{RESP}.workgroup.workgroupArn",
        name=f"{RESP}.workgroup.workgroupName",
        tagger="redshift-serverless",
    ),
    row(
        "docdb-elastic",
        "CreateCluster",
        "AWS::DocDBElastic::Cluster",
        f"{RESP}.cluster.clusterArn",
        name=f"{RESP}.cluster.clusterName",
        tagger="docdb-elastic",
    ),
    row(
        "timestream",
        "CreateDatabase",
        "AWS::Timestream::Database",
        f"{RESP}.database.arn",
        name=f"{RESP}.database.databaseName",
        tagger="timestream",
    ),
    row(
        "timestream",
        "CreateTable",
        "AWS::Timestream::Table",
        f"{RESP}.table.arn",
        name=f"{RESP}.table.tableName",
        tagger="timestream",
    ),
    row(
        "neptune-graph",
        "CreateGraph",
        "AWS::NeptuneGraph::Graph",
        f"{RESP}.arn",
        name=f"{RESP}.name",
        tagger="neptune-graph",
    ),
    row(
        "dms",
        "CreateReplicationInstance",
        "AWS::DMS::ReplicationInstance",
        f"{RESP}.replicationInstance.replicationInstanceArn",
        name=f"{RESP}.replicationInstance.replicationInstanceIdentifier",
        tagger="dms",
    ),
    row(
        "dms",
        "CreateEndpoint",
        "AWS::DMS::Endpoint",
        f"{RESP}.endpoint.endpointArn",
        name=f"{RESP}.endpoint.endpointIdentifier",
        tagger="dms",
    ),
    row(
        "dms",
        "CreateReplicationTask",
        "AWS::DMS::ReplicationTask",
        f"{RESP}.replicationTask.replicationTaskArn",
        name=f"{RESP}.replicationTask.replicationTaskIdentifier",
        tagger="dms",
    ),
)

ENTRIES: tuple[Entry, ...] = (*STORAGE, *DYNAMODB, *RDS, *CACHES_AND_WAREHOUSES)
