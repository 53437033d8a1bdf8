// The function's subscription-wide roles: Reader (read the written resource and its group), Tag
// Contributor (write tags without any other write access to the resources themselves) and, for the
// lifecycle, a custom role with exactly the writes it makes: quarantine deallocates a VM, release
// starts it, the sweeper deletes VMs and detached network interfaces past their deadline
// (tagwarden.azure.quarantine.ACTIONS). Without it (allowQuarantine=false) quarantine fails and is
// notified; marking, release of marked-only types and the notifications still work.
targetScope = 'subscription'

param principalId string

@description('Grant the lifecycle role (deallocate, start and delete VMs, delete the NICs they leave).')
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

// Only the ARM operations the lifecycle calls (tagwarden.azure.quarantine.ACTIONS; reads come with
// Reader): tests/azure/test_azure_role.py records the operations the lifecycle makes on the ARM fake
// and compares them with this list.
resource lifecycleRole 'Microsoft.Authorization/roleDefinitions@2022-04-01' = if (allowQuarantine) {
  name: guid(subscription().id, 'tagwarden-lifecycle')
  properties: {
    roleName: 'tagwarden lifecycle (${subscription().subscriptionId})'
    description: 'tagwarden function: deallocate, start and delete unattributed VMs and the NICs they leave'
    type: 'CustomRole'
    permissions: [
      {
        actions: [
          'Microsoft.Compute/virtualMachines/deallocate/action'
          'Microsoft.Compute/virtualMachines/delete'
          'Microsoft.Compute/virtualMachines/start/action'
          'Microsoft.Network/networkInterfaces/delete'
        ]
        notActions: []
      }
    ]
    assignableScopes: [
      subscription().id
    ]
  }
}

resource lifecycle 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (allowQuarantine) {
  name: guid(subscription().id, principalId, 'tagwarden-lifecycle')
  properties: {
    description: 'tagwarden function: deallocate, start and delete unattributed VMs (quarantine lifecycle)'
    // the custom role above (not Virtual Machine Contributor: it would add every other VM write)
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', lifecycleRole.name)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}
