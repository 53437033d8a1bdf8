// tagwarden for many subscriptions: one function app (main.bicep, deployed once in its own
// subscription with memberSubscriptionIds) serving every subscription listed here. Deployed at a
// management group holding them all (az deployment mg create): per subscription, a resource
// group with the system topic, the event subscriptions to the app's function, and the app's
// roles there (Reader, Tag Contributor, Virtual Machine Contributor). Keep the list equal to
// main.bicep's memberSubscriptionIds: the app skips events of subscriptions it does not list.
targetScope = 'managementGroup'

@description('The subscriptions to serve (each under this management group); not the app\'s own.')
param subscriptionIds array

@description('Region of each member resource group (the system topics themselves are global).')
param location string

@description('The app deployment (main.bicep outputs): its subscription, resource group, names and identity.')
param appSubscriptionId string
param appResourceGroupName string
param functionAppName string
param principalId string
param storageAccountName string

param resourceGroupName string = 'rg-tagwarden-events'
param tags object = {}
param systemTopicName string = 'tagwarden-subscription-events'
param functionName string = 'tagwarden_resource_write'
param deadLetterContainerName string = 'deadletters'
param allowQuarantine bool = true

@description('Deploy the Event Grid subscriptions: only once the function code is published.')
param deployEventSubscription bool = true

@minValue(1)
@maxValue(30)
param maxDeliveryAttempts int = 10

@minValue(1)
@maxValue(1440)
param eventTimeToLiveInMinutes int = 1440

param releaseOnTagWrite bool = true

@description('main.bicep output actionGroupId: each member topic\'s dead-letter alerts go there; empty: none.')
param actionGroupId string = ''

module members 'modules/member-subscription.bicep' = [for subscriptionId in subscriptionIds: {
  name: 'tagwarden-member-${subscriptionId}'
  scope: subscription(subscriptionId)
  params: {
    location: location
    resourceGroupName: resourceGroupName
    tags: tags
    systemTopicName: systemTopicName
    appSubscriptionId: appSubscriptionId
    appResourceGroupName: appResourceGroupName
    functionAppName: functionAppName
    functionName: functionName
    principalId: principalId
    storageAccountName: storageAccountName
    deadLetterContainerName: deadLetterContainerName
    allowQuarantine: allowQuarantine
    deployEventSubscription: deployEventSubscription
    maxDeliveryAttempts: maxDeliveryAttempts
    eventTimeToLiveInMinutes: eventTimeToLiveInMinutes
    releaseOnTagWrite: releaseOnTagWrite
    actionGroupId: actionGroupId
  }
}]
