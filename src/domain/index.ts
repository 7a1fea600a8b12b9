/** The sync engine: HiBob employee → normalised employee → desired learner → plan. Pure, no I/O. */
export * from './types';
export { normaliseEmployee, hibobFieldsFor, BASE_FIELDS, type NormaliseOptions } from './normalise';
export { evaluateStatus, targetState } from './status';
export { desiredLearner, emailProblem, isParked, managedGroupRoles, type DesiredOptions } from './desired';
export { planEmployee, planContextFor, planFingerprint, type PlanInput } from './plan';
export { canonicalJson, fingerprint, fnv1a64 } from './fingerprint';
export {
  applyTransform,
  applyTransforms,
  evaluateCondition,
  evaluateExpression,
  describeCondition,
  describeExpression,
  type Truth,
} from './expressions';
export { parseTemplate, templateFields, TemplateSyntaxError, type TemplatePart } from './template';
export { addDays, describeInstant, isIsoDate, isTimeZone, localDate, localMidnightUtc } from './time';
export type { MappingConfig, MappingInput, StatusRules, Condition, ValueExpression, Transform } from './mapping-schema';
export { mappingSchema, defaultMapping } from './mapping-schema';
