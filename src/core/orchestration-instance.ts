/** Identity of an instance and, optionally, one of its executions. */
export interface OrchestrationInstance {
  readonly instanceId: string;
  /** Absent: "whichever execution is current" (client management messages). */
  readonly executionId?: string;
}

/** Link from a sub-orchestration to the parent execution that started it. */
export interface ParentInstance {
  readonly name: string;
  readonly version: string;
  /** The parent's instance id and execution id; results go to that execution. */
  readonly orchestrationInstance: Required<OrchestrationInstance>;
  /** The parent's action id for this child. */
  readonly taskScheduleId: number;
}
