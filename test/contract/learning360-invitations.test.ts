/**
 * 360Learning's invitation e-mail is the connection's choice (destination.sendInvitationEmail):
 * off by default, and when on, each created learner is invited and the outcome says so.
 */
import { ConnectionRegistry } from '../../src/activities/deps';
import { lmsActivities } from '../../src/activities/lms';
import { parseConfig } from '../../src/config/loader';
import { demoGroups, embeddedConfigYaml } from '../../src/dev/embedded';
import { DEMO_CREDENTIALS } from '../../src/dev/emulators';
import type { RunningServer } from '../../src/emulators/common/server';
import { Learning360Emulator } from '../../src/emulators/learning360';

let emulator: Learning360Emulator;
let server: RunningServer;

beforeAll(async () => {
  emulator = new Learning360Emulator();
  server = await emulator.start(0);
});
afterAll(async () => {
  await server.close();
});

async function createLearner(sendInvitationEmail: boolean | undefined, mail: string) {
  const config = parseConfig(embeddedConfigYaml('http://127.0.0.1:9', server.url, await demoGroups(server.url)));
  const connection = config.connections[0]!;
  if (connection.destination.type !== '360learning') throw new Error('wrong destination');
  if (sendInvitationEmail !== undefined) connection.destination.sendInvitationEmail = sendInvitationEmail;
  const lms = lmsActivities(new ConnectionRegistry({ config, env: { LEARNING360_CLIENT_SECRET: DEMO_CREDENTIALS.learning360ClientSecret } }));
  const membership = { groupId: connection.destination.defaultGroupId, role: 'learner' as const };
  return lms.applyOperation('demo-360', '3332883894235038486', undefined, { op: 'create', fields: { mail, firstName: 'Ada', lastName: 'Lovelace' }, membership, reason: 'test' });
}

describe('360Learning invitation e-mails', () => {
  it('are not sent by default', async () => {
    const applied = await createLearner(undefined, 'quiet@northwind.example');
    expect(applied.note).not.toContain('invitation');
    expect(emulator.invitations().filter((i) => i.mail === 'quiet@northwind.example')).toEqual([]);
  });

  it('are sent to each created learner when the connection asks, and the outcome names it', async () => {
    const applied = await createLearner(true, 'invited@northwind.example');
    expect(applied.note).toContain('invitation e-mail sent');
    expect(emulator.invitations()).toEqual([expect.objectContaining({ mail: 'invited@northwind.example', userId: applied.learnerId, reason: 'created' })]);
  });
});
