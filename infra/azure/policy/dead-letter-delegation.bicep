// The policy's identity may assign Storage Blob Data Contributor, and no other role, on the app's
// storage account (each new system topic's identity then dead-letters into the container):
// Role Based Access Control Administrator constrained by a condition on the role it grants.

param principalId string
param storageAccountName string

var rbacAdministrator = 'f58310d9-a9f6-439a-9e8d-f62e7b41a168'
var storageBlobDataContributor = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource delegation 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, principalId, rbacAdministrator)
  scope: storage
  properties: {
    description: 'tagwarden policy: let new system topics dead-letter into the app\'s container'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', rbacAdministrator)
    principalId: principalId
    principalType: 'ServicePrincipal'
    conditionVersion: '2.0'
    condition: '((!(ActionMatches{\'Microsoft.Authorization/roleAssignments/write\'})) OR (@Request[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {${storageBlobDataContributor}})) AND ((!(ActionMatches{\'Microsoft.Authorization/roleAssignments/delete\'})) OR (@Resource[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {${storageBlobDataContributor}}))'
  }
}
