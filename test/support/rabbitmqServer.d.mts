export declare const RABBITMQ_SERVER = '/usr/lib/rabbitmq/bin/rabbitmq-server';
export interface RabbitServer {
  /** `amqp://guest:guest@127.0.0.1:PORT` (guest is allowed from loopback). */
  url: string;
  port: number;
  /** Kills the broker's process group and its port mapper; removes the folder. Safe to call twice. */
  stop(): Promise<void>;
  /** Makes the broker close every client connection now (`rabbitmqctl close_all_connections`). */
  closeConnections(reason: string): void;
}
/** Why RabbitMQ cannot be started here, or undefined. */
export declare function rabbitmqUnavailable(): string | undefined;
/** Starts a broker and waits (up to 90 s, it takes about 10) until it accepts AMQP connections. */
export declare function startRabbitmq(): Promise<RabbitServer>;
