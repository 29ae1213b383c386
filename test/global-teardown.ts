export default async function globalTeardown(): Promise<void> {
  await globalThis.__AGENT_TEAM_TEST_SERVER__?.stop();
}
