// tagwarden for every subscription of a management group, new ones included: an Azure Policy
// (DeployIfNotExists) deploys into each subscription that lacks it the Event Grid system topic
// and the event subscriptions to the one function app (main.bicep), dead-lettering into the
// app's container, with the dead-letter alerts of modules/dead-letter-alert.bicep: join-subscription.policy.json, the same topic and filters as
// modules/system-topic.bicep and modules/event-subscription.bicep (tests keep them in step).
// The alternative to subscriptions.bicep's loop over a list; deploy one or the other.
//
// Role assignments here are at the management group and to custom roles only:
// - the policy assignment's identity: "tagwarden event wiring", exactly what the deployment does
//   (a resource group, the topic, its event subscriptions and alerts, the nested deployments), plus, on the
//   app's storage account alone, the right to grant Storage Blob Data Contributor and no other role
//   (dead-letter-delegation.bicep: role assignment with a condition).
// - the app's identity: "tagwarden function", reads, tag writes and (allowQuarantine) the
//   lifecycle's four writes, in every subscription of the group, and the read of the group's
//   descendants: deploy main.bicep with managementGroupId = this group and the app acts in every
//   subscription under it (a new one as soon as its events come, one that left within 15 min).
// Existing subscriptions are evaluated but only remediated on request (README: remediation task).
targetScope = 'managementGroup'

@description('Region of the policy assignment\'s identity and of each member resource group.')
param location string

@description('The app deployment (main.bicep outputs): its subscription, resource group, names and identity.')
param appSubscriptionId string
param appResourceGroupName string
param functionAppName string
param principalId string
param storageAccountName string

param resourceGroupName string = 'rg-tagwarden-events'
param systemTopicName string = 'tagwarden-subscription-events'
param functionName string = 'tagwarden_resource_write'
param deadLetterContainerName string = 'deadletters'

@minValue(1)
@maxValue(30)
param maxDeliveryAttempts int = 10

@minValue(1)
@maxValue(1440)
param eventTimeToLiveInMinutes int = 1440

@description('Grant the app the lifecycle writes (deallocate, start and delete VMs, delete their NICs).')
param allowQuarantine bool = true

@description('Subscriptions (ids /subscriptions/...) the policy leaves alone.')
param notScopes array = []

@description('main.bicep output actionGroupId: each joined topic alerts it on dead-lettered and dropped events; empty: none.')
param actionGroupId string = ''

@allowed([
  'DeployIfNotExists'
  'AuditIfNotExists'
  'Disabled'
])
param effect string = 'DeployIfNotExists'

var definition = loadJsonContent('join-subscription.policy.json')

// What the policy's deployment does, and nothing else (assignable in this management group only).
resource wiringRole 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(managementGroup().id, 'tagwarden-event-wiring')
  properties: {
    roleName: 'tagwarden event wiring (${managementGroup().name})'
    description: 'tagwarden policy: create the member resource group, the system topic and its event subscriptions to the function'
    type: 'CustomRole'
    permissions: [
      {
        actions: [
          'Microsoft.Resources/subscriptions/read'
          'Microsoft.Resources/subscriptions/resourceGroups/read'
          'Microsoft.Resources/subscriptions/resourceGroups/write'
          'Microsoft.Resources/deployments/read'
          'Microsoft.Resources/deployments/write'
          'Microsoft.Resources/deployments/operationStatuses/read'
          'Microsoft.EventGrid/systemTopics/read'
          'Microsoft.EventGrid/systemTopics/write'
          'Microsoft.EventGrid/systemTopics/eventSubscriptions/read'
          'Microsoft.EventGrid/systemTopics/eventSubscriptions/write'
          'Microsoft.Insights/actionGroups/read'
          'Microsoft.Insights/metricAlerts/read'
          'Microsoft.Insights/metricAlerts/write'
          'Microsoft.Web/sites/read'
          'Microsoft.Web/sites/functions/read'
          'Microsoft.Storage/storageAccounts/read'
        ]
        notActions: []
      }
    ]
    assignableScopes: [
      managementGroup().id
    ]
  }
}

// The function in every subscription of the group: Reader's reads, tag writes (Tag Contributor's
// Microsoft.Resources/tags/*) and the lifecycle's writes (modules/subscription-roles.bicep).
var lifecycleActions = [
  'Microsoft.Compute/virtualMachines/deallocate/action'
  'Microsoft.Compute/virtualMachines/delete'
  'Microsoft.Compute/virtualMachines/start/action'
  'Microsoft.Network/networkInterfaces/delete'
]

resource appRole 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(managementGroup().id, 'tagwarden-function')
  properties: {
    roleName: 'tagwarden function (${managementGroup().name})'
    description: 'tagwarden function: read resources, write their tags, quarantine unattributed VMs'
    type: 'CustomRole'
    permissions: [
      {
        actions: concat([
          '*/read'
          // which subscriptions are under the group (the TAGWARDEN_MANAGEMENT_GROUP gate of the app):
          // named although */read holds it, so that narrowing the reads cannot drop it
          'Microsoft.Management/managementGroups/descendants/read'
          'Microsoft.Resources/tags/*'
        ], allowQuarantine ? lifecycleActions : [])
        notActions: []
      }
    ]
    assignableScopes: [
      managementGroup().id
    ]
  }
}

resource joinDefinition 'Microsoft.Authorization/policyDefinitions@2023-04-01' = {
  name: 'tagwarden-join-subscription'
  properties: {
    policyType: 'Custom'
    mode: definition.mode
    displayName: definition.displayName
    description: definition.description
    metadata: definition.metadata
    parameters: definition.parameters
    policyRule: {
      if: definition.policyRule.if
      then: {
        effect: definition.policyRule.then.effect
        details: union(definition.policyRule.then.details, {
          roleDefinitionIds: [
            wiringRole.id
          ]
        })
      }
    }
  }
}

resource joinAssignment 'Microsoft.Authorization/policyAssignments@2023-04-01' = {
  name: 'tagwarden-join'
  location: location
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    displayName: 'tagwarden: every subscription sends its resource writes to the function'
    policyDefinitionId: joinDefinition.id
    notScopes: notScopes
    parameters: {
      effect: {
        value: effect
      }
      location: {
        value: location
      }
      resourceGroupName: {
        value: resourceGroupName
      }
      systemTopicName: {
        value: systemTopicName
      }
      appSubscriptionId: {
        value: appSubscriptionId
      }
      appResourceGroupName: {
        value: appResourceGroupName
      }
      functionAppName: {
        value: functionAppName
      }
      functionName: {
        value: functionName
      }
      storageAccountName: {
        value: storageAccountName
      }
      deadLetterContainerName: {
        value: deadLetterContainerName
      }
      maxDeliveryAttempts: {
        value: maxDeliveryAttempts
      }
      eventTimeToLiveInMinutes: {
        value: eventTimeToLiveInMinutes
      }
      actionGroupId: {
        value: actionGroupId
      }
    }
  }
}

resource wiringGrant 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(managementGroup().id, joinAssignment.id, wiringRole.id)
  properties: {
    description: 'tagwarden policy: deploy the event wiring into new subscriptions'
    roleDefinitionId: wiringRole.id
    principalId: joinAssignment.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

resource appGrant 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(managementGroup().id, principalId, appRole.id)
  properties: {
    description: 'tagwarden function: read, tag and quarantine in every subscription of the group'
    roleDefinitionId: appRole.id
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// Each new topic's identity must write dead letters into the app's container: the policy's
// identity may grant exactly that role, on that storage account only.
module deadLetterDelegation 'dead-letter-delegation.bicep' = {
  name: 'tagwarden-dead-letter-delegation'
  scope: resourceGroup(appSubscriptionId, appResourceGroupName)
  params: {
    principalId: joinAssignment.identity.principalId
    storageAccountName: storageAccountName
  }
}

output policyAssignmentId string = joinAssignment.id
output policyPrincipalId string = joinAssignment.identity.principalId
