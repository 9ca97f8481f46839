/**
 * `action: { type: amqp }`: renders, for each record, the message a publish would send — exchange,
 * routing key, JSON body and the idempotency key as its `message_id`. Pure: nothing connects here.
 * This file cannot depend on the vscode API.
 */
import { secretNamesOf } from '../../sources/configText';
import type { CompiledAction } from '../compiledAction';
import { invalidAction, renderOnlyAction } from '../compiledAction';
import { compileJsonTemplate } from '../jsonTemplate';
import { compileTemplate, mergeReferences } from '../template';
import type { AmqpActionSpec } from './amqpSchema';

export function compileAmqpAction(spec: AmqpActionSpec): CompiledAction {
  const routing = compileTemplate(spec.routingKey, 'text');
  const body = compileJsonTemplate(spec.body ?? null, 'body');
  if (!routing.ok || !body.ok) {
    return invalidAction(spec, [
      ...(routing.ok ? [] : [{ field: 'routingKey', message: routing.message }]),
      ...(body.ok ? [] : body.issues),
    ]);
  }
  const references = mergeReferences([
    routing.template.references(),
    body.template.references(),
    { recordFields: [], envNames: [], secretNames: secretNamesOf(spec.url) },
  ]);
  return renderOnlyAction(spec, references, (record, ctx) => {
    const values = { record: record.fields, env: ctx.env, secrets: ctx.secrets };
    const key = routing.template.render(values);
    if (!key.ok) return { ok: false, reason: `routingKey: ${key.reason}` };
    if (Buffer.byteLength(key.value) > 255) return { ok: false, reason: 'routingKey: longer than 255 bytes' };
    const rendered = body.template.render(values);
    if (!rendered.ok) return { ok: false, reason: `body: ${rendered.reason}` };
    return {
      ok: true,
      preview: {
        type: 'amqp',
        exchange: spec.exchange,
        routingKey: key.value,
        messageId: ctx.idempotencyKey ?? '',
        body: JSON.stringify(rendered.value),
        persistent: spec.persistent,
      },
    };
  });
}
