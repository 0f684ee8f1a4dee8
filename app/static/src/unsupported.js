// BPMN that other modellers draw but this application cannot run, flagged in the editor before the
// server's checks are asked (deploy validation has the last word; bpmn/README.md says what is supported).
import { getBusinessObject, is } from 'bpmn-js/lib/util/ModelUtil'

const ELEMENTS = [
  ['bpmn:ComplexGateway', 'Complex gateways are not supported: use exclusive, inclusive or parallel gateways.'],
  ['bpmn:AdHocSubProcess', 'Ad hoc sub-processes are not supported: use an embedded sub-process.'],
  ['bpmn:Transaction', 'Transactions are not supported: use an embedded sub-process.'],
  ['bpmn:CallActivity', 'Call activities are not supported: draw the steps in an embedded sub-process.'],
  ['bpmn:BusinessRuleTask', 'Business rule (DMN) tasks are not supported: use a script task.'],
  ['bpmn:ServiceTask', 'Service tasks are not supported: nothing here calls other services. Use a script task.'],
  ['bpmn:ManualTask', 'Manual tasks are not supported: use a user task with a form, so it is recorded.'],
  ['bpmn:SendTask', 'Send tasks are not supported: use a message throw event.'],
  ['bpmn:ReceiveTask', 'Receive tasks are not supported: use a message catch event.']
]
// Signal events are run (a signal thrown in a case is caught in the same case only, as the PiPoT closure
// stops the updates to the colleague); messages are what cross between cases.
const EVENTS = [
  ['bpmn:ConditionalEventDefinition', 'Conditional events are not supported: use a gateway with conditions.'],
  ['bpmn:CompensateEventDefinition', 'Compensation is not supported.'],
  ['bpmn:LinkEventDefinition', 'Link events are not supported: draw the sequence flow.']
]

export function unsupportedElements (elementRegistry) {
  const problems = []
  for (const element of elementRegistry.getAll()) {
    if (element.type === 'label' || !element.businessObject) continue
    const message = messageFor(element)
    if (message) problems.push({ element_id: element.id, message, client: true })
  }
  return problems
}

function messageFor (element) {
  const found = ELEMENTS.find(([type]) => is(element, type))
  if (found) return found[1]
  const definitions = getBusinessObject(element).eventDefinitions || []
  const event = EVENTS.find(([type]) => definitions.some((definition) => is(definition, type)))
  return event ? event[1] : null
}
