import { createLogger } from '../../src/logging';

describe('createLogger', () => {
  const before = process.env.BOBSYNC_LOG_LEVEL;
  afterEach(() => {
    if (before === undefined) delete process.env.BOBSYNC_LOG_LEVEL;
    else process.env.BOBSYNC_LOG_LEVEL = before;
  });

  it('takes a blank BOBSYNC_LOG_LEVEL, as compose leaves it, for the default', () => {
    process.env.BOBSYNC_LOG_LEVEL = '';
    expect(createLogger('worker').level).toBe('info');
    process.env.BOBSYNC_LOG_LEVEL = 'debug';
    expect(createLogger('worker').level).toBe('debug');
  });
});
