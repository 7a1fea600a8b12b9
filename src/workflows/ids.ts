/** Workflow ids carry opaque ids only (HiBob root.id), never names or emails. */
export function employeeWorkflowId(connection: string, employeeId: string): string {
  return `bobsync/${connection}/employee/${employeeId}`;
}

export function notifierWorkflowId(connection: string): string {
  return `bobsync/${connection}/notifier`;
}
