/**
 * Failure messages and stack traces often name the person (an email a vendor refused, a field's
 * value), and Temporal stores them outside payloads unless told otherwise. This converter moves
 * them into an encoded attribute, which the payload codec then encrypts like any payload.
 * Loaded by path (`failureConverterPath`) in clients, workers and the workflow bundle; it runs in
 * the workflow sandbox too, so it imports nothing from Node.
 */
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
