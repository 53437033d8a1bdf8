// The function app (Flex Consumption, Python 3.13, system-assigned identity), its storage account
// (host storage, deployment package container, dead-letter container, notification queue, the
// ledger table) and its monitoring.

param location string
param tags object
param functionAppName string
param planName string
param storageAccountName string
param logAnalyticsName string
param appInsightsName string
param deploymentContainerName string
param deadLetterContainerName string
param rulesPath string

@description('A blob URL the rules are read from and re-read (empty: rulesPath).')
param rulesSource string = ''

@description('Seconds a version of rulesSource is used before the blob is read again.')
param rulesMaxAgeSeconds int = 60
@allowed([
  'audit'
  'enforce'
])
param mode string = 'audit'
param maximumInstanceCount int
param instanceMemoryMB int

@description('When the sweeper runs: an NCRONTAB expression with seconds (default every 15 minutes).')
param sweepSchedule string = '0 */15 * * * *'

@description('Teams Workflows webhook URL ("When a Teams webhook request is received"), or a Key Vault reference @Microsoft.KeyVault(SecretUri=...); empty: no Teams notifications.')
@secure()
param teamsWebhookUrl string = ''

@description('Storage queue in the app storage account that receives every notification as versioned JSON.')
param notificationQueueName string = 'tagwarden-notifications'

@description('Other subscriptions this app serves (subscriptions.bicep wires their events): acted on and swept besides its own.')
param memberSubscriptionIds array = []

@description('Management group whose subscriptions are members too (ARM descendants, cached 15 minutes); empty: none.')
param managementGroupId string = ''

// Identity-based AzureWebJobsStorage on Flex Consumption: blob (host + deployment package),
// queue and table data roles on the app's own storage account.
var storageRoles = [
  {
    name: 'Storage Blob Data Owner'
    id: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  }
  {
    name: 'Storage Queue Data Contributor'
    id: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  }
  {
    name: 'Storage Table Data Contributor'
    id: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  }
]

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: storageAccountName
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    accessTier: 'Hot'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource deadLetterContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deadLetterContainerName
  properties: {
    publicAccess: 'None'
  }
}

// Notifications as versioned JSON messages (tagwarden.azure.notify.QueueNotifier), sent with the
// app's identity: the Storage Queue Data Contributor role below covers sending.
resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource notificationQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = {
  parent: queueService
  name: notificationQueueName
}

// The ledger (tagwarden.azure.ledger.TableLedger): one entity per created resource, the system of
// record of every decision and lifecycle, written with the app's identity (the Storage Table Data
// Contributor role below).
resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource ledgerTable 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' = {
  parent: tableService
  name: 'tagwardenledger'
}

resource logAnalytics 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: logAnalyticsName
  location: location
  tags: tags
  properties: {
    retentionInDays: 30
    sku: {
      name: 'PerGB2018'
    }
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: appInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logAnalytics.id
  }
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  name: functionAppName
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    siteConfig: {
      minTlsVersion: '1.2'
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainer.name}'
          authentication: {
            type: 'SystemAssignedIdentity'
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'python'
        version: '3.13'
      }
    }
  }
}

resource functionStorageRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for role in storageRoles: {
    name: guid(storage.id, functionApp.id, role.id)
    scope: storage
    properties: {
      description: 'tagwarden function: ${role.name} (identity-based host storage)'
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role.id)
      principalId: functionApp.identity.principalId
      principalType: 'ServicePrincipal'
    }
  }
]

// A separate config resource, because a setting needs the app's own principal id. It replaces
// the whole set: Flex Consumption takes the runtime from functionAppConfig, so neither
// FUNCTIONS_WORKER_RUNTIME nor FUNCTIONS_EXTENSION_VERSION belongs here.
resource appSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: functionApp
  name: 'appsettings'
  properties: {
    AzureWebJobsStorage__accountName: storage.name
    APPLICATIONINSIGHTS_CONNECTION_STRING: appInsights.properties.ConnectionString
    // The deployment's mode overrides the rules file's (audit unless the operator says enforce).
    TAGWARDEN_MODE: mode
    TAGWARDEN_RULES_PATH: rulesPath
    // Rules from a blob, re-read every rulesMaxAgeSeconds (the last good version stays in force).
    TAGWARDEN_RULES_SOURCE: rulesSource
    TAGWARDEN_RULES_MAX_AGE: string(rulesMaxAgeSeconds)
    TAGWARDEN_OWN_PRINCIPAL_IDS: functionApp.identity.principalId
    // The ledger: what decides every lifecycle action (marker tags are a display only).
    TAGWARDEN_LEDGER_TABLE_ENDPOINT: storage.properties.primaryEndpoints.table
    TAGWARDEN_LEDGER_TABLE: ledgerTable.name
    // The sweeper (timer trigger): its schedule, and the subscriptions it sweeps.
    TAGWARDEN_SWEEP_SCHEDULE: sweepSchedule
    // Events of any other subscription are skipped (foreign-account).
    TAGWARDEN_SUBSCRIPTIONS: join(union([subscription().subscriptionId], memberSubscriptionIds), ',')
    // ...and any subscription under this management group (the policy path: no list to keep).
    TAGWARDEN_MANAGEMENT_GROUP: managementGroupId
    // Notification channels: Teams (a secret URL, or a Key Vault reference) and the queue.
    TAGWARDEN_TEAMS_WEBHOOK_URL: teamsWebhookUrl
    TAGWARDEN_NOTIFY_QUEUE_URL: '${storage.properties.primaryEndpoints.queue}${notificationQueue.name}'
  }
  dependsOn: [
    functionStorageRoles
  ]
}

output functionAppName string = functionApp.name
output principalId string = functionApp.identity.principalId
output storageAccountName string = storage.name
output appInsightsName string = appInsights.name
