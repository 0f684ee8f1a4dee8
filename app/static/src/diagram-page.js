// Progressive enhancement of server-drawn diagrams (.app-diagram[data-diagram-src]): the bpmn-js viewer
// with the same marks, and, on the case page, an element's history shown when it is clicked.
import { fetchBpmn, showDiagram } from './diagram.js'

const WHEN = new Intl.DateTimeFormat('en-GB', { dateStyle: 'long', timeStyle: 'short', timeZone: 'Europe/London' })

async function enhance (container) {
  const data = JSON.parse(document.getElementById(container.dataset.diagramData).textContent)
  const xml = await fetchBpmn(container.dataset.diagramSrc)
  const history = document.getElementById('diagram-history')
  await showDiagram(container, xml, {
    marks: data.marks || {},
    onSelect: history && data.history ? (id) => showHistory(history, id, data) : null
  })
  container.classList.add('app-diagram--enhanced')
}

function showHistory (panel, elementId, data) {
  if (!elementId) return
  const name = (data.names && data.names[elementId]) || elementId
  const entries = data.history[elementId] || []
  const heading = document.createElement('h3')
  heading.className = 'govuk-heading-s'
  heading.textContent = `${name} on this case`
  const body = document.createElement(entries.length ? 'ul' : 'p')
  body.className = entries.length ? 'govuk-list' : 'govuk-body'
  if (!entries.length) body.textContent = 'Nothing has happened at this element on this case.'
  for (const entry of entries) {
    const item = document.createElement('li')
    const hint = document.createElement('span')
    hint.className = 'govuk-hint govuk-!-font-size-16 govuk-!-display-inline'
    hint.textContent = ` (${entry.actor}, ${WHEN.format(new Date(entry.at))})`
    item.append(entry.text, hint)
    body.append(item)
  }
  panel.replaceChildren(heading, body)
}

for (const container of document.querySelectorAll('.app-diagram[data-diagram-src]')) {
  enhance(container).catch((error) => console.warn('The diagram viewer could not start:', error))
}
