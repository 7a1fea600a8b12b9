/**
 * Skillcast side of a sync, over SCIM 2.0 (contracts/skillcast.md §6–§7): read a learner as it
 * is, carry out one planned operation, and list every user the SCIM API user can see. The plan
 * is the same as for 360Learning; this file only translates it. A learner is a SCIM User: its
 * `externalId` holds the HiBob id (the link), `active: false` is Skillcast's archive, and custom
 * fields are attributes of the configured extension, addressed by their exact names.
 *
 * Domains: the SCIM API user only sees the user domains it has access to, so a user of any other
 * domain is never read, updated or archived. A create that collides with such a user (409, and
 * nobody to adopt) parks the employee instead of making a second account.
 */
import { ApplicationFailure } from '@temporalio/activity';
import type { ScimClient } from '../clients/scim/client';
import { ScimApiError } from '../clients/scim/errors';
import {
  customAttributesOf,
  enterpriseOf,
  type ScimUser,
  type ScimUserChanges,
  type ScimUserInput,
} from '../clients/scim/types';
import type { LmsSnapshot, SnapshotUser } from '../domain/full-plan';
import type { CurrentLearner, DestinationTraits, Operation, StandardField } from '../domain/types';
import type { ConnectionRegistry } from './deps';
import type { PagedReader } from './page-checkpoints';
import type { AppliedOperation, LearnerLink, LearnerLookup } from './employee-types';
import { wantedLearner } from './wanted-learner';

/** Planning rules a SCIM destination brings: no groups, active on creation, Skillcast's email rule. */
export const SCIM_TRAITS: DestinationTraits = {
  createsActiveLearners: true,
  refusesApostropheInMail: true,
  linksOnCreate: true,
};

/** The standard learner fields as a SCIM User holds them. */
export function scimFields(user: ScimUser): Partial<Record<StandardField, string>> {
  const email = user.emails?.find((e) => e.primary) ?? user.emails?.[0];
  const phone = user.phoneNumbers?.find((p) => p.type === 'work') ?? user.phoneNumbers?.[0];
  const values: Partial<Record<StandardField, string | undefined>> = {
    mail: email?.value ?? user.userName,
    firstName: user.name?.givenName,
    lastName: user.name?.familyName,
    job: user.title,
    organization: enterpriseOf(user).organization,
    phone: phone?.value,
    lang: user.preferredLanguage,
    employeeNumber: enterpriseOf(user).employeeNumber,
    department: enterpriseOf(user).department,
  };
  const fields: Partial<Record<StandardField, string>> = {};
  for (const [name, value] of Object.entries(values))
    if (typeof value === 'string' && value !== '') fields[name as StandardField] = value;
  return fields;
}

/** Custom attribute values as strings, the form the plan compares. */
export function scimCustomFields(user: ScimUser, extensionUrn: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(customAttributesOf(user, extensionUrn))) {
    if (value !== null && value !== undefined && value !== '') out[name] = String(value);
  }
  return out;
}

/** A SCIM User as the plan sees a learner; archived users are the plan's `deleted`. */
export function learnerFromScim(user: ScimUser, extensionUrn: string): CurrentLearner {
  const manager = enterpriseOf(user).manager?.value;
  return {
    learnerId: user.id,
    status: user.active === false ? 'deleted' : 'active',
    fields: scimFields(user),
    customFields: scimCustomFields(user, extensionUrn),
    managerIds: manager ? [manager] : [],
    groups: [],
    externalId: user.externalId,
  };
}

/** The SCIM changes that set (or, with null, clear) standard learner fields. */
export function scimChangesOf(fields: Partial<Record<StandardField, string | null>>): ScimUserChanges {
  const changes: ScimUserChanges = {};
  const name: NonNullable<ScimUserChanges['name']> = {};
  for (const [field, value] of Object.entries(fields) as [StandardField, string | null | undefined][]) {
    if (value === undefined) continue;
    switch (field) {
      case 'mail':
        // The domain is keyed on email: the same user gets the new address as its userName.
        if (value !== null) {
          changes.userName = value;
          changes.emails = [{ value, type: 'work', primary: true }];
        }
        break;
      case 'firstName':
        name.givenName = value;
        break;
      case 'lastName':
        name.familyName = value;
        break;
      case 'job':
        changes.title = value;
        break;
      case 'organization':
      case 'employeeNumber':
      case 'department':
        changes.enterprise = { ...changes.enterprise, [field]: value };
        break;
      case 'phone':
        changes.phoneNumbers = value === null ? null : [{ value, type: 'work' }];
        break;
      case 'lang':
        changes.preferredLanguage = value;
        break;
    }
  }
  if (Object.keys(name).length) changes.name = name;
  return changes;
}

/** The document of a new user: every mapped field, linked to the employee, active. */
export function scimUserToCreate(employeeId: string, fields: Partial<Record<StandardField, string>>): ScimUserInput {
  const mail = fields.mail;
  if (!mail)
    throw ApplicationFailure.nonRetryable('a Skillcast user cannot be created without an email', 'missingEmail');
  const changes = scimChangesOf(fields);
  const input: ScimUserInput = {
    userName: mail,
    externalId: employeeId,
    active: true,
    emails: [{ value: mail, type: 'work', primary: true }],
  };
  if (changes.name) input.name = changes.name as ScimUserInput['name'];
  const displayName = [fields.firstName, fields.lastName].filter(Boolean).join(' ');
  if (displayName) input.displayName = displayName;
  if (typeof changes.title === 'string') input.title = changes.title;
  if (typeof changes.preferredLanguage === 'string') input.preferredLanguage = changes.preferredLanguage;
  if (changes.phoneNumbers) input.phoneNumbers = changes.phoneNumbers;
  const enterprise = Object.fromEntries(
    Object.entries(changes.enterprise ?? {}).filter(([, value]) => typeof value === 'string' && value !== ''),
  );
  if (Object.keys(enterprise).length) input.enterprise = enterprise;
  return input;
}

export function skillcastActivities(registry: ConnectionRegistry) {
  const extensionOf = (connection: string) => registry.skillcastDestination(connection).extensionUrn;

  /** A user the stored id points at counts only while it still carries this employee's HiBob id. */
  async function linkedUser(
    client: ScimClient,
    employeeId: string,
    knownLearnerId?: string,
  ): Promise<ScimUser | undefined> {
    const found = await client.findUser({ id: knownLearnerId, externalId: employeeId });
    if (!found) return undefined;
    if (found.matchedBy === 'id' && found.user.externalId !== employeeId)
      return client.findUserByExternalId(employeeId);
    return found.user;
  }

  async function lookupLearner(
    connection: string,
    employeeId: string,
    record: Record<string, unknown> | null,
    knownLearnerId?: string,
  ): Promise<LearnerLookup> {
    const client = registry.scim(connection);
    const extensionUrn = extensionOf(connection);
    const { mapping } = registry.connection(connection);
    const lookup: LearnerLookup = { match: { kind: 'none' }, managerLearnerIds: {}, linkedManagerLearnerIds: [] };
    if (mapping.match.order.includes('externalId')) {
      const user = await linkedUser(client, employeeId, knownLearnerId);
      if (user) lookup.match = { kind: 'externalId', learner: learnerFromScim(user, extensionUrn) };
    }
    const wanted = wantedLearner(
      record,
      mapping,
      await registry.hibobFieldPaths(connection).for(record ? [record] : []),
    );
    if (lookup.match.kind === 'none' && wanted?.fields.mail && mapping.match.order.includes('email')) {
      const byMail = await client.findUserByUserName(wanted.fields.mail);
      if (byMail) lookup.match = { kind: 'email', learner: learnerFromScim(byMail, extensionUrn) };
    }
    if (wanted?.managerEmployeeId && mapping.manager.enabled) {
      const manager = await client.findUserByExternalId(wanted.managerEmployeeId);
      if (manager && manager.active !== false) lookup.managerLearnerIds[wanted.managerEmployeeId] = manager.id;
    }
    if (lookup.match.kind !== 'none') {
      for (const managerId of lookup.match.learner.managerIds) {
        if ((await client.getUser(managerId))?.externalId) lookup.linkedManagerLearnerIds.push(managerId);
      }
    }
    return lookup;
  }

  async function create(
    client: ScimClient,
    employeeId: string,
    fields: Partial<Record<StandardField, string>>,
  ): Promise<AppliedOperation> {
    let result;
    try {
      result = await client.createUser(scimUserToCreate(employeeId, fields));
    } catch (err) {
      // 409 with nobody this API user can see: the address is taken in another user domain.
      if (err instanceof ScimApiError && err.status === 409) {
        throw ApplicationFailure.nonRetryable(
          `${fields.mail} already belongs to a Skillcast user outside this connection's domain; it is left alone (keep it there, or move it into the domain by hand)`,
          'conflict',
        );
      }
      throw err;
    }
    const { user, linked } = result;
    if (!linked) return { learnerId: user.id, note: `created Skillcast user ${user.id}` };
    if (user.externalId && user.externalId !== employeeId) {
      throw ApplicationFailure.nonRetryable(
        `${fields.mail} is Skillcast user ${user.id}, linked to HiBob employee ${user.externalId}; two people are never merged`,
        'conflict',
      );
    }
    // A retried create, or a user made by hand: the same person, adopted, never duplicated.
    if (!user.externalId) {
      // Plans for SCIM link on create (no separate link step), so adoption links here.
      const holder = await client.findUserByExternalId(employeeId);
      if (holder && holder.id !== user.id)
        throw ApplicationFailure.nonRetryable(
          `HiBob ${employeeId} is already linked to Skillcast user ${holder.id}`,
          'conflict',
        );
      await client.updateUser(user.id, { externalId: employeeId });
    }
    if (user.active === false) await client.reactivateUser(user.id);
    return { learnerId: user.id, note: `Skillcast user ${user.id} already had this userName; adopted` };
  }

  async function applyOperation(
    connection: string,
    employeeId: string,
    learnerId: string | undefined,
    operation: Operation,
  ): Promise<AppliedOperation> {
    const client = registry.scim(connection);
    const need = (): string => {
      if (!learnerId)
        throw ApplicationFailure.nonRetryable(`${operation.op} needs a learner, but none is linked yet`, 'NoLearner');
      return learnerId;
    };
    switch (operation.op) {
      case 'create':
        return create(client, employeeId, operation.fields);
      case 'restore': {
        // Skillcast reactivates the archived user: same account, training history kept.
        const user =
          (learnerId ? await client.getUser(learnerId) : undefined) ??
          (operation.fields.mail ? await client.findUserByUserName(operation.fields.mail) : undefined);
        if (!user) return create(client, employeeId, operation.fields);
        await client.updateUser(user.id, { ...scimChangesOf(operation.fields), active: true }, { current: user });
        return { learnerId: user.id, note: `reactivated Skillcast user ${user.id}` };
      }
      case 'linkExternalId': {
        const id = need();
        const holder = await client.findUserByExternalId(employeeId);
        if (holder && holder.id !== id)
          throw ApplicationFailure.nonRetryable(
            `HiBob ${employeeId} is already linked to Skillcast user ${holder.id}`,
            'conflict',
          );
        if (!holder) await client.updateUser(id, { externalId: employeeId });
        return { note: holder ? 'external id already linked' : `linked Skillcast user ${id} to HiBob ${employeeId}` };
      }
      case 'updateFields': {
        const changes = Object.fromEntries(operation.changes.map((c) => [c.field, c.to])) as Partial<
          Record<StandardField, string | null>
        >;
        await client.updateUser(need(), scimChangesOf(changes));
        return { note: `updated ${operation.changes.map((c) => c.field).join(', ')}` };
      }
      case 'setCustomFields': {
        // Only the changed attributes are sent; attributes set by others stay as they are.
        const custom = Object.fromEntries(operation.changes.map((c) => [c.field, c.to]));
        await client.updateUser(need(), { custom });
        return { note: `attributes ${operation.changes.map((c) => c.field).join(', ')}` };
      }
      case 'activate':
        await client.reactivateUser(need());
        return { note: 'reactivated' };
      case 'deactivate':
        await client.archiveUser(need());
        return { note: 'archived' };
      case 'addManager':
        await client.updateUser(need(), { enterprise: { manager: { value: operation.managerLearnerId } } });
        return { note: `manager ${operation.managerLearnerId} set` };
      case 'removeManager': {
        const id = need();
        const user = await client.getUser(id);
        if (user && enterpriseOf(user).manager?.value === operation.managerLearnerId)
          await client.updateUser(id, { enterprise: { manager: null } });
        return { note: `manager ${operation.managerLearnerId} removed` };
      }
      case 'deferManager':
        return { note: operation.reason };
      case 'addGroupRole':
      case 'removeGroupRole':
        // The config refuses group rules for Skillcast; a plan with one is a bug, not a retry.
        throw ApplicationFailure.nonRetryable(`Skillcast has no group roles (${operation.op})`, 'WrongDestination');
    }
  }

  /** A learner's status and HiBob link as they are now (undefined when it no longer exists). */
  async function learnerLink(connection: string, learnerId: string): Promise<LearnerLink | undefined> {
    const user = await registry.scim(connection).getUser(learnerId);
    if (!user) return undefined;
    return { status: learnerFromScim(user, extensionOf(connection)).status, linkedTo: user.externalId };
  }

  /** Every user the API user can see, in full: SCIM lists carry attributes, so nothing is read per user. */
  async function snapshot(connection: string, pages: PagedReader): Promise<LmsSnapshot> {
    const client = registry.scim(connection);
    const extensionUrn = extensionOf(connection);
    const scimUsers = await pages.readAll('users', async function* (from) {
      for await (const page of client.userPages({ startIndex: from === undefined ? undefined : Number(from) }))
        yield { items: page.users, next: page.next?.toString() };
    });
    const users: SnapshotUser[] = [];
    const externalIds: LmsSnapshot['externalIds'] = [];
    for (const user of scimUsers) {
      const learner = learnerFromScim(user, extensionUrn);
      users.push({
        learnerId: learner.learnerId,
        status: learner.status,
        fields: learner.fields,
        customFields: learner.customFields,
        managerIds: learner.managerIds,
      });
      if (user.externalId) externalIds.push({ value: user.externalId, targetId: user.id });
    }
    return { users, externalIds, groupRoles: [], complete: true };
  }

  return {
    lookupLearner,
    learnerLink,
    applyOperation,
    snapshot,
    reads: (connection: string) => registry.scim(connection).calls.read,
  };
}
