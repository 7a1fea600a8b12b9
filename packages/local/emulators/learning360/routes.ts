/** The Core API routes the connector uses, over a Company. Inputs were already validated against the spec. */
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { BulkMembershipItem, BulkOperationType, Company } from './company';
import {
  ApiError,
  PATH_ROLES,
  type CustomFieldValueDTO,
  type Filter,
  type InputCustomFieldDTO,
  type InputExternalIdDTO,
  type InputUserDTO,
  type Role,
  type UpdateUserDTO,
} from './model';
import { CursorError, filtersOf, sendPage } from './paging';
import { sendRaw } from './validation';

export interface PageSizes {
  users: number;
  groups: number;
  customFields: number;
  roles: number;
  managers: number;
  externalIds: number;
  bulkOperations: number;
}

type Handler = (req: Request, res: Response, company: Company) => void;

/** Business errors are answered with res.json inside the route, so response validation sees them. */
function route(fn: Handler) {
  return (req: Request, res: Response, next: NextFunction): void => {
    try {
      fn(req, res, res.locals.company as Company);
    } catch (err) {
      if (err instanceof ApiError) res.status(err.status).json(err.body);
      else if (err instanceof CursorError) sendRaw(res, 400, { error: { code: 'badRequest', message: err.message } });
      else next(err);
    }
  };
}

function param(req: Request, name: string): string {
  return String(req.params[name]);
}

function filter(req: Request, name: string): Filter | undefined {
  const value = (req.query as Record<string, unknown>)[name];
  return value && typeof value === 'object' ? value : undefined;
}

function role(req: Request): Role {
  const name = param(req, 'role');
  const mapped = PATH_ROLES[name];
  if (!mapped) throw new ApiError(400, 'badRequest', `Unknown role ${name}.`);
  return mapped;
}

export function coreApiRouter(pageSizes: PageSizes): Router {
  const r = express.Router();
  const id = (item: { _id: string }) => item._id;
  const self = (item: string) => item;

  // ---- users
  r.get(
    '/users',
    route((req, res, c) => {
      const { filters, after } = filtersOf(req, () => ({
        mail: filter(req, 'mail'),
        username: filter(req, 'username'),
        status: filter(req, 'status'),
      }));
      sendPage(req, res, c.listUsers(filters), id, pageSizes.users, filters, after);
    }),
  );
  r.post(
    '/users',
    route((req, res, c) => {
      const send = (req.query as Record<string, unknown>).sendInvitationEmail !== 'false';
      const { status, user } = c.createUser(req.body as InputUserDTO, send);
      res.status(status).json(user);
    }),
  );
  r.get(
    '/users/:userId',
    route((req, res, c) => void res.json(c.getUser(param(req, 'userId')))),
  );
  r.patch(
    '/users/:userId',
    route((req, res, c) => void res.json(c.updateUser(param(req, 'userId'), (req.body ?? {}) as UpdateUserDTO))),
  );
  r.delete(
    '/users/:userId',
    route((req, res, c) => {
      c.deleteUser(param(req, 'userId'));
      res.status(204).end();
    }),
  );
  r.put(
    '/users/:userId/activate',
    route((req, res, c) => void res.json(c.activateUser(param(req, 'userId')))),
  );
  r.put(
    '/users/:userId/pseudonymize',
    route(
      (req, res, c) =>
        void res.json(
          c.pseudonymizeUser(param(req, 'userId'), (req.query as Record<string, unknown>).deleteExternalIds === 'true'),
        ),
    ),
  );
  r.get(
    '/users/:userId/roles',
    route((req, res, c) => {
      const { filters, after } = filtersOf(req, () => ({}));
      sendPage(
        req,
        res,
        c.userRoles(param(req, 'userId')),
        (m) => `${m.groupId}|${m.role}`,
        pageSizes.roles,
        filters,
        after,
      );
    }),
  );

  // ---- managers
  r.post(
    '/users/:userId/managers/:managerId',
    route((req, res, c) => {
      c.addManager(param(req, 'userId'), param(req, 'managerId'));
      res.status(204).end();
    }),
  );
  r.delete(
    '/users/:userId/managers/:managerId',
    route((req, res, c) => {
      c.removeManager(param(req, 'userId'), param(req, 'managerId'));
      res.status(204).end();
    }),
  );
  r.get(
    '/users/:userId/managers',
    route((req, res, c) => {
      const { filters, after } = filtersOf(req, () => ({}));
      sendPage(req, res, c.listManagers(param(req, 'userId')), self, pageSizes.managers, filters, after);
    }),
  );
  r.get(
    '/users/:userId/subordinates',
    route((req, res, c) => {
      const { filters, after } = filtersOf(req, () => ({}));
      sendPage(req, res, c.listSubordinates(param(req, 'userId')), self, pageSizes.managers, filters, after);
    }),
  );

  // ---- custom-field values of a user
  r.get(
    '/users/:userId/custom-fields/values',
    route((req, res, c) => void res.json(c.getUserCustomValues(param(req, 'userId')))),
  );
  r.put(
    '/users/:userId/custom-fields/values',
    route((req, res, c) => {
      const body = req.body as { customValues: CustomFieldValueDTO[] };
      res.json(c.replaceUserCustomValues(param(req, 'userId'), body.customValues));
    }),
  );

  // ---- external ids
  r.post(
    '/external-ids',
    route((req, res, c) => void res.status(201).json(c.createExternalId(req.body as InputExternalIdDTO))),
  );
  r.get(
    '/external-ids',
    route((req, res, c) => {
      const { filters, after } = filtersOf(req, () => ({
        platform: filter(req, 'platform'),
        type: filter(req, 'type'),
        value: filter(req, 'value'),
        targetId: filter(req, 'targetId'),
      }));
      sendPage(req, res, c.listExternalIds(filters), id, pageSizes.externalIds, filters, after);
    }),
  );
  r.put(
    '/external-ids/:mappingId',
    route((req, res, c) => void res.json(c.replaceExternalId(param(req, 'mappingId'), req.body as InputExternalIdDTO))),
  );
  r.delete(
    '/external-ids/:mappingId',
    route((req, res, c) => {
      c.deleteExternalId(param(req, 'mappingId'));
      res.status(204).end();
    }),
  );

  // ---- custom fields
  r.get(
    '/custom-fields',
    route((req, res, c) => {
      const { filters, after } = filtersOf(req, () => ({
        name: filter(req, 'name'),
        targetType: filter(req, 'targetType'),
        type: filter(req, 'type'),
      }));
      sendPage(req, res, c.listCustomFields(filters), id, pageSizes.customFields, filters, after);
    }),
  );
  r.post(
    '/custom-fields',
    route((req, res, c) => void res.status(201).json(c.createCustomField(req.body as InputCustomFieldDTO))),
  );
  r.patch(
    '/custom-fields/:customFieldId',
    route(
      (req, res, c) =>
        void res.json(c.renameCustomField(param(req, 'customFieldId'), (req.body as { name: string }).name)),
    ),
  );
  r.delete(
    '/custom-fields/:customFieldId',
    route((req, res, c) => {
      c.deleteCustomField(param(req, 'customFieldId'));
      res.status(204).end();
    }),
  );
  r.get(
    '/custom-fields/:customFieldId/authorized-values',
    route((req, res, c) => void res.json(c.getAuthorizedValues(param(req, 'customFieldId')))),
  );
  r.put(
    '/custom-fields/:customFieldId/authorized-values',
    route((req, res, c) => {
      const body = req.body as { authorizedValues: string[] };
      res.json(c.replaceAuthorizedValues(param(req, 'customFieldId'), body.authorizedValues));
    }),
  );

  // ---- groups and group roles
  r.get(
    '/groups',
    route((req, res, c) => {
      const { filters, after } = filtersOf(req, () => ({}));
      sendPage(req, res, c.listGroups(), id, pageSizes.groups, filters, after);
    }),
  );
  r.get(
    '/groups/:groupId',
    route((req, res, c) => void res.json(c.getGroup(param(req, 'groupId')))),
  );
  r.get(
    '/groups/:groupId/roles',
    route((req, res, c) => {
      const { filters, after } = filtersOf(req, () => ({}));
      sendPage(
        req,
        res,
        c.groupRoles(param(req, 'groupId')),
        (m) => `${m.userId}|${m.role}`,
        pageSizes.roles,
        filters,
        after,
      );
    }),
  );
  r.post(
    '/groups/:groupId/:role/:userId',
    route((req, res, c) => {
      c.addGroupRole(param(req, 'groupId'), role(req), param(req, 'userId'));
      res.status(204).end();
    }),
  );
  r.delete(
    '/groups/:groupId/:role/:userId',
    route((req, res, c) => {
      c.removeGroupRole(param(req, 'groupId'), role(req), param(req, 'userId'));
      res.status(204).end();
    }),
  );

  // ---- bulk memberships
  const submit = (type: BulkOperationType) =>
    route((req, res, c) => {
      const id = c.submitBulk(type, (req.body as { input: BulkMembershipItem[] }).input);
      res.setHeader('Location', `${req.protocol}://${req.get('host')}${req.baseUrl}/bulk/operations/${id}`);
      res.status(202).end();
    });
  r.post('/bulk/groups/memberships', submit('addUsersToGroups'));
  r.delete('/bulk/groups/memberships', submit('removeUsersFromGroups'));
  r.get(
    '/bulk/operations',
    route((req, res, c) => {
      const { filters, after } = filtersOf(req, () => ({
        status: filter(req, 'status'),
        type: filter(req, 'type'),
        createdAt: (req.query as Record<string, unknown>).createdAt as { lt?: string; gte?: string } | undefined,
      }));
      sendPage(req, res, c.listBulkOperations(filters), id, pageSizes.bulkOperations, filters, after);
    }),
  );
  r.get(
    '/bulk/operations/:bulkOperationId',
    route((req, res, c) => void res.json(c.getBulkOperation(param(req, 'bulkOperationId')))),
  );
  r.get(
    '/bulk/operations/:bulkOperationId/results',
    route((req, res, c) => void res.json(c.getBulkResults(param(req, 'bulkOperationId')))),
  );

  // The rest of the Core and Bulk APIs is in the specs (so it is authenticated and validated) but not emulated.
  r.use((req, res) =>
    sendRaw(res, 501, {
      error: { code: 'notImplemented', message: `${req.method} ${req.baseUrl}${req.path} is not emulated.` },
    }),
  );
  return r;
}
