import type MarkdownIt from 'markdown-it';
import type { Prediction } from '../runner/types.js';
import { escapeHtml, slug } from './html.js';

/**
 * A `yaml predict` block on the site: the question and its answers where the chapter asks it,
 * before the block that answers it. With a recorded run, the cluster's answer and `why` are folded
 * under "What the cluster did", so a reader can guess first; without one, the answers alone.
 * `md` renders the question and texts inline (their `code`, *emphasis*), raw HTML off.
 */
export function predictionHtml(prediction: Prediction, answer: string | undefined, md: MarkdownIt): string {
  const inline = (text: string) => md.renderInline(text);
  const id = `predict-${slug(prediction.id)}`;
  const answers = prediction.answers
    .map((a) => `<li data-answer="${escapeHtml(a.key)}">${inline(a.text)} <code class="answer-key">${escapeHtml(a.key)}</code></li>`)
    .join('');
  const given = answer === undefined ? undefined : prediction.answers.find((a) => a.key === answer);
  const verdict = given
    ? `<details class="prediction-verdict"><summary>What the cluster did</summary><p class="cluster-answer">${inline(given.text)} <code class="answer-key">${escapeHtml(given.key)}</code></p>${
        prediction.why ? `<p class="why">${inline(prediction.why)}</p>` : ''
      }</details>`
    : '';
  return `<aside class="prediction" id="${escapeHtml(id)}" aria-labelledby="${escapeHtml(id)}-q">
<p class="prediction-label">Predict before it runs</p>
<p class="question" id="${escapeHtml(id)}-q">${inline(prediction.question)}</p>
<ol class="answers">${answers}</ol>
${verdict}</aside>\n`;
}
