// Alerts on a subscription's system topic: events Event Grid dead-lettered (into the app's
// dead-letter container, after maxDeliveryAttempts or eventTimeToLiveInMinutes) and events it
// dropped (no dead-letter possible), to the app's action group (alerts.bicep). One per topic:
// main.bicep for the app's subscription, member-subscription.bicep for each member.

param systemTopicName string
param tags object
param actionGroupId string

// Event Grid metrics of Microsoft.EventGrid/systemTopics (Total per window).
var metrics = [
  {
    name: 'dead-lettered'
    metric: 'DeadLetteredCount'
    description: 'tagwarden: Event Grid dead-lettered events (they wait in the dead-letter container)'
  }
  {
    name: 'dropped'
    metric: 'DroppedEventCount'
    description: 'tagwarden: Event Grid dropped events it could not deliver nor dead-letter'
  }
]

resource systemTopic 'Microsoft.EventGrid/systemTopics@2025-02-15' existing = {
  name: systemTopicName
}

resource alerts 'Microsoft.Insights/metricAlerts@2018-03-01' = [
  for m in metrics: {
    name: '${systemTopicName}-${m.name}'
    location: 'global'
    tags: tags
    properties: {
      description: m.description
      severity: 1
      enabled: true
      scopes: [
        systemTopic.id
      ]
      evaluationFrequency: 'PT5M'
      windowSize: 'PT5M'
      criteria: {
        'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
        allOf: [
          {
            name: m.name
            criterionType: 'StaticThresholdCriterion'
            metricNamespace: 'Microsoft.EventGrid/systemTopics'
            metricName: m.metric
            timeAggregation: 'Total'
            operator: 'GreaterThan'
            threshold: 0
          }
        ]
      }
      autoMitigate: true
      actions: [
        {
          actionGroupId: actionGroupId
        }
      ]
    }
  }
]
