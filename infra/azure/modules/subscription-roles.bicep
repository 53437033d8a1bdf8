// The function's subscription-wide roles: Reader (read the written resource and its group), Tag
// Contributor (write tags without any other write access to the resources themselves) and, for the
// lifecycle, Virtual Machine Contributor: quarantine deallocates a VM, release starts it, the
// sweeper deletes VMs and detached network interfaces past their deadline
// (tagwarden.azure.quarantine.ACTIONS). It is the narrowest built-in role holding
// virtualMachines/deallocate/action, start/action and delete; Contributor would add every other
// resource type, Network Contributor every network. Without it (allowQuarantine=false) quarantine
// fails and is notified; marking, release of marked-only types and the notifications still work.
targetScope = 'subscription'

param principalId string

@description('Grant Virtual Machine Contributor, so that VMs can be deallocated, started and deleted.')
param allowQuarantine bool = true

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

resource virtualMachineContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (allowQuarantine) {
  name: guid(subscription().id, principalId, '9980e02c-c2be-4d73-94e8-173b1dc7cf3c')
  properties: {
    description: 'tagwarden function: deallocate, start and delete unattributed VMs (quarantine lifecycle)'
    // Virtual Machine Contributor
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '9980e02c-c2be-4d73-94e8-173b1dc7cf3c')
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}
