/** The context every command starts from; it is loaded below the CLI so processes share it. */
export { loadContext, type CommandContext } from '../config/context';
