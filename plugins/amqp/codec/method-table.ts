/**
 * Every AMQP 0-9-1 method, with RabbitMQ's extensions (exchange.bind/unbind, basic.nack,
 * confirm.*, connection.blocked/unblocked, connection.update-secret), as one declarative table:
 * the machine-readable spec (amqp0-9-1.xml / RabbitMQ's amqp-rabbitmq-0.9.1.json) written out
 * by hand, one line per method.
 *
 * Key: the method's name in camelCase (`basicConsumeOk` is basic.consume-ok). Value: its id,
 * `class-id << 16 | method-id` written in hex so both halves show (0x003c_0028 = class 60,
 * method 40), and its fields in wire order as `name:type`. A `?` marks the fields the spec
 * reserves (deprecated tickets, capabilities …): optional when encoding (zero value sent),
 * decoded like any other so that re-encoding gives the same bytes.
 *
 * Field types (spec §4.2.5): octet uint8, short uint16, long uint32, longlong uint64,
 * bit (consecutive bits packed into octets, low bit first), shortstr, longstr, table.
 *
 * The TypeScript types of method objects are derived from this table (see `MethodOf`), so the
 * table is the single source for names, ids and field types.
 */
import type { FieldTable } from '../../../src/codec/index.js';

export const METHODS = {
  connectionStart: [0x000a_000a, 'versionMajor:octet versionMinor:octet serverProperties:table mechanisms:longstr locales:longstr'],
  connectionStartOk: [0x000a_000b, 'clientProperties:table mechanism:shortstr response:longstr locale:shortstr'],
  connectionSecure: [0x000a_0014, 'challenge:longstr'],
  connectionSecureOk: [0x000a_0015, 'response:longstr'],
  connectionTune: [0x000a_001e, 'channelMax:short frameMax:long heartbeat:short'],
  connectionTuneOk: [0x000a_001f, 'channelMax:short frameMax:long heartbeat:short'],
  connectionOpen: [0x000a_0028, 'virtualHost:shortstr capabilities?:shortstr insist?:bit'],
  connectionOpenOk: [0x000a_0029, 'knownHosts?:shortstr'],
  connectionClose: [0x000a_0032, 'replyCode:short replyText:shortstr classId:short methodId:short'],
  connectionCloseOk: [0x000a_0033, ''],
  connectionBlocked: [0x000a_003c, 'reason:shortstr'],
  connectionUnblocked: [0x000a_003d, ''],
  connectionUpdateSecret: [0x000a_0046, 'newSecret:longstr reason:shortstr'],
  connectionUpdateSecretOk: [0x000a_0047, ''],

  channelOpen: [0x0014_000a, 'outOfBand?:shortstr'],
  channelOpenOk: [0x0014_000b, 'channelId?:longstr'],
  channelFlow: [0x0014_0014, 'active:bit'],
  channelFlowOk: [0x0014_0015, 'active:bit'],
  channelClose: [0x0014_0028, 'replyCode:short replyText:shortstr classId:short methodId:short'],
  channelCloseOk: [0x0014_0029, ''],

  accessRequest: [0x001e_000a, 'realm:shortstr exclusive:bit passive:bit active:bit write:bit read:bit'],
  accessRequestOk: [0x001e_000b, 'ticket:short'],

  exchangeDeclare: [0x0028_000a, 'ticket?:short exchange:shortstr type:shortstr passive:bit durable:bit autoDelete:bit internal:bit noWait:bit arguments:table'],
  exchangeDeclareOk: [0x0028_000b, ''],
  exchangeDelete: [0x0028_0014, 'ticket?:short exchange:shortstr ifUnused:bit noWait:bit'],
  exchangeDeleteOk: [0x0028_0015, ''],
  exchangeBind: [0x0028_001e, 'ticket?:short destination:shortstr source:shortstr routingKey:shortstr noWait:bit arguments:table'],
  exchangeBindOk: [0x0028_001f, ''],
  exchangeUnbind: [0x0028_0028, 'ticket?:short destination:shortstr source:shortstr routingKey:shortstr noWait:bit arguments:table'],
  exchangeUnbindOk: [0x0028_0033, ''],

  queueDeclare: [0x0032_000a, 'ticket?:short queue:shortstr passive:bit durable:bit exclusive:bit autoDelete:bit noWait:bit arguments:table'],
  queueDeclareOk: [0x0032_000b, 'queue:shortstr messageCount:long consumerCount:long'],
  queueBind: [0x0032_0014, 'ticket?:short queue:shortstr exchange:shortstr routingKey:shortstr noWait:bit arguments:table'],
  queueBindOk: [0x0032_0015, ''],
  queuePurge: [0x0032_001e, 'ticket?:short queue:shortstr noWait:bit'],
  queuePurgeOk: [0x0032_001f, 'messageCount:long'],
  queueDelete: [0x0032_0028, 'ticket?:short queue:shortstr ifUnused:bit ifEmpty:bit noWait:bit'],
  queueDeleteOk: [0x0032_0029, 'messageCount:long'],
  queueUnbind: [0x0032_0032, 'ticket?:short queue:shortstr exchange:shortstr routingKey:shortstr arguments:table'],
  queueUnbindOk: [0x0032_0033, ''],

  basicQos: [0x003c_000a, 'prefetchSize:long prefetchCount:short global:bit'],
  basicQosOk: [0x003c_000b, ''],
  basicConsume: [0x003c_0014, 'ticket?:short queue:shortstr consumerTag:shortstr noLocal:bit noAck:bit exclusive:bit noWait:bit arguments:table'],
  basicConsumeOk: [0x003c_0015, 'consumerTag:shortstr'],
  basicCancel: [0x003c_001e, 'consumerTag:shortstr noWait:bit'],
  basicCancelOk: [0x003c_001f, 'consumerTag:shortstr'],
  basicPublish: [0x003c_0028, 'ticket?:short exchange:shortstr routingKey:shortstr mandatory:bit immediate:bit'],
  basicReturn: [0x003c_0032, 'replyCode:short replyText:shortstr exchange:shortstr routingKey:shortstr'],
  basicDeliver: [0x003c_003c, 'consumerTag:shortstr deliveryTag:longlong redelivered:bit exchange:shortstr routingKey:shortstr'],
  basicGet: [0x003c_0046, 'ticket?:short queue:shortstr noAck:bit'],
  basicGetOk: [0x003c_0047, 'deliveryTag:longlong redelivered:bit exchange:shortstr routingKey:shortstr messageCount:long'],
  basicGetEmpty: [0x003c_0048, 'clusterId?:shortstr'],
  basicAck: [0x003c_0050, 'deliveryTag:longlong multiple:bit'],
  basicReject: [0x003c_005a, 'deliveryTag:longlong requeue:bit'],
  basicRecoverAsync: [0x003c_0064, 'requeue:bit'],
  basicRecover: [0x003c_006e, 'requeue:bit'],
  basicRecoverOk: [0x003c_006f, ''],
  basicNack: [0x003c_0078, 'deliveryTag:longlong multiple:bit requeue:bit'],

  confirmSelect: [0x0055_000a, 'noWait:bit'],
  confirmSelectOk: [0x0055_000b, ''],

  txSelect: [0x005a_000a, ''],
  txSelectOk: [0x005a_000b, ''],
  txCommit: [0x005a_0014, ''],
  txCommitOk: [0x005a_0015, ''],
  txRollback: [0x005a_001e, ''],
  txRollbackOk: [0x005a_001f, ''],
} as const;

// ---- types derived from the table ----------------------------------------------------------

interface FieldTypes {
  octet: number;
  short: number;
  long: number;
  longlong: number;
  bit: boolean;
  shortstr: string;
  longstr: Buffer;
  table: FieldTable;
}
export type FieldType = keyof FieldTypes;

type Field<F extends string> = F extends `${infer N}?:${infer T extends FieldType}`
  ? { [P in N]?: FieldTypes[T] }
  : F extends `${infer N}:${infer T extends FieldType}`
    ? { [P in N]: FieldTypes[T] }
    : never;
type Fields<S extends string> = S extends `${infer F} ${infer Rest}` ? Field<F> & Fields<Rest> : S extends '' ? unknown : Field<S>;
type Flatten<T> = { [K in keyof T]: T[K] };

type Methods = typeof METHODS;
export type MethodName = keyof Methods;
/** The method object of one method: `{ id, ...fields }`. */
export type MethodOf<N extends MethodName> = Flatten<{ id: Methods[N][0] } & Fields<Methods[N][1]>>;
/** Any method object; narrow it with `switch (m.id)` against `M.<name>`. */
export type AmqpMethod = { [N in MethodName]: MethodOf<N> }[MethodName];

/** Method ids by name: `M.basicPublish === 0x003c0028`. */
export const M = Object.fromEntries(Object.entries(METHODS).map(([name, [id]]) => [name, id])) as {
  readonly [N in MethodName]: Methods[N][0];
};

/** 'basicConsumeOk' → 'basic.consume-ok' (the spec's name, used in logs and error texts) */
function specName(camel: string): string {
  const words = camel.split(/(?=[A-Z])/).map((w) => w.toLowerCase());
  return `${words[0]}.${words.slice(1).join('-')}`;
}

/** A method's compiled field list, as the generic encoder/decoder walks it. */
export interface MethodSpec {
  readonly id: number;
  readonly name: string;
  readonly fields: ReadonlyArray<{ readonly name: string; readonly type: FieldType }>;
}

export const METHOD_SPECS: ReadonlyMap<number, MethodSpec> = new Map(
  Object.entries(METHODS).map(([camel, [id, fields]]) => [
    id,
    {
      id,
      name: specName(camel),
      fields: fields === '' ? [] : fields.split(' ').map((f) => {
        const [name, type] = f.split(':') as [string, FieldType];
        return { name: name.replace(/\?$/, ''), type };
      }),
    },
  ]),
);

/** 'queue.declare' for 0x0032000a; 'class 99 method 1' for ids the table does not know */
export function methodName(id: number): string {
  return METHOD_SPECS.get(id)?.name ?? `class ${id >>> 16} method ${id & 0xffff}`;
}
