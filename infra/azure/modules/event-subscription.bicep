// The event subscription from the subscription's system topic to the Event Grid triggered function.
// Deployed only after `func azure functionapp publish`: Event Grid checks that the function exists.

param systemTopicName string
param functionAppName string
param functionName string
param storageAccountName string
param deadLetterContainerName string
param maxDeliveryAttempts int
param eventTimeToLiveInMinutes int
param name string = 'tagwarden-resource-writes'

resource systemTopic 'Microsoft.EventGrid/systemTopics@2025-02-15' existing = {
  name: systemTopicName
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' existing = {
  name: functionAppName
}

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
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
      includedEventTypes: [
        'Microsoft.Resources.ResourceWriteSuccess'
      ]
      // Tag writes (the function's own included) and deployments never reach the function. StringNotIn
      // is an exact, case-insensitive match that still delivers events lacking the key; the code
      // skips these operations too (tagwarden.normalize.azure.eventgrid._SKIP_OPERATIONS).
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

output name string = resourceWrites.name
