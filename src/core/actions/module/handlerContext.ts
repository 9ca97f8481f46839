/**
 * The context object a module handler receives during execution. This file cannot depend on the vscode
 * API.
 */
import type { ModuleContext } from './moduleLoader';

/**
 * What a handler receives as its second argument during execution: the usual context (with `dryRun`
 * false) plus a signal that fires when the attempt times out or the run is stopped, so a handler that
 * passes it on (to fetch, a database client) stops working once its result no longer counts.
 */
export interface HandlerContext extends ModuleContext {
  signal: AbortSignal;
}

/**
 * The context of one call: `ctx`'s properties in their order, `dryRun` false, then an enumerable `signal`
 * getter that calls `signal` — what `{ ...ctx, dryRun: false, get signal() {...} }` gave. That literal
 * cost about 2.5 µs per record, a tenth of a no-op run's CPU: a getter made per record gave every context
 * a hidden class of its own, and a property added to a spread copy leaves V8's fast path. So the context
 * is copied property by property, and every context shares one getter, which finds its own record's
 * `signal` in a private slot of the context.
 */
export function handlerContext(ctx: ModuleContext, signal: () => AbortSignal): HandlerContext {
  const context: Record<string, unknown> = {};
  // `ctx` is a plain object (moduleContext): its enumerable properties are its own.
  for (const name in ctx) context[name] = ctx[name as keyof ModuleContext];
  context.dryRun = false;
  Object.defineProperty(context, 'signal', SIGNAL_PROPERTY);
  SignalSlot.attach(context, signal);
  return context as unknown as HandlerContext;
}

/** A class whose constructor returns the object it is given: a subclass's private fields land on it. */
class Stamped {
  constructor(target: object) {
    return target as Stamped;
  }
}

/** The slot of a context that holds its record's signal; invisible to the handler. */
class SignalSlot extends Stamped {
  readonly #signal: () => AbortSignal;

  private constructor(target: object, signal: () => AbortSignal) {
    super(target);
    this.#signal = signal;
  }

  static attach(target: object, signal: () => AbortSignal): void {
    new SignalSlot(target, signal);
  }

  /**
   * The signal of `target`, or of the context it inherits from (a handler's `Object.create(ctx)` reads
   * the getter with itself as `this`).
   */
  static read(target: object): AbortSignal {
    for (let at: object | null = target; at !== null; at = Object.getPrototypeOf(at) as object | null) {
      if (#signal in at) return (at as SignalSlot).#signal();
    }
    throw new TypeError('signal is read from an object that is not a handler context');
  }
}

/** The getter every context shares; made in a literal so it is named `get signal`, as before. */
const SIGNAL_PROPERTY: PropertyDescriptor = {
  get: Object.getOwnPropertyDescriptor(
    {
      get signal(): AbortSignal {
        return SignalSlot.read(this);
      },
    },
    'signal',
  )!.get,
  enumerable: true,
  configurable: true,
};
