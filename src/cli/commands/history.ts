/** `history <workflowId>` and `timeline <workflowId>`: a workflow's audit trail, as text, JSON or a drawing. */
import { Option, type Command } from 'commander';
import { renderAudit } from '../render/audit';
import { TIMELINE_FORMATS, renderTimeline, type TimelineFormat } from '../render/timeline';
import {
  action,
  configOption,
  err,
  json,
  jsonOption,
  out,
  withClient,
  writeAtomically,
  type CommonOptions,
} from '../common';

export function registerHistory(program: Command): void {
  program
    .command('timeline')
    .summary('draw every run of a workflow (text, mermaid, html)')
    .description(
      'Draw the steps of every run of a workflow (its reset chain): agent, round, duration, retries, tokens, and where ' +
        'resets branched off; text for the terminal, mermaid for docs, html for people',
    )
    .argument('<workflowId>', 'the workflow')
    .addOption(
      new Option('--format <format>', 'text, mermaid (a gantt chart) or html (one self-contained file)')
        .choices(TIMELINE_FORMATS)
        .default('text'),
    )
    .option('-o, --output <file>', 'write here (default: stdout)')
    .addOption(configOption())
    .addHelpText(
      'after',
      '\nExamples:\n  agent-team timeline team-261130-061115-1a2b3c\n  agent-team timeline <workflowId> --format html -o timeline.html',
    )
    .action(
      action(async (workflowId: string, options: CommonOptions & { format: TimelineFormat; output?: string }) => {
        const trail = await withClient(options, (client) => client.history.audit(workflowId));
        const text = renderTimeline(trail, options.format);
        if (options.output) {
          await writeAtomically(options.output, text + '\n');
          err(`✔ ${options.format} timeline of ${workflowId} (${trail.runs.length} run(s)) → ${options.output}`);
        } else process.stdout.write(text + '\n');
      }),
    );

  program
    .command('history')
    .summary('the audit trail of every run of a workflow')
    .description(
      "A workflow's audit trail: every step's instruction, answer, model, tokens, attempts and timestamps, and every reset " +
        'with its reason and who asked, over all runs of its reset chain',
    )
    .argument('<workflowId>', 'the workflow')
    .option('--full', 'print answers whole (default: the first 400 characters)')
    .addOption(configOption())
    .addOption(jsonOption())
    .action(
      action(async (workflowId: string, options: CommonOptions & { full?: boolean }) => {
        const trail = await withClient(options, (client) => client.history.audit(workflowId));
        if (options.json) json(trail);
        else out(renderAudit(trail, { full: options.full ?? false }));
      }),
    );
}
