/* eslint-disable @typescript-eslint/no-explicit-any -- walks the raw OpenAPI document */
import { join } from 'node:path';
import { findVendorSpecsDir, loadLearning360Spec } from '../../packages/local/emulators/learning360/spec';

describe('core-api.json loading', () => {
  const original = process.env.BOBSYNC_VENDOR_SPECS;
  afterEach(() => {
    if (original === undefined) delete process.env.BOBSYNC_VENDOR_SPECS;
    else process.env.BOBSYNC_VENDOR_SPECS = original;
  });

  it('finds shared/vendor-specs beside the repository, or where BOBSYNC_VENDOR_SPECS says', () => {
    delete process.env.BOBSYNC_VENDOR_SPECS;
    const dir = findVendorSpecsDir();
    expect(dir).toMatch(/shared[\\/]vendor-specs$/);
    process.env.BOBSYNC_VENDOR_SPECS = dir;
    expect(findVendorSpecsDir('/')).toBe(dir);
    process.env.BOBSYNC_VENDOR_SPECS = join(dir, 'nowhere');
    expect(() => findVendorSpecsDir()).toThrow(/BOBSYNC_VENDOR_SPECS/);
  });

  it('corrects the document in memory and says what it corrected', () => {
    const spec = loadLearning360Spec();
    const text = JSON.stringify(spec.document());
    expect(text).not.toContain('"nullable"');
    expect(spec.errata).toHaveLength(4);
    expect(spec.files.map((f) => f.split(/[\\/]/).pop())).toEqual(['core-api.json', 'bulk-api.json']);
    for (const line of spec.errata) expect(line).toMatch(/^[1-9]\d* /);
    const doc = spec.document() as any;
    expect(doc.components.schemas.CustomFieldValueDTO.properties.value.anyOf).toHaveLength(2);
    expect(doc.components.schemas.UpdateUserDTO.properties.profileImageId.type).toEqual(['string', 'null']);
    const usersGet = doc.paths['/api/v2/users'].get.parameters.map((p: any) => p.name);
    expect(usersGet).toContain('next');
    expect(doc.paths['/api/v2/users/{userId}'].get.parameters.map((p: any) => p.name)).not.toContain('next');
    // The Bulk API paths join the Core ones; a clashing schema name is renamed with its references.
    expect(doc.paths['/api/v2/bulk/groups/memberships'].post.operationId).toBe(
      'v2.bulk.groups.AddUsersToGroupsController_addUsersToGroups',
    );
    expect(doc.components.schemas.BulkSkillTranslatedFieldsDTO).toBeDefined();
    // Each caller gets its own copy.
    doc.paths = {};
    expect(Object.keys((spec.document() as any).paths).length).toBeGreaterThan(50);
  });

  it('reads scopes and page sizes from the operation descriptions', () => {
    const { operations } = loadLearning360Spec();
    expect(operations.get('v2.users.GetUsersController_getUsers')).toMatchObject({
      method: 'GET',
      path: '/api/v2/users',
      scope: 'users:read',
      pageSize: 500,
    });
    expect(operations.get('v2.externalIds.GetExternalIdsController_getExternalIds')).toMatchObject({
      scope: 'externalIds:read',
      pageSize: 5000,
    });
    expect(operations.get('v2.groups.AddUserRoleToGroupController_addUserRoleToGroup')?.scope).toBe('groups:write');
    expect(operations.get('v2.authentication.GenerateTokenController_generateToken')?.scope).toBeUndefined();
    expect(operations.get('v2.bulk.groups.RemoveUsersFromGroupsController_removeUsersFromGroups')?.scope).toBe(
      'groups:bulk',
    );
    expect(operations.get('v2.bulk.operations.GetBulkOperationsController_getBulkOperations')).toMatchObject({
      scope: 'bulkOperations:read',
      pageSize: 20,
    });
  });
});
