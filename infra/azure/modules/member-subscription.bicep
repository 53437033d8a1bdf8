// One member subscription of a many-subscription deployment (subscriptions.bicep): its system
// topic and event subscriptions to the one function app, and the app's roles in it. The same
// modules as main.bicep's, pointed at the app's subscription and resource group.
targetScope = 'subscription'

param location string
param resourceGroupName string
param tags object
param systemTopicName string
param appSubscriptionId string
param appResourceGroupName string
param functionAppName string
param functionName string
param principalId string
param storageAccountName string
param deadLetterContainerName string
param allowQuarantine bool
param deployEventSubscription bool
param maxDeliveryAttempts int
param eventTimeToLiveInMinutes int
param releaseOnTagWrite bool

@description('The app\'s action group (main.bicep output actionGroupId); empty: no alerts on this topic.')
param actionGroupId string = ''

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: resourceGroupName
  location: location
  tags: tags
}

module systemTopic 'system-topic.bicep' = {
  name: 'tagwarden-system-topic'
  scope: rg
  params: {
    name: systemTopicName
    tags: tags
    storageAccountName: storageAccountName
    deadLetterContainerName: deadLetterContainerName
    grantDeadLetterWriter: false
  }
}

module deadLetterWriter 'dead-letter-writer.bicep' = {
  name: 'tagwarden-dead-letter-${subscription().subscriptionId}'
  scope: resourceGroup(appSubscriptionId, appResourceGroupName)
  params: {
    principalId: systemTopic.outputs.principalId
    storageAccountName: storageAccountName
    deadLetterContainerName: deadLetterContainerName
  }
}

module subscriptionRoles 'subscription-roles.bicep' = {
  name: 'tagwarden-subscription-roles'
  params: {
    principalId: principalId
    allowQuarantine: allowQuarantine
  }
}

module eventSubscription 'event-subscription.bicep' = if (deployEventSubscription) {
  name: 'tagwarden-event-subscription'
  scope: rg
  params: {
    systemTopicName: systemTopic.outputs.name
    functionAppName: functionAppName
    functionName: functionName
    storageAccountName: storageAccountName
    deadLetterContainerName: deadLetterContainerName
    maxDeliveryAttempts: maxDeliveryAttempts
    eventTimeToLiveInMinutes: eventTimeToLiveInMinutes
    releaseOnTagWrite: releaseOnTagWrite
    appSubscriptionId: appSubscriptionId
    appResourceGroupName: appResourceGroupName
  }
  dependsOn: [
    subscriptionRoles
    deadLetterWriter
  ]
}

module deadLetterAlert 'dead-letter-alert.bicep' = if (!empty(actionGroupId)) {
  name: 'tagwarden-dead-letter-alert'
  scope: rg
  params: {
    systemTopicName: systemTopic.outputs.name
    tags: tags
    actionGroupId: actionGroupId
  }
}

output systemTopicName string = systemTopic.outputs.name
