"""AI and ML: Bedrock (models, jobs, guardrails, and the Agents APIs, which log under
bedrock.amazonaws.com too), SageMaker, Comprehend, Kendra, Lex, Rekognition, Transcribe, Forecast,
HealthLake, HealthOmics.

SageMaker requests carry `tags: [{key, value}]` and every Create* response is just `<thing>Arn`.
"""

from __future__ import annotations

from tagwarden.aws.catalogue._types import REQ, RESP, Entry, arn, row


def _bedrock(event: str, rtype: str, ids: str, name: str, tags: str = "tags") -> Entry:
    return row("bedrock", event, rtype, f"{RESP}.{ids}", name=name, tags=f"{REQ}.{tags}", tagger="bedrock")


def _agent(event: str, rtype: str, ids: str, name: str) -> Entry:
    # Agents, knowledge bases, flows and prompts are tagged through the bedrock-agent API.
    return row("bedrock", event, rtype, f"{RESP}.{ids}", name=f"{RESP}.{name}", tagger="bedrock-agent")


def _sagemaker(event: str, rtype: str, thing: str) -> Entry:
    """`CreateX` answers `xArn`; the request names it `xName`."""
    return row(
        "sagemaker",
        event,
        rtype,
        f"{RESP}.{thing}Arn",
        name=f"{REQ}.{thing}Name",
        tagger="sagemaker",
    )


BEDROCK: tuple[Entry, ...] = (
    _agent("CreateAgent", "AWS::Bedrock::Agent", "agent.agentArn", "agent.agentName"),
    _agent(
        "CreateAgentAlias",
        "AWS::Bedrock::AgentAlias",
        "agentAlias.agentAliasArn",
        "agentAlias.agentAliasName",
    ),
    _agent(
        "CreateKnowledgeBase",
        "AWS::Bedrock::KnowledgeBase",
        "knowledgeBase.knowledgeBaseArn",
        "knowledgeBase.name",
    ),
    _agent("CreateFlow", "AWS::Bedrock::Flow", "arn", "name"),
    _agent("CreatePrompt", "AWS::Bedrock::Prompt", "arn", "name"),
    _bedrock("CreateGuardrail", "AWS::Bedrock::Guardrail", "guardrailArn", f"{REQ}.name"),
    _bedrock(
        "CreateInferenceProfile",
        "AWS::Bedrock::ApplicationInferenceProfile",
        "inferenceProfileArn",
        f"{REQ}.inferenceProfileName",
    ),
    _bedrock(
        "CreateProvisionedModelThroughput",
        "AWS::Bedrock::ProvisionedModelThroughput",
        "provisionedModelArn",
        f"{REQ}.provisionedModelName",
    ),
    _bedrock(
        "CreateModelCustomizationJob",
        "AWS::Bedrock::ModelCustomizationJob",
        "jobArn",
        f"{REQ}.jobName",
        tags="jobTags",
    ),
    _bedrock("CreateModelInvocationJob", "AWS::Bedrock::ModelInvocationJob", "jobArn", f"{REQ}.jobName"),
    _bedrock(
        "CreateEvaluationJob", "AWS::Bedrock::EvaluationJob", "jobArn", f"{REQ}.jobName", tags="jobTags"
    ),
    _bedrock(
        "CreateModelImportJob", "AWS::Bedrock::ModelImportJob", "jobArn", f"{REQ}.jobName", tags="jobTags"
    ),
)

SAGEMAKER: tuple[Entry, ...] = (
    _sagemaker("CreateEndpoint", "AWS::SageMaker::Endpoint", "endpoint"),
    _sagemaker("CreateEndpointConfig", "AWS::SageMaker::EndpointConfig", "endpointConfig"),
    _sagemaker("CreateModel", "AWS::SageMaker::Model", "model"),
    _sagemaker("CreateNotebookInstance", "AWS::SageMaker::NotebookInstance", "notebookInstance"),
    _sagemaker("CreateTrainingJob", "AWS::SageMaker::TrainingJob", "trainingJob"),
    _sagemaker("CreateProcessingJob", "AWS::SageMaker::ProcessingJob", "processingJob"),
    _sagemaker("CreateTransformJob", "AWS::SageMaker::TransformJob", "transformJob"),
    _sagemaker(
        "CreateHyperParameterTuningJob", "AWS::SageMaker::HyperParameterTuningJob", "hyperParameterTuningJob"
    ),
    _sagemaker("CreateAutoMLJobV2", "AWS::SageMaker::AutoMLJob", "autoMLJob"),
    _sagemaker("CreateLabelingJob", "AWS::SageMaker::LabelingJob", "labelingJob"),
    _sagemaker("CreateDomain", "AWS::SageMaker::Domain", "domain"),
    _sagemaker("CreateUserProfile", "AWS::SageMaker::UserProfile", "userProfile"),
    _sagemaker("CreateSpace", "AWS::SageMaker::Space", "space"),
    _sagemaker("CreateApp", "AWS::SageMaker::App", "app"),
    _sagemaker("CreatePipeline", "AWS::SageMaker::Pipeline", "pipeline"),
    _sagemaker("CreateModelPackageGroup", "AWS::SageMaker::ModelPackageGroup", "modelPackageGroup"),
    _sagemaker("CreateFeatureGroup", "AWS::SageMaker::FeatureGroup", "featureGroup"),
    _sagemaker("CreateInferenceComponent", "AWS::SageMaker::InferenceComponent", "inferenceComponent"),
    _sagemaker("CreateCluster", "AWS::SageMaker::Cluster", "cluster"),
    _sagemaker("CreateExperiment", "AWS::SageMaker::Experiment", "experiment"),
    _sagemaker("CreateProject", "AWS::SageMaker::Project", "project"),
)

AI_SERVICES: tuple[Entry, ...] = (
    row(
        "comprehend",
        "CreateDocumentClassifier",
        "AWS::Comprehend::DocumentClassifier",
        f"{RESP}.documentClassifierArn",
        name=f"{REQ}.documentClassifierName",
        tagger="comprehend",
    ),
    row(
        "comprehend",
        "CreateEntityRecognizer",
        "AWS::Comprehend::EntityRecognizer",
        f"{RESP}.entityRecognizerArn",
        name=f"{REQ}.recognizerName",
        tagger="comprehend",
    ),
    row(
        "comprehend",
        "CreateEndpoint",
        "AWS::Comprehend::Endpoint",
        f"{RESP}.endpointArn",
        name=f"{REQ}.endpointName",
        tagger="comprehend",
    ),
    row(
        "kendra",
        "CreateIndex",
        "AWS::Kendra::Index",
        f"{RESP}.id",
        arn=arn("kendra", "index/{id}"),
        name=f"{REQ}.name",
    ),
    # Lex V2 model building logs under lex.amazonaws.com.
    row(
        "lex",
        "CreateBot",
        "AWS::Lex::Bot",
        f"{RESP}.botId",
        arn=arn("lex", "bot/{id}"),
        name=f"{RESP}.botName",
        tags=f"{REQ}.botTags",
    ),
    # The collection ARN in the response lacks its "arn:" prefix: rebuilt from the request.
    row(
        "rekognition",
        "CreateCollection",
        "AWS::Rekognition::Collection",
        f"{REQ}.collectionId",
        arn=arn("rekognition", "collection/{id}"),
        name=f"{REQ}.collectionId",
    ),
    row(
        "rekognition",
        "CreateStreamProcessor",
        "AWS::Rekognition::StreamProcessor",
        f"{REQ}.name",
        arn=arn("rekognition", "streamprocessor/{id}"),
        name=f"{REQ}.name",
    ),
    row(
        "rekognition",
        "CreateProject",
        "AWS::Rekognition::Project",
        f"{RESP}.projectArn",
        name=f"{REQ}.projectName",
    ),
    row(
        "transcribe",
        "CreateVocabulary",
        "AWS::Transcribe::Vocabulary",
        f"{REQ}.vocabularyName",
        arn=arn("transcribe", "vocabulary/{id}"),
        name=f"{REQ}.vocabularyName",
    ),
    row(
        "forecast",
        "CreateDataset",
        "AWS::Forecast::Dataset",
        f"{RESP}.datasetArn",
        name=f"{REQ}.datasetName",
    ),
    row(
        "healthlake",
        "CreateFHIRDatastore",
        "AWS::HealthLake::FHIRDatastore",
        f"{RESP}.datastoreArn",
        name=f"{REQ}.datastoreName",
    ),
    row(
        "omics",
        "CreateWorkflow",
        "AWS::Omics::Workflow",
        f"{RESP}.id",
        arn=arn("omics", "workflow/{id}"),
        name=f"{REQ}.name",
    ),
)

ENTRIES: tuple[Entry, ...] = (*BEDROCK, *SAGEMAKER, *AI_SERVICES)
