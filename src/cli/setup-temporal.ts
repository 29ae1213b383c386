/** `npm run setup:temporal`: find or install the Temporal CLI used by the embedded server, and say where it is. */
import { errorMessage } from '../shared/errors';
import { cliVersion, findTemporalCli } from '../temporal/cli-binary';

findTemporalCli({ log: (line) => console.error(line) })
  .then((cli) => console.error(`Temporal CLI (${cli.source}): ${cli.path}\n  ${cliVersion(cli.path)}`))
  .catch((e: unknown) => {
    console.error(`setup:temporal: ${errorMessage(e)}`);
    process.exitCode = 1;
  });
