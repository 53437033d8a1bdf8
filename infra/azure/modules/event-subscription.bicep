// The event subscriptions from the subscription's system topic to the Event Grid triggered function:
// resource writes (the enforcer) and, unless releaseOnTagWrite is false, tag writes (the lifecycle:
// a quarantined resource is released as soon as someone fixes its tags; the function drops its own
// tag writes, and the timer's sweep releases within its period in any case).
// Deployed only after `func azure functionapp publish`: Event Grid checks that the function exists.

param systemTopicName string
param functionAppName string
param functionName string
param storageAccountName string
param deadLetterContainerName string
param maxDeliveryAttempts int
param eventTimeToLiveInMinutes int
param name string = 'tagwarden-resource-writes'
param tagWritesName string = 'tagwarden-tag-writes'

@description('Deliver tag writes too, so that a quarantined resource is released as soon as its tags are fixed.')
param releaseOnTagWrite bool = true

@description('Where the function app and its storage live, when the topic is in another subscription (subscriptions.bicep).')
param appSubscriptionId string = subscription().subscriptionId
param appResourceGroupName string = resourceGroup().name

resource systemTopic 'Microsoft.EventGrid/systemTopics@2025-02-15' existing = {
  name: systemTopicName
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' existing = {
  name: functionAppName
  scope: resourceGroup(appSubscriptionId, appResourceGroupName)
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
  scope: resourceGroup(appSubscriptionId, appResourceGroupName)
}

resource resourceWrites 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2025-02-15' = {
  parent: systemTopic
  name: name
  properties: {
    destination: {
      endpointType: 'AzureFunction'
      properties: {
        resourceId: '${functionApp.id}/functions/${functionName}'
        maxEventsPerBatch: 1
        preferredBatchSizeInKilobytes: 64
      }
    }
    eventDeliverySchema: 'EventGridSchema'
    filter: {
      // Deletes too: the function closes the deleted resource's ledger record, so that a resource
      // created again under the same id is judged as new (tagwarden.azure.normalize.delete_events).
      includedEventTypes: [
        'Microsoft.Resources.ResourceWriteSuccess'
        'Microsoft.Resources.ResourceDeleteSuccess'
      ]
      // Tag writes (the function's own included) and deployments never reach the function. StringNotIn
      // is an exact, case-insensitive match that still delivers events lacking the key; the code
      // skips these operations too (tagwarden.azure.normalize.eventgrid._SKIP_OPERATIONS).
      advancedFilters: [
        {
          operatorType: 'StringNotIn'
          key: 'data.operationName'
          values: [
            'Microsoft.Resources/tags/write'
            'Microsoft.Resources/deployments/write'
          ]
        }
      ]
    }
    retryPolicy: {
      maxDeliveryAttempts: maxDeliveryAttempts
      eventTimeToLiveInMinutes: eventTimeToLiveInMinutes
    }
    deadLetterWithResourceIdentity: {
      identity: {
        type: 'SystemAssigned'
      }
      deadLetterDestination: {
        endpointType: 'StorageBlob'
        properties: {
          resourceId: storage.id
          blobContainerName: deadLetterContainerName
        }
      }
    }
  }
}

resource tagWrites 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2025-02-15' = if (releaseOnTagWrite) {
  parent: systemTopic
  name: tagWritesName
  properties: {
    destination: {
      endpointType: 'AzureFunction'
      properties: {
        resourceId: '${functionApp.id}/functions/${functionName}'
        maxEventsPerBatch: 1
        preferredBatchSizeInKilobytes: 64
      }
    }
    eventDeliverySchema: 'EventGridSchema'
    filter: {
      includedEventTypes: [
        'Microsoft.Resources.ResourceWriteSuccess'
      ]
      // Only tag writes (tagwarden.azure.sweeper.tag_writes picks them out of the delivery).
      advancedFilters: [
        {
          operatorType: 'StringIn'
          key: 'data.operationName'
          values: [
            'Microsoft.Resources/tags/write'
          ]
        }
      ]
    }
    retryPolicy: {
      maxDeliveryAttempts: maxDeliveryAttempts
      eventTimeToLiveInMinutes: eventTimeToLiveInMinutes
    }
    deadLetterWithResourceIdentity: {
      identity: {
        type: 'SystemAssigned'
      }
      deadLetterDestination: {
        endpointType: 'StorageBlob'
        properties: {
          resourceId: storage.id
          blobContainerName: deadLetterContainerName
        }
      }
    }
  }
}

output name string = resourceWrites.name
