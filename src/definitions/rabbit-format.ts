/**
 * RabbitMQ's definitions file (https://www.rabbitmq.com/docs/definitions): what
 * `rabbitmqctl export_definitions` and `GET /api/definitions` write, and what
 * `load_definitions` and `POST /api/definitions` read. Field names are RabbitMQ's. A
 * per-vhost file (`GET /api/definitions/{vhost}`) has the same lists without `vhost` fields
 * and without users, vhosts and permissions.
 */
import { BrokerError } from '../core/errors.js';
import type { Json } from './json-values.js';

export interface RabbitUser {
  name: string;
  password_hash?: string;
  /** plain password: accepted on import (newer RabbitMQ files may carry it), never exported */
  password?: string;
  hashing_algorithm?: string;
  /** an array since 3.9, a comma-separated string before */
  tags?: string[] | string;
  limits?: Record<string, number>;
}

export interface RabbitVhost {
  name: string;
  description?: string;
  tags?: string[] | string;
  default_queue_type?: string;
  metadata?: { description?: string; tags?: string[]; default_queue_type?: string };
  limits?: unknown;
}

export interface RabbitPermission {
  user: string;
  vhost: string;
  configure: string;
  write: string;
  read: string;
}

export interface RabbitTopicPermission {
  user: string;
  vhost: string;
  exchange: string;
  write: string;
  read: string;
}

export interface RabbitParameter {
  vhost: string;
  component: string;
  name: string;
  value: Record<string, Json>;
}

export interface RabbitPolicy {
  vhost?: string;
  name: string;
  pattern: string;
  'apply-to'?: string;
  definition: Record<string, Json>;
  priority?: number;
}

export interface RabbitQueue {
  name: string;
  vhost?: string;
  durable?: boolean;
  auto_delete?: boolean;
  /** 'classic', 'quorum', 'stream' in files from 3.8+ management (also x-queue-type) */
  type?: string;
  arguments?: Record<string, Json>;
}

export interface RabbitExchange {
  name: string;
  vhost?: string;
  type: string;
  durable?: boolean;
  auto_delete?: boolean;
  internal?: boolean;
  arguments?: Record<string, Json>;
}

export interface RabbitBinding {
  source: string;
  vhost?: string;
  destination: string;
  destination_type: 'queue' | 'exchange';
  routing_key?: string;
  arguments?: Record<string, Json>;
}

export interface RabbitDefinitions {
  rabbit_version?: string;
  rabbitmq_version?: string;
  product_name?: string;
  product_version?: string;
  users?: RabbitUser[];
  vhosts?: RabbitVhost[];
  permissions?: RabbitPermission[];
  topic_permissions?: RabbitTopicPermission[];
  parameters?: RabbitParameter[];
  global_parameters?: { name: string; value: Json }[];
  policies?: RabbitPolicy[];
  queues?: RabbitQueue[];
  exchanges?: RabbitExchange[];
  bindings?: RabbitBinding[];
}

/** RabbitMQ's hashing algorithm names, told apart by the hash length (see src/auth/passwords.ts). */
export function hashingAlgorithmOf(passwordHash: string): string {
  const n = Buffer.from(passwordHash, 'base64').length;
  return n === 68 ? 'rabbit_password_hashing_sha512' : n === 20 ? 'rabbit_password_hashing_md5' : 'rabbit_password_hashing_sha256';
}

export function tagList(tags: string[] | string | undefined): string[] {
  if (tags === undefined) return [];
  // input from the API or a definitions file: a wrong type is the client's error, not a crash (found by test/fuzz)
  if (!Array.isArray(tags) && typeof tags !== 'string') throw new BrokerError('PRECONDITION_FAILED', `PRECONDITION_FAILED - tags must be a comma-separated string or a list, not ${JSON.stringify(tags)}`);
  const list = Array.isArray(tags) ? tags : tags.split(',');
  return list.map((t) => String(t).trim()).filter((t) => t !== '');
}
