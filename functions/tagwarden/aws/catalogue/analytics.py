"""Streaming and analytics: Kinesis (streams, video, analytics), Firehose, MSK, Glue, Athena, EMR,
EMR Serverless, OpenSearch Service and Serverless, CloudSearch, Data Pipeline."""

from __future__ import annotations

from tagwarden.aws.catalogue._types import REQ, RESP, Entry, arn, row


def _glue(event: str, rtype: str, name: str, kind: str) -> Entry:
    # No Glue Create* response carries an ARN (most are empty): the name comes from the request.
    return row(
        "glue",
        event,
        rtype,
        f"{REQ}.{name}",
        arn=arn("glue", f"{kind}/{{id}}"),
        name=f"{REQ}.{name}",
        tagger="glue",
    )


STREAMING: tuple[Entry, ...] = (
    # CreateStream returns an empty body.
    row(
        "kinesis",
        "CreateStream",
        "AWS::Kinesis::Stream",
        f"{REQ}.streamName",
        arn=arn("kinesis", "stream/{id}"),
        name=f"{REQ}.streamName",
        tagger="kinesis",
    ),
    row(
        "firehose",
        "CreateDeliveryStream",
        "AWS::KinesisFirehose::DeliveryStream",
        f"{RESP}.deliveryStreamARN",
        name=f"{REQ}.deliveryStreamName",
        native=f"{REQ}.deliveryStreamName",
        tagger="firehose",
    ),
    row(
        "kinesisvideo",
        "CreateStream",
        "AWS::KinesisVideo::Stream",
        f"{RESP}.streamARN",
        name=f"{REQ}.streamName",
        tagger="kinesisvideo",
    ),
    row(
        "kinesisanalytics",
        "CreateApplication",
        "AWS::KinesisAnalyticsV2::Application",
        f"{RESP}.applicationDetail.applicationARN",
        name=f"{RESP}.applicationDetail.applicationName",
        tagger="kinesisanalytics",
    ),
    row(
        "kafka",
        "CreateCluster",
        "AWS::MSK::Cluster",
        f"{RESP}.clusterArn",
        name=f"{RESP}.clusterName",
        tagger="kafka",
    ),
    row(
        "kafka",
        "CreateClusterV2",
        "AWS::MSK::Cluster",
        f"{RESP}.clusterArn",
        name=f"{RESP}.clusterName",
        tagger="kafka",
    ),
)

GLUE_AND_ATHENA: tuple[Entry, ...] = (
    _glue("CreateJob", "AWS::Glue::Job", "name", "job"),
    _glue("CreateDatabase", "AWS::Glue::Database", "databaseInput.name", "database"),
    _glue("CreateCrawler", "AWS::Glue::Crawler", "name", "crawler"),
    _glue("CreateConnection", "AWS::Glue::Connection", "connectionInput.name", "connection"),
    _glue("CreateDevEndpoint", "AWS::Glue::DevEndpoint", "endpointName", "devEndpoint"),
    _glue("CreateTrigger", "AWS::Glue::Trigger", "name", "trigger"),
    _glue("CreateWorkflow", "AWS::Glue::Workflow", "name", "workflow"),
    row(
        "glue",
        "CreateRegistry",
        "AWS::Glue::Registry",
        f"{RESP}.registryArn",
        name=f"{RESP}.registryName",
        tagger="glue",
    ),
    row(
        "athena",
        "CreateWorkGroup",
        "AWS::Athena::WorkGroup",
        f"{REQ}.name",
        arn=arn("athena", "workgroup/{id}"),
        name=f"{REQ}.name",
        tagger="athena",
    ),
    row(
        "athena",
        "CreateDataCatalog",
        "AWS::Athena::DataCatalog",
        f"{REQ}.name",
        arn=arn("athena", "datacatalog/{id}"),
        name=f"{REQ}.name",
        tagger="athena",
    ),
)

CLUSTERS_AND_SEARCH: tuple[Entry, ...] = (
    # CloudSearch tags domains (cloudsearch:AddTags) but its SDK model has no tag call, and its
    # CreateDomain takes no tags: the generic tagger writes them.
    row(
        "cloudsearch",
        "CreateDomain",
        "AWS::CloudSearch::Domain",
        f"{RESP}.domainStatus.aRN",
        name=f"{RESP}.domainStatus.domainName",
        tags=None,
    ),
    row(
        "elasticmapreduce",
        "RunJobFlow",
        "AWS::EMR::Cluster",
        f"{RESP}.jobFlowId",
        arn=arn("elasticmapreduce", "cluster/{id}"),
        name=f"{REQ}.name",
        tagger="emr",
    ),
    row(
        "emr-serverless",
        "CreateApplication",
        "AWS::EMRServerless::Application",
        f"{RESP}.arn",
        name=f"{RESP}.name",
        tagger="emr-serverless",
    ),
    row(
        "es",
        "CreateDomain",
        "AWS::OpenSearchService::Domain",
        f"{RESP}.domainStatus.aRN",
        name=f"{RESP}.domainStatus.domainName",
        tags=f"{REQ}.tagList",
        tagger="es",
    ),
    row(
        "es",
        "CreateElasticsearchDomain",
        "AWS::Elasticsearch::Domain",
        f"{RESP}.domainStatus.aRN",
        name=f"{RESP}.domainStatus.domainName",
        tags=f"{REQ}.tagList",
        tagger="es",
    ),
    row(
        "aoss",
        "CreateCollection",
        "AWS::OpenSearchServerless::Collection",
        f"{RESP}.createCollectionDetail.arn",
        name=f"{RESP}.createCollectionDetail.name",
        tagger="aoss",
    ),
    row(
        "datapipeline",
        "CreatePipeline",
        "AWS::DataPipeline::Pipeline",
        f"{RESP}.pipelineId",
        arn=arn("datapipeline", "pipeline/{id}"),
        name=f"{REQ}.name",
        tagger="datapipeline",
    ),
)

ENTRIES: tuple[Entry, ...] = (*STREAMING, *GLUE_AND_ATHENA, *CLUSTERS_AND_SEARCH)
