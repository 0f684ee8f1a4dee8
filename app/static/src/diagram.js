/**
 * diagram.js: the one bpmn-js viewer of the application, for every page that shows a process diagram
 * (the case diagram, the difference between two versions, and reports such as a heat map).
 *
 *   import { showDiagram } from './diagram.js'
 *   const diagram = await showDiagram(container, bpmnXml, { marks, onSelect, diagramId })
 *
 *   marks        { elementId: mark }: each element gets the CSS class `app-mark--<mark>`; the colours
 *                live in diagram.scss (completed, current, overdue, fired, added, changed, removed,
 *                problem; add a class there for a new kind, e.g. `app-mark--heat-3`)
 *   onSelect     called with (elementId, element) when someone clicks an element (or presses Enter on
 *                it in the element list), null when they click the background
 *   diagramId    which diagram of the file to open (default: the first)
 *
 *   diagram.mark(elementId, mark)          add a mark (any number per element)
 *   diagram.clearMarks()                   remove every mark this module added
 *   diagram.overlay(elementId, html, pos)  HTML (text or an Element) pinned to an element; returns its id
 *   diagram.clearOverlays()
 *   diagram.diagrams                       [{ id, name }] of the file: offer a choice when there are several
 *   await diagram.open(diagramId)          show another diagram of the file (marks are applied again)
 *   diagram.viewer                         the bpmn-js viewer itself, for anything else
 *
 *   const xml = await fetchBpmn(url)       a BPMN file as text, decoded in the encoding its XML declaration
 *                                          names (some modellers write ISO-8859-1)
 *
 * The viewer replaces the container's children; keep a server-drawn picture inside it for pages
 * without JavaScript. Import problems raise an Error whose message says what is wrong.
 */
import NavigatedViewer from 'bpmn-js/lib/NavigatedViewer'

export async function fetchBpmn (url) {
  const response = await fetch(url, { credentials: 'same-origin' })
  if (!response.ok) throw new Error(`the diagram could not be fetched (${response.status})`)
  const bytes = await response.arrayBuffer()
  const head = new TextDecoder('ascii').decode(bytes.slice(0, 200))
  const declared = /^\s*<\?xml[^>]*encoding\s*=\s*["']([\w.:-]+)["']/.exec(head)
  try {
    return new TextDecoder(declared ? declared[1] : 'utf-8').decode(bytes)
  } catch (error) { // an encoding the browser does not know: read it as UTF-8
    return new TextDecoder('utf-8').decode(bytes)
  }
}

export async function showDiagram (container, xml, options = {}) {
  const host = document.createElement('div')
  host.className = 'app-diagram__canvas'
  const viewer = new NavigatedViewer({ container: host })
  const diagram = new Diagram(viewer, options)
  await diagram.load(xml, options.diagramId)
  container.replaceChildren(controls(diagram), host)
  viewer.get('canvas').resized()
  diagram.showCurrent()
  return diagram
}

// Zoom in, zoom out, fit the whole diagram, and back to where the case is: buttons above the canvas
// (a large pathway fitted into the page is too small to read, so it opens at the current step).
function controls (diagram) {
  const bar = document.createElement('div')
  bar.className = 'govuk-button-group app-diagram__controls'
  const button = (text, action) => {
    const b = document.createElement('button')
    b.type = 'button'
    b.className = 'govuk-button govuk-button--secondary app-diagram__control'
    b.textContent = text
    b.addEventListener('click', action)
    bar.append(b)
  }
  const canvas = () => diagram.viewer.get('canvas')
  button('Zoom in', () => canvas().zoom(canvas().zoom() * 1.25))
  button('Zoom out', () => canvas().zoom(canvas().zoom() / 1.25))
  button('Fit the whole diagram', () => canvas().zoom('fit-viewport'))
  if (diagram.currentIds().length) button('Show where the case is', () => diagram.showCurrent())
  return bar
}

export class Diagram {
  constructor (viewer, options = {}) {
    this.viewer = viewer
    this.options = options
    this.marks = []
    this.diagrams = []
    viewer.on('element.click', (event) => {
      const element = event.element
      const isRoot = !element.parent
      if (options.onSelect) options.onSelect(isRoot ? null : element.id, isRoot ? null : element)
    })
  }

  async load (xml, diagramId) {
    const { warnings } = await this.viewer.importXML(xml, diagramId)
    const definitions = this.viewer.getDefinitions()
    this.diagrams = (definitions.diagrams || []).map((d, n) => ({ id: d.id, name: d.name || d.id || `Diagram ${n + 1}` }))
    this.warnings = warnings
    this.applyMarks(this.options.marks || {})
    return warnings
  }

  async open (diagramId) {
    await this.viewer.open(diagramId)
    this.marks = []
    this.applyMarks(this.options.marks || {})
    this.viewer.get('canvas').zoom('fit-viewport')
  }

  currentIds () {
    const registry = this.viewer.get('elementRegistry')
    return Object.entries(this.options.marks || {})
      .filter(([id, mark]) => (mark === 'current' || mark === 'overdue') && registry.get(id)).map(([id]) => id)
  }

  // At a readable size on the current step (the first open task), else the whole diagram fitted.
  showCurrent () {
    const canvas = this.viewer.get('canvas')
    const [first] = this.currentIds()
    if (!first) {
      canvas.zoom('fit-viewport')
      return
    }
    canvas.zoom(1)
    canvas.scrollToElement(this.viewer.get('elementRegistry').get(first), { top: 120, left: 200, right: 200, bottom: 120 })
  }

  applyMarks (marks) {
    for (const [elementId, mark] of Object.entries(marks)) this.mark(elementId, mark)
  }

  mark (elementId, mark) {
    const registry = this.viewer.get('elementRegistry')
    if (!registry.get(elementId)) return false
    const marker = `app-mark--${mark}`
    this.viewer.get('canvas').addMarker(elementId, marker)
    this.marks.push([elementId, marker])
    return true
  }

  clearMarks () {
    const canvas = this.viewer.get('canvas')
    for (const [elementId, marker] of this.marks) canvas.removeMarker(elementId, marker)
    this.marks = []
  }

  overlay (elementId, html, position = { top: -10, right: 10 }) {
    if (!this.viewer.get('elementRegistry').get(elementId)) return null
    return this.viewer.get('overlays').add(elementId, 'app', { position, html })
  }

  clearOverlays () {
    this.viewer.get('overlays').remove({ type: 'app' })
  }
}
