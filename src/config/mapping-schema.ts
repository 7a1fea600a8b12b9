/**
 * The `mapping:` section of a connection. Its schema is the domain's rule language, defined
 * beside the engine that evaluates it; the config file embeds it per connection.
 */
export * from '../domain/mapping-schema';
