// Alerts of the function app to one action group: invocations that failed and tagwarden's own
// EventsFailed counter (a scheduled query on Application Insights). Dead-lettered and dropped
// events are alerted on where each system topic lives (dead-letter-alert.bicep), to this group.

param location string
param tags object
param appInsightsName string
param actionGroupName string

@description('Email address the alerts go to; empty: the action group has no receiver (add one later).')
param alertEmail string = ''

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: actionGroupName
  location: 'global'
  tags: tags
  properties: {
    groupShortName: 'tagwarden'
    enabled: true
    emailReceivers: empty(alertEmail) ? [] : [
      {
        name: 'tagwarden'
        emailAddress: alertEmail
        useCommonAlertSchema: true
      }
    ]
  }
}

// A failed invocation is a failed request (its exception beside it); the code counts every failure
// as a trace {"metric": "EventsFailed", ...} (tagwarden.azure.telemetry). host.json keeps both out
// of sampling, so a count above zero is never a sampling artefact and never hidden by one.
var failuresQuery = 'union (requests | where success == false | project timestamp), (traces | where message startswith \'{"metric": "EventsFailed"\' | project timestamp)'

resource failures 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: '${actionGroupName}-failures'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: 'tagwarden: function failures'
    description: 'tagwarden: an invocation failed or an event could not be processed (Event Grid retries it, then dead-letters it)'
    severity: 1
    enabled: true
    scopes: [
      appInsights.id
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT5M'
    criteria: {
      allOf: [
        {
          query: failuresQuery
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: true
    actions: {
      actionGroups: [
        actionGroup.id
      ]
    }
  }
}

output actionGroupId string = actionGroup.id
