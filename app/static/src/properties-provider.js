// The properties panel edits only what this application reads from a model, in plain words: a user
// task's form, instructions, due rule, who does it and what its page shows; a lane's role; a timer's expression; a flow's condition.
// (bpmn/README.md describes each.) Every other group of the standard panel is left out.
import { jsx } from '@bpmn-io/properties-panel/preact/jsx-runtime'
import { SelectEntry, TextAreaEntry, TextFieldEntry } from '@bpmn-io/properties-panel'
import { useService } from 'bpmn-js-properties-panel'
import { getBusinessObject, is } from 'bpmn-js/lib/util/ModelUtil'

const KEEP = new Set(['general', 'documentation'])
const HELPERS = 'working_days_after(when, n), hours_after(when, h), now(), today(), is_out_of_hours(when), working_days_between(start, end)'
const TIMER_KINDS = [
  { value: 'timeDate', label: 'At a date and time' },
  { value: 'timeDuration', label: 'After a length of time' },
  { value: 'timeCycle', label: 'Repeatedly' }
]

export default function SafeguardingPropertiesProvider (propertiesPanel, config) {
  this.config = config || { forms: [], roles: [] }
  propertiesPanel.registerProvider(500, this)
}
SafeguardingPropertiesProvider.$inject = ['propertiesPanel', 'config.safeguarding']

SafeguardingPropertiesProvider.prototype.getGroups = function (element) {
  const config = this.config
  return function (groups) {
    const kept = groups.filter((group) => KEEP.has(group.id))
    const own = ownGroup(element, config)
    return own ? [kept[0], own, ...kept.slice(1)].filter(Boolean) : kept
  }
}

function ownGroup (element, config) {
  if (is(element, 'bpmn:UserTask')) return group('safeguarding-task', 'Task for a person', userTaskEntries(element, config))
  if (is(element, 'bpmn:Lane')) return group('safeguarding-lane', 'Role', [entry('lane-role', LaneRole, element, config)])
  if (timerOf(element)) {
    return group('safeguarding-timer', 'Timer', [entry('timer-kind', TimerKind, element),
      entry('timer-expression', TimerExpression, element), entry('timer-call-now', TimerCallNow, element)])
  }
  if (is(element, 'bpmn:SequenceFlow') && isChoice(element.businessObject.sourceRef)) {
    return group('safeguarding-condition', 'Condition', [entry('flow-condition', FlowCondition, element)])
  }
  return null
}

function group (id, label, entries) {
  return { id, label, entries }
}

function entry (id, component, element, config) {
  return { id, component, element, config }
}

function userTaskEntries (element, config) {
  return [entry('task-form', TaskForm, element, config), entry('task-instructions', TaskInstructions, element),
    entry('task-due', TaskDue, element), entry('task-assignee', TaskAssignee, element),
    entry('task-context', TaskContext, element), entry('task-returned', TaskReturned, element),
    entry('task-carry', TaskCarry, element), entry('task-record', TaskRecord, element)]
}

// User tasks: spiffworkflow:properties and spiffworkflow:instructionsForEndUser.

function TaskForm ({ element, id, config }) {
  const services = useServices()
  const forms = config.forms || []
  const getOptions = () => [{ value: '', label: 'Choose a form' }, ...forms.map((name) => ({ value: name, label: name }))]
  const setValue = (value) => {
    setProperty(element, 'formJsonSchemaFilename', value, services)
    const ui = value ? value.replace(/\.schema\.json$/, '.uischema.json') : ''
    setProperty(element, 'formUiSchemaFilename', ui && config.uiForms && config.uiForms.includes(ui) ? ui : '', services)
  }
  return jsx(SelectEntry, {
    element, id, label: 'Form', getValue: () => getProperty(element, 'formJsonSchemaFilename'), setValue, getOptions,
    description: 'What the person fills in: a form in the forms folder.'
  })
}

function TaskInstructions ({ element, id }) {
  const services = useServices()
  return jsx(TextAreaEntry, {
    element, id, label: 'Instructions', debounce: services.debounce, rows: 3,
    description: 'Shown above the form (plain text).',
    getValue: () => getInstructions(element), setValue: (value) => setInstructions(element, value, services)
  })
}

function TaskDue ({ element, id }) {
  const services = useServices()
  return jsx(TextFieldEntry, {
    element, id, label: 'Due', debounce: services.debounce,
    description: `When the task is due, for example working_days_after(threshold_decided_at, 3). Helpers: ${HELPERS}.`,
    getValue: () => getProperty(element, 'dueDate'), setValue: (value) => setProperty(element, 'dueDate', value, services)
  })
}

function TaskAssignee ({ element, id }) {
  const services = useServices()
  return jsx(TextFieldEntry, {
    element, id, label: 'Who does it (named on the case)', debounce: services.debounce,
    description: 'The person question whose answer names who does this task, for example reporting_manager. ' +
      'Leave it empty and the task goes to the people holding the lane\'s role in the case\'s unit.',
    getValue: () => getProperty(element, 'assignee'), setValue: (value) => setProperty(element, 'assignee', value, services)
  })
}

function TaskContext ({ element, id }) {
  const services = useServices()
  return jsx(TextAreaEntry, {
    element, id, label: 'What the page shows beside the form', debounce: services.debounce, rows: 2,
    description: 'Read-only, comma-separated: a form (pipot_referral.schema.json: its latest answers on the case), ' +
      'a question or the item of a multi-instance (meeting_action: with who agreed it), or linked_cases.',
    getValue: () => getProperty(element, 'context'), setValue: (value) => setProperty(element, 'context', value, services)
  })
}

function TaskReturned ({ element, id }) {
  const services = useServices()
  return jsx(TextFieldEntry, {
    element, id, label: 'When it comes back, say why with', debounce: services.debounce,
    description: 'Comma-separated answers shown at the top when this task is done again on a case, ' +
      'for example referral_missing_information, or meeting_quoracy_missing=What the meeting lacked.',
    getValue: () => getProperty(element, 'returned'), setValue: (value) => setProperty(element, 'returned', value, services)
  })
}

function TaskCarry ({ element, id }) {
  const services = useServices()
  return jsx(TextFieldEntry, {
    element, id, label: 'Open the form with', debounce: services.debounce,
    description: 'Earlier answers of another name the form opens with, question=earlier_question, comma-separated ' +
      '(meeting_attendees=invitees). Answers of the same name are carried forward anyway.',
    getValue: () => getProperty(element, 'carry'), setValue: (value) => setProperty(element, 'carry', value, services)
  })
}

function TaskRecord ({ element, id }) {
  const services = useServices()
  return jsx(TextFieldEntry, {
    element, id, label: 'Printable record', debounce: services.debounce,
    description: 'The title of the meeting record its answers make, for example POT meeting. Tasks with the same title make one record.',
    getValue: () => getProperty(element, 'record'), setValue: (value) => setProperty(element, 'record', value, services)
  })
}

function TimerCallNow ({ element, id }) {
  const services = useServices()
  return jsx(TextFieldEntry, {
    element, id, label: 'Button to call it now', debounce: services.debounce,
    description: 'Words of a button on the case page that lets the pathway\'s oversight role bring this clock forward, ' +
      'with a reason. Leave it empty for a clock nobody may bring forward.',
    getValue: () => getProperty(element, 'call_now'), setValue: (value) => setProperty(element, 'call_now', value, services)
  })
}

// Lanes: the lane's name is a role of the role table.

function LaneRole ({ element, id, config }) {
  const modeling = useService('modeling')
  const roles = config.roles || []
  const current = element.businessObject.name || ''
  const known = roles.find((role) => role.toLowerCase() === current.trim().toLowerCase())
  const getOptions = () => [
    { value: '', label: known || !current ? 'Choose a role' : `Not a role: ${current}` },
    ...roles.map((role) => ({ value: role, label: role }))
  ]
  return jsx(SelectEntry, {
    element, id, label: 'Role', getOptions, getValue: () => known || '',
    setValue: (value) => modeling.updateProperties(element, { name: value || current }),
    description: 'The tasks in the lane go to the people holding this role in the case\'s unit (or the nearest unit above it).'
  })
}

// Timers: one of timeDate, timeDuration, timeCycle, as a Python expression.

function timerOf (element) {
  const definitions = getBusinessObject(element).eventDefinitions || []
  return definitions.find((definition) => is(definition, 'bpmn:TimerEventDefinition'))
}

function timerKind (timer) {
  return TIMER_KINDS.map((k) => k.value).find((kind) => timer.get(kind)) || 'timeDate'
}

function TimerKind ({ element, id }) {
  const { modeling, bpmnFactory } = useServices()
  const timer = timerOf(element)
  const setValue = (kind) => {
    const body = (timer.get(timerKind(timer)) || {}).body || ''
    const changes = { timeDate: undefined, timeDuration: undefined, timeCycle: undefined }
    changes[kind] = bpmnFactory.create('bpmn:FormalExpression', { body })
    modeling.updateModdleProperties(element, timer, changes)
  }
  return jsx(SelectEntry, { element, id, label: 'When it runs out', getValue: () => timerKind(timer), setValue, getOptions: () => TIMER_KINDS })
}

function TimerExpression ({ element, id }) {
  const { modeling, bpmnFactory, debounce } = useServices()
  const timer = timerOf(element)
  const setValue = (value) => {
    const kind = timerKind(timer)
    modeling.updateModdleProperties(element, timer, { [kind]: bpmnFactory.create('bpmn:FormalExpression', { body: value }) })
  }
  return jsx(TextFieldEntry, {
    element, id, label: 'Expression', debounce, getValue: () => (timer.get(timerKind(timer)) || {}).body || '', setValue,
    description: `A Python expression: working_days_after(referral_received_at, 1) for a date, "PT4H" (quoted) for a length of time. Helpers: ${HELPERS}.`
  })
}

// Flows out of a gateway: the condition, a Python expression over the case's answers.

function isChoice (source) {
  return is(source, 'bpmn:ExclusiveGateway') || is(source, 'bpmn:InclusiveGateway')
}

function FlowCondition ({ element, id }) {
  const { modeling, bpmnFactory, debounce } = useServices()
  const bo = element.businessObject
  const setValue = (value) => {
    const condition = value ? bpmnFactory.create('bpmn:FormalExpression', { body: value }) : undefined
    modeling.updateProperties(element, { conditionExpression: condition })
  }
  return jsx(TextAreaEntry, {
    element, id, label: 'Condition', debounce, rows: 2, getValue: () => (bo.conditionExpression || {}).body || '', setValue,
    description: "Taken when this is true, for example threshold_met == True or not_met_route == 'complaint'. Leave it empty on the gateway's default flow."
  })
}

// spiffworkflow: extension elements.

function useServices () {
  return {
    modeling: useService('modeling'), bpmnFactory: useService('bpmnFactory'), debounce: useService('debounceInput')
  }
}

function extensionValues (element, type) {
  const extensions = getBusinessObject(element).get('extensionElements')
  return extensions ? extensions.get('values').filter((value) => is(value, type)) : []
}

function getProperty (element, name) {
  for (const properties of extensionValues(element, 'spiffworkflow:Properties')) {
    const found = properties.get('properties').find((property) => property.name === name)
    if (found) return found.value || ''
  }
  return ''
}

function ensureExtensions (element, { modeling, bpmnFactory }) {
  const bo = getBusinessObject(element)
  let extensions = bo.get('extensionElements')
  if (!extensions) {
    extensions = bpmnFactory.create('bpmn:ExtensionElements', { values: [] })
    extensions.$parent = bo
    modeling.updateModdleProperties(element, bo, { extensionElements: extensions })
  }
  return extensions
}

function setProperty (element, name, value, services) {
  const { modeling, bpmnFactory } = services
  if (!value && !getProperty(element, name)) return
  const extensions = ensureExtensions(element, services)
  let properties = extensionValues(element, 'spiffworkflow:Properties')[0]
  if (!properties) {
    properties = bpmnFactory.create('spiffworkflow:Properties', { properties: [] })
    properties.$parent = extensions
    modeling.updateModdleProperties(element, extensions, { values: [...extensions.get('values'), properties] })
  }
  const list = properties.get('properties')
  const found = list.find((property) => property.name === name)
  if (!value) {
    modeling.updateModdleProperties(element, properties, { properties: list.filter((p) => p !== found) })
  } else if (found) {
    modeling.updateModdleProperties(element, found, { value })
  } else {
    const property = bpmnFactory.create('spiffworkflow:Property', { name, value })
    property.$parent = properties
    modeling.updateModdleProperties(element, properties, { properties: [...list, property] })
  }
}

function getInstructions (element) {
  const found = extensionValues(element, 'spiffworkflow:InstructionsForEndUser')[0]
  return found ? found.value || '' : ''
}

function setInstructions (element, value, services) {
  const { modeling, bpmnFactory } = services
  const extensions = ensureExtensions(element, services)
  const found = extensionValues(element, 'spiffworkflow:InstructionsForEndUser')[0]
  if (found) {
    modeling.updateModdleProperties(element, found, { value })
    return
  }
  const instructions = bpmnFactory.create('spiffworkflow:InstructionsForEndUser', { value })
  instructions.$parent = extensions
  modeling.updateModdleProperties(element, extensions, { values: [...extensions.get('values'), instructions] })
}
