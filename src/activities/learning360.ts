/**
 * 360Learning side of the employee sync: read the learner as it is (lookup) and carry out one
 * planned operation at a time (apply). Every apply is idempotent, so a retried activity never
 * makes a second account or a second link (design decision 6).
 */
import { SCIM_ONLY_FIELDS, STANDARD_FIELDS } from '../domain/types';
import { ApplicationFailure } from '@temporalio/activity';
import { ApiError } from '../clients/http/errors';
import type { CustomFieldDefinition, Learning360Client, User360 } from '../clients/learning360/client';
import { managedGroupRoles } from '../domain/desired';
import type { LearnerBasics, LmsSnapshot, SnapshotUser } from '../domain/full-plan';
import type {
  CurrentLearner,
  DesiredLearner,
  GroupRole,
  Match,
  Operation,
  RefusedValue,
  StandardField,
} from '../domain/types';
import type { ConnectionRegistry } from './deps';
import type { PagedReader } from './page-checkpoints';
import type { AppliedOperation, LearnerLink, LearnerLookup, LookupHints } from './employee-types';
import { wantedLearner } from './wanted-learner';

/** 360Learning's cap on a custom field's authorized values. */
export const MAX_AUTHORIZED_VALUES = 300;

/**
 * Changes to one custom field's authorized values, one at a time in this process: the list is
 * replaced as a whole, so two employees bringing new values at once would otherwise each write
 * the list without the other's value.
 */
const authorizedValueWriters = new Map<string, Promise<unknown>>();

function oneWriterPerField<T>(customFieldId: string, change: () => Promise<T>): Promise<T> {
  const previous = authorizedValueWriters.get(customFieldId) ?? Promise.resolve();
  const next = previous.then(change, change);
  const settled = next.catch(() => undefined);
  authorizedValueWriters.set(customFieldId, settled);
  void settled.then(() => {
    if (authorizedValueWriters.get(customFieldId) === settled) authorizedValueWriters.delete(customFieldId);
  });
  return next;
}

/**
 * Makes sure `value` may be written to a custom field with authorized values. `strict` fields
 * only take values 360Learning already lists; `extend` fields get the value added (never a value
 * removed). Another worker may replace the list at the same moment, so the addition is read
 * back and made again until it holds.
 */
async function authorize(
  client: Learning360Client,
  field: CustomFieldDefinition,
  value: string,
  mode: 'extend' | 'strict',
): Promise<void> {
  const allowed = await client.getAuthorizedValues(field._id);
  if (allowed.length === 0 || allowed.includes(value)) return;
  if (mode === 'strict') {
    throw ApplicationFailure.nonRetryable(
      `"${value}" is not an authorized value of custom field "${field.name}" (authorizedValues: strict); add it in 360Learning or change it in HiBob`,
      'unauthorizedValue',
    );
  }
  await oneWriterPerField(field._id, async () => {
    for (let attempt = 1; ; attempt++) {
      const current = await client.getAuthorizedValues(field._id);
      if (current.includes(value)) return;
      if (current.length >= MAX_AUTHORIZED_VALUES) {
        throw ApplicationFailure.nonRetryable(
          `custom field "${field.name}" already has ${current.length} authorized values, 360Learning's maximum, so "${value}" cannot be added; remove unused values in 360Learning`,
          'authorizedValuesFull',
        );
      }
      await client.replaceAuthorizedValues(field._id, [...current, value]);
      // Read back: a concurrent replace from another worker may have dropped it.
      if ((await client.getAuthorizedValues(field._id)).includes(value) || attempt >= 5) return;
    }
  });
}

/** Custom field definitions by name, read once per connection and refreshed on a miss. */
class CustomFieldCatalog {
  private byName?: Map<string, CustomFieldDefinition>;

  constructor(private readonly client: Learning360Client) {}

  async all(refresh = false): Promise<Map<string, CustomFieldDefinition>> {
    if (!this.byName || refresh)
      this.byName = new Map((await this.client.listUserCustomFields()).map((f) => [f.name, f]));
    return this.byName;
  }

  async byId(): Promise<Map<string, CustomFieldDefinition>> {
    return new Map([...(await this.all()).values()].map((f) => [f._id, f]));
  }

  async find(name: string): Promise<CustomFieldDefinition | undefined> {
    return (await this.all()).get(name) ?? (await this.all(true)).get(name);
  }

  private readonly creating = new Map<string, Promise<CustomFieldDefinition>>();

  /**
   * Creates a definition once, however many employees need it at the same moment; a definition
   * another process created first (nameAlreadyTaken) is simply adopted.
   */
  create(name: string, type: 'string' | 'date'): Promise<CustomFieldDefinition> {
    let pending = this.creating.get(name);
    if (!pending) {
      pending = this.client
        .createUserCustomField(name, type)
        .catch(async (err: unknown) => {
          const existing =
            err instanceof ApiError && err.code === 'nameAlreadyTaken' ? (await this.all(true)).get(name) : undefined;
          if (!existing) throw err;
          return existing;
        })
        .finally(() => this.creating.delete(name));
      this.creating.set(name, pending);
    }
    return pending.then(async (definition) => {
      await this.all(true);
      return definition;
    });
  }
}

export function learning360Activities(registry: ConnectionRegistry) {
  const catalogs = new Map<string, CustomFieldCatalog>();
  const catalog = (connection: string) => {
    let c = catalogs.get(connection);
    if (!c) catalogs.set(connection, (c = new CustomFieldCatalog(registry.learning360(connection))));
    return c;
  };
  const mappingOf = (connection: string) => registry.connection(connection).mapping;

  /** The learner in full: `user` as read or as the user list showed it, with what only per-user reads give. */
  async function currentLearner(connection: string, user: LearnerBasics, externalId?: string): Promise<CurrentLearner> {
    const client = registry.learning360(connection);
    const [values, roles, managerIds, fieldsById] = await Promise.all([
      client.getUserCustomValues(user.learnerId),
      client.getUserRoles(user.learnerId),
      client.getManagers(user.learnerId),
      catalog(connection).byId(),
    ]);
    const fields = user.fields;
    const customFields: Record<string, string> = {};
    for (const v of values) {
      const definition = fieldsById.get(v.customFieldId);
      if (definition) customFields[definition.name] = v.value;
    }
    return {
      learnerId: user.learnerId,
      status: user.status,
      fields,
      customFields,
      managerIds,
      groups: roles.map((r) => ({ groupId: r.groupId, role: r.role })),
      externalId,
    };
  }

  /**
   * Values the employee would bring to custom fields kept strict that 360Learning does not list,
   * read before planning so the employee is parked with the value named instead of failing a write.
   */
  async function refusedValues(connection: string, wanted: DesiredLearner | undefined): Promise<RefusedValue[]> {
    const strict = mappingOf(connection).customFields.filter((f) => f.authorizedValues === 'strict');
    const refused: RefusedValue[] = [];
    for (const field of strict) {
      const value = wanted?.customFields[field.name];
      if (typeof value !== 'string') continue;
      const definition = await catalog(connection).find(field.name);
      if (!definition) continue;
      const allowed = await registry.learning360(connection).getAuthorizedValues(definition._id);
      if (allowed.length > 0 && !allowed.includes(value)) refused.push({ field: field.name, value });
    }
    return refused;
  }

  /**
   * The employee's learner: by the stored HiBob id first, then (for first adoption) by email.
   * From a full sync's `hints`: the employee's user as the user list showed it, when its link
   * still names that learner, and the manager's learner, which the hint also says is linked. Only
   * what the hints do not cover is read.
   */
  async function lookupLearner(
    connection: string,
    employeeId: string,
    record: Record<string, unknown> | null,
    knownLearnerId?: string,
    hints?: LookupHints,
  ): Promise<LearnerLookup> {
    const client = registry.learning360(connection);
    const { externalIdPlatform } = registry.learning360Destination(connection);
    const mapping = mappingOf(connection);
    const lookup: LearnerLookup = { match: { kind: 'none' }, managerLearnerIds: {}, linkedManagerLearnerIds: [] };

    let user: LearnerBasics | undefined;
    if (mapping.match.order.includes('externalId')) {
      const mapped = await client.findExternalId(externalIdPlatform, employeeId);
      // The link is always read; the user behind it only when the snapshot showed another one.
      if (mapped && hints?.learner?.learnerId === mapped.targetId) user = hints.learner;
      else if (mapped) {
        const read = await client.getUser(mapped.targetId);
        if (read) user = basicsOf(read);
      } else if (knownLearnerId) user = undefined; // a link removed by hand is not trusted blindly
      if (user) lookup.match = { kind: 'externalId', learner: await currentLearner(connection, user, employeeId) };
    }
    const wanted = wantedLearner(
      record,
      mapping,
      await registry.hibobFieldPaths(connection).for(record ? [record] : []),
    );
    if (lookup.match.kind === 'none' && wanted?.fields.mail && mapping.match.order.includes('email')) {
      const byMail = (await client.findUsersByMail(wanted.fields.mail))[0];
      if (byMail) {
        const owner = await client.findExternalIdOfUser(externalIdPlatform, byMail._id);
        lookup.match = {
          kind: 'email',
          learner: await currentLearner(connection, basicsOf(byMail), owner?.value),
        } satisfies Match;
      }
    }
    const refused = await refusedValues(connection, wanted);
    if (refused.length > 0) lookup.refusedValues = refused;
    if (wanted?.managerEmployeeId && mapping.manager.enabled) {
      const hinted = hints?.managerLearnerIds[wanted.managerEmployeeId];
      if (hinted) lookup.managerLearnerIds[wanted.managerEmployeeId] = hinted;
      else {
        const managerLink = await client.findExternalId(externalIdPlatform, wanted.managerEmployeeId);
        const manager = managerLink ? await client.getUser(managerLink.targetId) : undefined;
        if (manager && manager.status !== 'deleted') lookup.managerLearnerIds[wanted.managerEmployeeId] = manager._id;
      }
    }
    if (lookup.match.kind !== 'none') {
      const knownLinked = new Set(Object.values(hints?.managerLearnerIds ?? {}));
      for (const managerId of lookup.match.learner.managerIds) {
        if (knownLinked.has(managerId) || (await client.findExternalIdOfUser(externalIdPlatform, managerId)))
          lookup.linkedManagerLearnerIds.push(managerId);
      }
    }
    return lookup;
  }

  async function applyOperation(
    connection: string,
    employeeId: string,
    learnerId: string | undefined,
    operation: Operation,
  ): Promise<AppliedOperation> {
    const client = registry.learning360(connection);
    const destination = registry.learning360Destination(connection);
    const need = (): string => {
      if (!learnerId)
        throw ApplicationFailure.nonRetryable(`${operation.op} needs a learner, but none is linked yet`, 'NoLearner');
      return learnerId;
    };
    switch (operation.op) {
      case 'create':
      case 'restore': {
        // A retried create must not make a second account: adopt what a first attempt made.
        const existing = operation.fields.mail ? (await client.findUsersByMail(operation.fields.mail))[0] : undefined;
        if (existing && existing.status !== 'deleted')
          return { learnerId: existing._id, note: `learner ${existing._id} already existed with this email; adopted` };
        const invite = destination.sendInvitationEmail && operation.op === 'create';
        const { user, restored } = await client.createUser(
          { ...omitEmpty(operation.fields), membership: operation.membership } as never,
          { sendInvitationEmail: invite },
        );
        if (restored) return { learnerId: user._id, note: `restored deleted learner ${user._id}` };
        return {
          learnerId: user._id,
          note: `created invited learner ${user._id}${invite ? '; invitation e-mail sent' : ''}`,
        };
      }
      case 'linkExternalId': {
        const id = need();
        try {
          await client.createExternalId(destination.externalIdPlatform, id, employeeId);
        } catch (err) {
          if (!(err instanceof ApiError) || err.status !== 400) throw err;
          const existing = await client.findExternalId(destination.externalIdPlatform, employeeId);
          if (existing?.targetId === id) return { note: 'external id already linked' };
          throw ApplicationFailure.nonRetryable(
            `cannot link HiBob ${employeeId} to learner ${id}: ${err.code}`,
            'conflict',
          );
        }
        return { note: `linked learner ${id} to HiBob ${employeeId}` };
      }
      case 'updateFields': {
        const id = need();
        const patch: Record<string, string> = {};
        const skipped: string[] = [];
        for (const change of operation.changes) {
          // 360Learning refuses empty strings and has no way to clear these fields: leave them.
          if (change.to === null) skipped.push(change.field);
          else patch[change.field] = change.to;
        }
        if (Object.keys(patch).length) await client.updateUser(id, patch);
        return {
          note: `updated ${Object.keys(patch).join(', ') || 'nothing'}${skipped.length ? ` (cannot clear ${skipped.join(', ')})` : ''}`,
        };
      }
      case 'setCustomFields': {
        const id = need();
        const definitions = catalog(connection);
        const mapping = mappingOf(connection);
        const changed = new Map(operation.changes.map((c) => [c.field, c.to]));
        // Re-read now: values written by others since the lookup are preserved, ours replace theirs.
        const current = await client.getUserCustomValues(id);
        const byId = await definitions.byId();
        const merged = new Map(current.map((v) => [byId.get(v.customFieldId)?.name ?? v.customFieldId, v]));
        for (const [name, value] of changed) {
          let definition = await definitions.find(name);
          const declared = mapping.customFields.find((f) => f.name === name);
          if (!definition && declared?.createIfMissing) definition = await definitions.create(name, declared.type);
          if (!definition)
            throw ApplicationFailure.nonRetryable(
              `custom field "${name}" does not exist in 360Learning (set createIfMissing or create it)`,
              'customFieldNotFound',
            );
          if (value === null) {
            merged.delete(name);
            continue;
          }
          await authorize(client, definition, value, declared?.authorizedValues ?? 'extend');
          merged.set(name, { customFieldId: definition._id, type: definition.type, value });
        }
        await client.replaceUserCustomValues(id, [...merged.values()]);
        return { note: `custom fields ${[...changed.keys()].join(', ')}` };
      }
      case 'activate':
        await client.activateUser(need());
        return { note: 'activated' };
      case 'deactivate':
        await client.deleteUser(need());
        return { note: 'deactivated' };
      case 'addGroupRole':
        await client.addGroupRole(operation.group.groupId, operation.group.role, need());
        return { note: `added ${operation.group.role} in ${operation.group.groupId}` };
      case 'removeGroupRole':
        try {
          await client.removeGroupRole(operation.group.groupId, operation.group.role, need());
        } catch (err) {
          if (!(err instanceof ApiError && err.code === 'userNotFoundInGroup')) throw err;
        }
        return { note: `removed ${operation.group.role} in ${operation.group.groupId}` };
      case 'addManager':
        await client.addManager(need(), operation.managerLearnerId);
        return { note: `manager ${operation.managerLearnerId} set` };
      case 'removeManager':
        try {
          await client.removeManager(need(), operation.managerLearnerId);
        } catch (err) {
          if (!(err instanceof ApiError && err.code === 'managerNotAssignedToUser')) throw err;
        }
        return { note: `manager ${operation.managerLearnerId} removed` };
      case 'deferManager':
        return { note: operation.reason };
    }
  }

  /** A learner's status and HiBob link as they are now (undefined when it no longer exists). */
  async function learnerLink(connection: string, learnerId: string): Promise<LearnerLink | undefined> {
    const client = registry.learning360(connection);
    const user = await client.getUser(learnerId);
    if (!user) return undefined;
    const link = await client.findExternalIdOfUser(
      registry.learning360Destination(connection).externalIdPlatform,
      user._id,
    );
    return { status: user.status, linkedTo: link?.value };
  }

  /**
   * Users, HiBob links and members of managed groups: the paged lists, nothing per user. The
   * three lists are read side by side: each is paged one cursor at a time, so one list alone
   * waits on every answer, while together they keep to the read limit.
   */
  async function snapshot(connection: string, pages: PagedReader): Promise<LmsSnapshot> {
    const client = registry.learning360(connection);
    const { externalIdPlatform } = registry.learning360Destination(connection);
    const mapping = mappingOf(connection);
    const readUsers = async (): Promise<SnapshotUser[]> =>
      (await pages.readAll('users', (from) => client.listUsers(from))).map((u) => {
        const user: SnapshotUser = { learnerId: u._id, status: u.status, fields: standardFieldsOf(u) };
        if (u.lastLoginDate) user.lastLogin = u.lastLoginDate;
        return user;
      });
    const readExternalIds = async (): Promise<LmsSnapshot['externalIds']> =>
      (await pages.readAll('external-ids', (from) => client.listExternalIds(externalIdPlatform, from))).map((x) => ({
        value: x.value,
        targetId: x.targetId,
      }));
    const readGroupRoles = async (): Promise<LmsSnapshot['groupRoles']> => {
      const groupRoles: LmsSnapshot['groupRoles'] = [];
      const managed = managedGroupRoles(mapping);
      for (const groupId of new Set(managed.map((g) => g.groupId))) {
        // One group's members are one checkpoint: a retry skips the groups already read.
        const members = await pages.readAll(`group-${groupId}`, async function* () {
          yield { items: await client.getGroupRoles(groupId) };
        });
        for (const member of members) {
          if (managed.some((g) => g.groupId === groupId && g.role === member.role))
            groupRoles.push({ groupId, role: member.role as GroupRole['role'], userId: member.userId });
        }
      }
      return groupRoles;
    };
    // Settled, not raced: a list that fails leaves no other still reading after the attempt ends.
    const [users, externalIds, groupRoles] = await allOrFirstFailure([
      readUsers(),
      readExternalIds(),
      readGroupRoles(),
    ]);
    return { users, externalIds, groupRoles };
  }

  return {
    lookupLearner,
    learnerLink,
    applyOperation,
    snapshot,
    reads: (connection: string) => registry.learning360(connection).calls.get,
  };
}

/** Every result once all have settled; the first failure, in order, if any failed. */
async function allOrFirstFailure<T extends unknown[]>(promises: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const settled = await Promise.allSettled(promises);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<unknown>).value) as T;
}

function basicsOf(user: User360): LearnerBasics {
  return { learnerId: user._id, status: user.status, fields: standardFieldsOf(user) };
}

/** The standard fields a 360Learning user has. */
const LEARNING360_FIELDS = STANDARD_FIELDS.filter((name) => !(SCIM_ONLY_FIELDS as readonly string[]).includes(name));

function standardFieldsOf(user: User360): Partial<Record<StandardField, string>> {
  const fields: Partial<Record<StandardField, string>> = {};
  for (const name of LEARNING360_FIELDS) {
    const value = (user as Record<string, unknown>)[name];
    if (typeof value === 'string') fields[name] = value;
  }
  return fields;
}

function omitEmpty(fields: Partial<Record<StandardField, string>>): Partial<Record<StandardField, string>> {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => typeof v === 'string' && v.length > 0));
}
