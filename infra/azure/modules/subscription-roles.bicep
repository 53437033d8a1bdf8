// The function's subscription-wide roles: Reader (read the written resource and its group) and
// Tag Contributor (write tags without any other write access to the resources themselves).
targetScope = 'subscription'

param principalId string

resource tagContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(subscription().id, principalId, '4a9ae827-6dc8-4573-8ac7-8239d42aa03f')
  properties: {
    description: 'tagwarden function: write tags on new resources'
    // Tag Contributor
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '4a9ae827-6dc8-4573-8ac7-8239d42aa03f')
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

resource reader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(subscription().id, principalId, 'acdd72a7-3385-48ef-bd42-f606fba81ae7')
  properties: {
    description: 'tagwarden function: read new resources and their resource groups'
    // Reader
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', 'acdd72a7-3385-48ef-bd42-f606fba81ae7')
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}
