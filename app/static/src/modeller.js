// The modeller page: a draft in bpmn-js with the properties panel, saved and checked through JSON calls
// (CSRF token in the X-CSRFToken header). Problems from the server's deploy validation and the
// client's list of unsupported constructs are pinned to their elements and listed in the error summary.
import Modeler from 'bpmn-js/lib/Modeler'
import { BpmnPropertiesPanelModule, BpmnPropertiesProviderModule } from 'bpmn-js-properties-panel'
import spiffworkflow from './spiffworkflow.json'
import SafeguardingPropertiesProvider from './properties-provider.js'
import { unsupportedElements } from './unsupported.js'
import { fetchBpmn } from './diagram.js'

const root = document.getElementById('modeller')
const config = JSON.parse(document.getElementById(root.dataset.config).textContent)
config.uiForms = (config.forms || []).map((name) => name.replace(/\.schema\.json$/, '.uischema.json'))

const summary = document.getElementById('problems')
const problemList = document.getElementById('problem-list')
const layout = buildLayout()
const modeler = new Modeler({
  container: layout.canvas,
  propertiesPanel: { parent: layout.panel },
  additionalModules: [BpmnPropertiesPanelModule, BpmnPropertiesProviderModule,
    { __init__: ['safeguardingProperties'], safeguardingProperties: ['type', SafeguardingPropertiesProvider] }],
  moddleExtensions: { spiffworkflow },
  safeguarding: config
})
let serverProblems = []
let dirty = false

function buildLayout () {
  const toolbar = element('div', 'app-modeller__toolbar')
  const save = button('Save draft', 'save-draft', 'govuk-button--secondary')
  const validate = button('Validate', 'validate', 'govuk-button--secondary')
  const status = element('p', 'govuk-body app-modeller__status')
  status.id = 'modeller-status'
  status.setAttribute('role', 'status')
  toolbar.append(save, validate, status)
  const body = element('div', 'app-modeller__body')
  const canvas = element('div', 'app-modeller__canvas')
  const panel = element('div', 'app-modeller__panel')
  panel.setAttribute('aria-label', 'Properties of the chosen element')
  panel.setAttribute('role', 'region')
  body.append(canvas, panel)
  root.replaceChildren(toolbar, body)
  root.classList.add('app-modeller--enhanced')
  for (const check of document.querySelectorAll('#check-model')) check.closest('form').classList.add('app-hidden')
  save.addEventListener('click', () => saveDraft().catch(showFailure))
  validate.addEventListener('click', () => validateDraft().catch(showFailure))
  return { toolbar, canvas, panel, status }
}

function element (tag, className) {
  const made = document.createElement(tag)
  made.className = className
  return made
}

function button (text, id, extra) {
  const made = element('button', `govuk-button ${extra}`)
  made.type = 'button'
  made.id = id
  made.textContent = text
  return made
}

function say (text) {
  layout.status.textContent = text
}

function showFailure (error) {
  say(`That did not work: ${error.message}`)
}

async function post (url, body) {
  const response = await fetch(url, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRFToken': root.dataset.csrfToken },
    body: JSON.stringify(body)
  })
  const answer = await response.json().catch(() => ({}))
  if (!response.ok) {
    const errors = answer.errors ? Object.values(answer.errors).join(' ') : `the server answered ${response.status}`
    throw new Error(errors)
  }
  return answer
}

async function saveDraft () {
  const { xml } = await modeler.saveXML({ format: true })
  await post(root.dataset.saveUrl, { xml })
  dirty = false
  say('The draft is saved.')
}

async function validateDraft () {
  await saveDraft()
  const answer = await post(root.dataset.validateUrl, {})
  serverProblems = answer.problems || []
  showProblems()
  say(answer.passed && !clientProblems().length ? 'The model passed every check. It can be deployed.'
    : `The model has ${allProblems().length} problem${allProblems().length === 1 ? '' : 's'}.`)
}

function clientProblems () {
  return unsupportedElements(modeler.get('elementRegistry'))
}

function allProblems () {
  const seen = new Set(serverProblems.map((p) => `${p.element_id}|${p.message}`))
  return [...serverProblems, ...clientProblems().filter((p) => !seen.has(`${p.element_id}|${p.message}`))]
}

function showProblems () {
  const overlays = modeler.get('overlays')
  const canvas = modeler.get('canvas')
  const registry = modeler.get('elementRegistry')
  overlays.remove({ type: 'app-problem' })
  for (const shape of registry.getAll()) canvas.removeMarker(shape, 'app-mark--problem')
  problemList.replaceChildren()
  const problems = allProblems()
  for (const problem of problems) {
    const shown = problem.element_id && registry.get(problem.element_id)
    if (shown) {
      canvas.addMarker(problem.element_id, 'app-mark--problem')
      const badge = element('div', 'app-problem')
      badge.textContent = problem.message
      badge.dataset.elementId = problem.element_id
      overlays.add(problem.element_id, 'app-problem', { position: { bottom: -6, left: 0 }, html: badge })
    }
    problemList.append(problemItem(problem, shown))
  }
  summary.classList.toggle('app-hidden', problems.length === 0)
  if (problems.length) summary.focus()
}

function problemItem (problem, shown) {
  const item = document.createElement('li')
  const link = document.createElement('a')
  link.href = '#modeller'
  link.dataset.elementId = problem.element_id || ''
  link.textContent = `${problem.element_id ? problem.element_id + ': ' : ''}${problem.message}`
  if (shown) {
    link.addEventListener('click', (event) => {
      event.preventDefault()
      const target = modeler.get('elementRegistry').get(problem.element_id)
      modeler.get('canvas').scrollToElement(target)
      modeler.get('selection').select(target)
    })
  }
  item.append(link)
  return item
}

function offerDiagrams () {
  const diagrams = modeler.getDefinitions().diagrams || []
  if (diagrams.length < 2) return
  const field = element('div', 'govuk-form-group app-modeller__diagrams')
  const label = element('label', 'govuk-label')
  label.htmlFor = 'diagram-choice'
  label.textContent = `This file has ${diagrams.length} diagrams: show`
  const select = element('select', 'govuk-select')
  select.id = 'diagram-choice'
  diagrams.forEach((diagram, n) => select.append(new Option(diagram.name || diagram.id || `Diagram ${n + 1}`, diagram.id)))
  select.addEventListener('change', () => modeler.open(select.value).then(showProblems).catch(showFailure))
  field.append(label, select)
  layout.toolbar.append(field)
}

async function start () {
  const { warnings } = await modeler.importXML(await fetchBpmn(root.dataset.bpmnUrl))
  modeler.get('canvas').zoom('fit-viewport')
  offerDiagrams()
  serverProblems = [...document.querySelectorAll('#problem-list a[data-element-id]')]
    .map((link) => {
      const id = link.dataset.elementId || null
      const text = link.textContent.trim()
      return { element_id: id, message: id && text.startsWith(`${id}: `) ? text.slice(id.length + 2) : text }
    })
  showProblems()
  modeler.on('commandStack.changed', () => { dirty = true; say('You have changes that are not saved.') })
  say(warnings.length ? `The model opened with ${warnings.length} warning(s) from the BPMN reader.` : 'The model is open.')
  window.appModeller = modeler // for people (and tests) who want the bpmn-js API from the console
}

document.getElementById('go-deploy')?.addEventListener('click', (event) => {
  if (!dirty) return
  event.preventDefault()
  saveDraft().then(() => { window.location.href = event.target.href }).catch(showFailure)
})

start().catch(showFailure)
