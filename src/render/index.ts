/** The static site: the same parsed book as the runner, with a recorded run's outputs and diffs. */
export { escapeHtml, highlight } from './html.js';
export { pageName, type RenderOptions, type RenderResult, renderSite } from './site.js';
