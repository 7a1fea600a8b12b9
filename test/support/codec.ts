/**
 * A fixed codec key for tests and for the committed replay histories (which were recorded with
 * it). It protects nothing real; production keys come from BOBSYNC_CODEC_KEYS.
 */
export const TEST_CODEC_KEYS = 'test-2026:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=';
export const testCodecEnv = { BOBSYNC_CODEC_KEYS: TEST_CODEC_KEYS };
