export * from './aes-gcm-codec';
export * from './codec-server';
