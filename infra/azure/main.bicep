// tagwarden on Azure: a Flex Consumption function tagging new resources as they are written.
//
// One subscription-scope deployment (az deployment sub create): it creates the resource group,
// deploys the app into it, and grants the function's identity its subscription-wide roles.
// The subscription's system topic lives in that resource group; its event subscription is only
// deployed once the function code is published (deployEventSubscription=true), because Event Grid
// validates the AzureFunction endpoint when the subscription is created.
targetScope = 'subscription'

@description('Region for the resource group and the app (a region offering Flex Consumption).')
param location string = deployment().location

@description('Resource group holding the app, its storage, monitoring and the system topic.')
param resourceGroupName string = 'rg-tagwarden'

@description('Prefix of every resource name (lower case letters, digits and dashes).')
@minLength(3)
@maxLength(20)
param namePrefix string = 'tagwarden'

@description('Tags put on the resource group and on every resource deployed here.')
param tags object = {}

@description('System topic of the subscription; an existing one must live in resourceGroupName.')
param systemTopicName string = '${namePrefix}-subscription-events'

@description('Name of the Event Grid triggered function in function_app.py.')
param functionName string = 'tagwarden_resource_write'

@description('audit: decide and report only, whatever the rules file says; enforce: act as the rules file says. Overrides the rules file\'s mode (TAGWARDEN_MODE), so a first deployment changes nothing.')
@allowed([
  'audit'
  'enforce'
])
param mode string = 'audit'

@description('Rules file deployed with the code, relative to the app root (the folder of function_app.py).')
param rulesPath string = 'functions/tagwarden/examples/rules.yaml'

@description('Rules read from a blob and re-read without a redeploy: https://ACCOUNT.blob.core.windows.net/CONTAINER/BLOB (README, Rules from S3, SSM or AppConfig). The app\'s identity needs Storage Blob Data Reader on it (it has Blob Data Owner on its own storage account). Empty: rulesPath.')
param rulesSource string = ''

@description('How long a version of rulesSource is used before the blob is read again, in seconds.')
@minValue(1)
@maxValue(3600)
param rulesMaxAgeSeconds int = 60

@description('Upper bound on Flex Consumption instances (also bounds concurrent ARM calls).')
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Memory of each Flex Consumption instance, in MB.')
@allowed([
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Deploy the Event Grid subscription: only once the function code is published.')
param deployEventSubscription bool = false

@description('Event Grid delivery attempts before an event is dead-lettered.')
@minValue(1)
@maxValue(30)
param maxDeliveryAttempts int = 10

@description('Minutes Event Grid keeps retrying an event before it is dead-lettered.')
@minValue(1)
@maxValue(1440)
param eventTimeToLiveInMinutes int = 1440

@description('When the lifecycle sweeper runs: an NCRONTAB expression with seconds.')
param sweepSchedule string = '0 */15 * * * *'

@description('Teams Workflows webhook URL (or a Key Vault reference); empty: no Teams notifications.')
@secure()
param teamsWebhookUrl string = ''

@description('Grant Virtual Machine Contributor, so that quarantine can deallocate, start and delete VMs.')
param allowQuarantine bool = true

@description('Deliver tag writes to the function too, so that fixing the tags releases at once.')
param releaseOnTagWrite bool = true

@description('Other subscriptions this app serves: list them here, then deploy subscriptions.bicep over the same list.')
param memberSubscriptionIds array = []

@description('Management group whose subscriptions this app serves (policy/join-subscriptions.bicep deployed at it): any subscription under it is a member, new ones included, with no list to keep; empty: the list only.')
param managementGroupId string = ''

@description('Email address of the alerts (function failures, dead-lettered and dropped events); empty: an action group without receivers.')
param alertEmail string = ''

var token = uniqueString(subscription().id, resourceGroupName, namePrefix)
var compactPrefix = take(replace(namePrefix, '-', ''), 9)
var functionAppName = '${namePrefix}-${token}'
var storageAccountName = toLower(take('st${compactPrefix}${token}', 24))
var deadLetterContainerName = 'deadletters'

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: resourceGroupName
  location: location
  tags: tags
}

module app 'modules/app.bicep' = {
  name: 'tagwarden-app'
  scope: rg
  params: {
    location: location
    tags: tags
    functionAppName: functionAppName
    planName: '${namePrefix}-plan-${token}'
    storageAccountName: storageAccountName
    logAnalyticsName: '${namePrefix}-logs-${token}'
    appInsightsName: '${namePrefix}-appi-${token}'
    deploymentContainerName: 'app-package'
    deadLetterContainerName: deadLetterContainerName
    rulesPath: rulesPath
    rulesSource: rulesSource
    rulesMaxAgeSeconds: rulesMaxAgeSeconds
    mode: mode
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    sweepSchedule: sweepSchedule
    teamsWebhookUrl: teamsWebhookUrl
    memberSubscriptionIds: memberSubscriptionIds
    managementGroupId: managementGroupId
  }
}

module systemTopic 'modules/system-topic.bicep' = {
  name: 'tagwarden-system-topic'
  scope: rg
  params: {
    name: systemTopicName
    tags: tags
    storageAccountName: app.outputs.storageAccountName
    deadLetterContainerName: deadLetterContainerName
  }
}

// Subscription-wide: read any resource, write tags anywhere in the subscription, and (allowQuarantine)
// deallocate, start and delete VMs and NICs (Virtual Machine Contributor).
module subscriptionRoles 'modules/subscription-roles.bicep' = {
  name: 'tagwarden-subscription-roles'
  params: {
    principalId: app.outputs.principalId
    allowQuarantine: allowQuarantine
  }
}

// Alerts to one action group: failures (Application Insights) and the system topic's dead-lettered
// and dropped events. subscriptions.bicep points each member topic's alerts at the same group.
module alerts 'modules/alerts.bicep' = {
  name: 'tagwarden-alerts'
  scope: rg
  params: {
    location: location
    tags: tags
    appInsightsName: app.outputs.appInsightsName
    actionGroupName: '${namePrefix}-alerts'
    alertEmail: alertEmail
  }
}

module deadLetterAlert 'modules/dead-letter-alert.bicep' = {
  name: 'tagwarden-dead-letter-alert'
  scope: rg
  params: {
    systemTopicName: systemTopic.outputs.name
    tags: tags
    actionGroupId: alerts.outputs.actionGroupId
  }
}

module eventSubscription 'modules/event-subscription.bicep' = if (deployEventSubscription) {
  name: 'tagwarden-event-subscription'
  scope: rg
  params: {
    systemTopicName: systemTopic.outputs.name
    functionAppName: app.outputs.functionAppName
    functionName: functionName
    storageAccountName: app.outputs.storageAccountName
    deadLetterContainerName: deadLetterContainerName
    maxDeliveryAttempts: maxDeliveryAttempts
    eventTimeToLiveInMinutes: eventTimeToLiveInMinutes
    releaseOnTagWrite: releaseOnTagWrite
  }
  dependsOn: [
    subscriptionRoles
  ]
}

output resourceGroupName string = rg.name
output functionAppName string = app.outputs.functionAppName
output principalId string = app.outputs.principalId
output systemTopicName string = systemTopic.outputs.name
output storageAccountName string = app.outputs.storageAccountName
output actionGroupId string = alerts.outputs.actionGroupId
