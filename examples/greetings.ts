import type { Activity, Orchestrator } from '../src/runtime/index.ts';

/** Activity: formats one greeting. */
export const sayHello: Activity<string, string> = (_ctx, name) => `Hello ${name}!`;

/**
 * Function chaining: three activities in sequence, each waiting for the one
 * before. Output: "Hello Tokyo! Hello Seattle! Hello London!".
 */
export const helloCities: Orchestrator<void, string> = function* (ctx) {
  const tokyo: string = yield ctx.callActivity('SayHello', 'Tokyo');
  const seattle: string = yield ctx.callActivity('SayHello', 'Seattle');
  const london: string = yield ctx.callActivity('SayHello', 'London');
  return [tokyo, seattle, london].join(' ');
};
