/** A `yaml predict` block and the pieces of scratch chapters around it, for the tests of predictions (docs/predictions.md). */

export const QUESTION = 'The scheduler is stopped and you scale to 4. What happens to the new pods?';
export const WHY = 'Creating a pod and placing it are two steps; without a scheduler nobody sets spec.nodeName.';

/** The brief's example prediction: pending (1), refused (2), anyway (3). */
export const PREDICT = `\`\`\`yaml predict name=scale-without-scheduler
question: ${QUESTION}
answers:
  pending: They are created, and stay Pending with no node.
  refused: The API server refuses the change.
  anyway: The kubelets start them anyway.
why: ${WHY}
\`\`\`
`;

export const ts = (name: string, code: string, attrs = '') => `\`\`\`ts run name=${name}${attrs ? ` ${attrs}` : ''}\n${code}\n\`\`\`\n\n`;

/** A chapter whose prediction is answered by a block that needs no cluster: the cluster "did" pending. */
export const PREDICTING_CHAPTER = `# Scale

Stop the scheduler, then scale.

${PREDICT}
${ts('scale', "console.log('scaled to 4')\nanswer(1 + 1 === 2 ? 'pending' : 'refused')")}That is what a scheduler is for.
`;
