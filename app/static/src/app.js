// Progressive enhancement only: every page works without JavaScript.
import { initAll } from '../vendor/govuk-frontend/govuk-frontend.min.js'

document.body.classList.add('js-enabled', 'govuk-frontend-supported')
initAll()

// GOV.UK Frontend marks radios and checkboxes that reveal content with aria-expanded, which ARIA
// does not allow on those roles (axe-core reports it as critical). aria-controls stays, and the
// revealed content follows the checked option, so the attribute is dropped whenever it is set.
function dropExpanded () {
  document.querySelectorAll('input[type="radio"][aria-expanded], input[type="checkbox"][aria-expanded]')
    .forEach(function (input) { input.removeAttribute('aria-expanded') })
}
dropExpanded()
document.addEventListener('click', dropExpanded)
document.addEventListener('change', dropExpanded)
window.addEventListener('pageshow', dropExpanded)
