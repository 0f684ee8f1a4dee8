// The heat map of the process audit view (app/templates/reports/_heat_map.html): the bpmn-js viewer of
// diagram.js with each element's heat as a mark and its figures as an overlay. Progressive enhancement:
// without JavaScript the server-drawn SVG and the table below it say the same.
import { showDiagram } from './diagram.js'

async function enhance (container) {
  const data = JSON.parse(document.getElementById(container.dataset.diagramData).textContent)
  const response = await fetch(container.dataset.diagramSrc, { credentials: 'same-origin' })
  if (!response.ok) return
  const diagram = await showDiagram(container, await response.text(), { marks: data.marks || {} })
  for (const [elementId, text] of Object.entries(data.badges || {})) {
    const badge = document.createElement('span')
    badge.className = 'app-heat-badge'
    badge.textContent = text
    diagram.overlay(elementId, badge, { bottom: 12, left: -4 })
  }
  container.classList.add('app-diagram--enhanced')
  container.dataset.heatMapReady = 'true'
}

for (const container of document.querySelectorAll('.app-heat-map[data-diagram-src]')) {
  enhance(container).catch((error) => console.warn('The heat map viewer could not start:', error))
}
