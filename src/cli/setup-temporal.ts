/** `npm run setup:temporal`: find or install the Temporal CLI used by the embedded server, and say where it is. */
import { cliVersion, findTemporalCli } from '../temporal/cli-binary';

findTemporalCli({ log: (line) => console.error(line) })
  .then((cli) => console.error(`Temporal CLI (${cli.source}): ${cli.path}\n  ${cliVersion(cli.path)}`))
  .catch((e: unknown) => {
    console.error(`setup:temporal: ${(e as Error).message}`);
    process.exitCode = 1;
  });
