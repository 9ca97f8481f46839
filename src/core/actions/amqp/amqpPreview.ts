/**
 * What an AMQP action would publish for one record, and that as lines of text. Imports nothing, so the
 * notebook renderer shows the same lines as the CLI. This folder cannot depend on the vscode API.
 */

/** Exactly what would be published for one record. */
export interface AmqpPreview {
  type: 'amqp';
  exchange: string;
  routingKey: string;
  /** The idempotency key: a consumer drops a message whose id it has seen. */
  messageId: string;
  /** The serialized JSON body. */
  body: string;
  persistent: boolean;
}

/** Where the message goes, its id, and its body exactly as published. */
export function amqpPreviewLines(send: AmqpPreview): string[] {
  return [
    `publish exchange "${send.exchange}" routing key ${send.routingKey} message_id ${send.messageId}`,
    send.body,
  ];
}
