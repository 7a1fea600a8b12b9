/**
 * `bobsync temporal setup` on the suite's real dev server: the command as an operator runs it,
 * and registration of an attribute the server does not know yet.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { defineSearchAttributeKey } from '@temporalio/common';
import { registerSearchAttributes, SearchAttributeSetupError } from '../../src/cli/temporal-setup';
import { BOBSYNC_SEARCH_ATTRIBUTES } from '../../src/workflows/search-attributes';

jest.setTimeout(60_000);

const run = promisify(execFile);
const address = () => process.env.BOBSYNC_TEST_TEMPORAL_ADDRESS!;

describe('bobsync temporal setup', () => {
  it('finds bobsync’s attributes registered on the dev server, and says so', async () => {
    const { stdout } = await run(process.execPath, [join(__dirname, '../../bin/bobsync.js'), 'temporal', 'setup'], {
      // No bobsync.yaml: the TEMPORAL_* variables alone say where Temporal is.
      env: { PATH: process.env.PATH, TEMPORAL_ADDRESS: address(), BOBSYNC_CONFIG: '/nonexistent/bobsync.yaml' },
    });
    expect(stdout).toContain(`Search attributes on namespace "default" at ${address()}:`);
    for (const key of BOBSYNC_SEARCH_ATTRIBUTES)
      expect(stdout).toMatch(new RegExp(`^  ${key.name} +(Keyword|Datetime) +already registered$`, 'm'));
  });

  it('registers an attribute the server lacks, once, and refuses one of another type', async () => {
    const connection = await Connection.connect({ address: address() });
    try {
      const probe = defineSearchAttributeKey(`BobsyncSetupProbe${process.pid}`, 'INT');
      expect(await registerSearchAttributes(connection, 'default', [probe])).toEqual({
        namespace: 'default',
        added: [probe.name],
        present: [],
      });
      const listed = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
      expect(Object.keys(listed.customAttributes ?? {})).toContain(probe.name);
      expect(await registerSearchAttributes(connection, 'default', [probe])).toMatchObject({
        added: [],
        present: [probe.name],
      });
      const clash = defineSearchAttributeKey(probe.name, 'KEYWORD');
      await expect(registerSearchAttributes(connection, 'default', [clash])).rejects.toThrow(SearchAttributeSetupError);
    } finally {
      await connection.close();
    }
  });
});
