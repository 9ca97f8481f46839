/** What an AMQP action would publish for one record. This folder cannot depend on the vscode API. */

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
