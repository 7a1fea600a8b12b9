import type { EmulatorKit } from '../../common/server';
import type { HibobDirectory } from '../directory';
import type { FieldCatalog } from '../fields';
import type { ListIndex } from '../lists';
import type { AsyncReportFiles } from '../reports';
import type { EmployeeStore } from '../store';
import type { ReportDefinition, SiteConfig } from '../types';
import type { RateLimits, ServiceUsers, Waf } from './access';

/** Settings that can change while the emulator runs (PATCH /__admin/settings). */
export interface HibobSettings {
  /** How long an async report stays "not ready" (emulator clock). */
  reportAsyncDelayMs: number;
  /** Start CSV reports with a UTF-8 BOM. */
  csvBom: boolean;
  /** Realism quirks: unknown paths answer 200 text/html; a GET with a JSON content type gets a 400 HTML page. */
  htmlQuirks: boolean;
}

/** Everything the HTTP routes share. */
export interface HibobHttpContext {
  kit: EmulatorKit;
  directory: HibobDirectory;
  store: EmployeeStore;
  catalog: FieldCatalog;
  lists: ListIndex;
  sites: SiteConfig[];
  users: ServiceUsers;
  waf: Waf;
  rateLimits: RateLimits;
  reports: ReportDefinition[];
  asyncReports: AsyncReportFiles;
  settings: HibobSettings;
}
