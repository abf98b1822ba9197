/**
 * The classic consumer group protocol: FindCoordinator (10) v0-2, JoinGroup (11) v0-5,
 * SyncGroup (14) v0-3, Heartbeat (12) v0-3, LeaveGroup (13) v0-3, ListGroups (16) v0-2,
 * DescribeGroups (15) v0-4.
 */
import type { Reader } from '../reader.js';
import type { Writer } from '../writer.js';

export function decodeFindCoordinator(r: Reader, v: number): { key: string; keyType: number } {
  const key = r.string();
  return { key, keyType: v >= 1 ? r.int8() : 0 };
}

export function encodeFindCoordinator(w: Writer, v: number, res: { errorCode: number; nodeId: number; host: string; port: number }): void {
  if (v >= 1) w.int32(0);
  w.int16(res.errorCode);
  if (v >= 1) w.nullableString(null);
  w.int32(res.nodeId).string(res.host).int32(res.port);
}

export interface JoinGroupRequest {
  groupId: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  memberId: string;
  groupInstanceId: string | null;
  protocolType: string;
  protocols: { name: string; metadata: Buffer }[];
}

export function decodeJoinGroup(r: Reader, v: number): JoinGroupRequest {
  const groupId = r.string();
  const sessionTimeoutMs = r.int32();
  const rebalanceTimeoutMs = v >= 1 ? r.int32() : sessionTimeoutMs;
  const memberId = r.string();
  const groupInstanceId = v >= 5 ? r.nullableString() : null;
  const protocolType = r.string();
  // metadata is kept beyond the request: copy it out of the frame buffer
  const protocols = r.array((r) => ({ name: r.string(), metadata: Buffer.from(r.bytes()) }));
  return { groupId, sessionTimeoutMs, rebalanceTimeoutMs, memberId, groupInstanceId, protocolType, protocols };
}

export interface JoinGroupResponse {
  errorCode: number;
  generationId: number;
  protocolName: string;
  leader: string;
  memberId: string;
  members: { memberId: string; groupInstanceId: string | null; metadata: Buffer }[];
}

export function encodeJoinGroup(w: Writer, v: number, res: JoinGroupResponse): void {
  if (v >= 2) w.int32(0);
  w.int16(res.errorCode).int32(res.generationId).string(res.protocolName).string(res.leader).string(res.memberId);
  w.array(res.members, (w, m) => {
    w.string(m.memberId);
    if (v >= 5) w.nullableString(m.groupInstanceId);
    w.bytes(m.metadata);
  });
}

export interface SyncGroupRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  assignments: { memberId: string; assignment: Buffer }[];
}

export function decodeSyncGroup(r: Reader, v: number): SyncGroupRequest {
  const groupId = r.string();
  const generationId = r.int32();
  const memberId = r.string();
  if (v >= 3) r.nullableString();
  const assignments = r.array((r) => ({ memberId: r.string(), assignment: Buffer.from(r.bytes()) }));
  return { groupId, generationId, memberId, assignments };
}

export function encodeSyncGroup(w: Writer, v: number, res: { errorCode: number; assignment: Buffer }): void {
  if (v >= 1) w.int32(0);
  w.int16(res.errorCode).bytes(res.assignment);
}

export function decodeHeartbeat(r: Reader, v: number): { groupId: string; generationId: number; memberId: string } {
  const groupId = r.string();
  const generationId = r.int32();
  const memberId = r.string();
  if (v >= 3) r.nullableString();
  return { groupId, generationId, memberId };
}

/** Heartbeat, and every other answer that is a throttle (v1+) and an error code. */
export function encodeErrorOnly(w: Writer, v: number, errorCode: number, throttleFrom = 1): void {
  if (v >= throttleFrom) w.int32(0);
  w.int16(errorCode);
}

export function decodeLeaveGroup(r: Reader, v: number): { groupId: string; memberIds: string[] } {
  const groupId = r.string();
  if (v < 3) return { groupId, memberIds: [r.string()] };
  const members = r.array((r) => {
    const id = r.string();
    r.nullableString();
    return id;
  });
  return { groupId, memberIds: members };
}

export function encodeLeaveGroup(w: Writer, v: number, res: { errorCode: number; members: { memberId: string; errorCode: number }[] }): void {
  if (v >= 1) w.int32(0);
  w.int16(res.errorCode);
  if (v >= 3) w.array(res.members, (w, m) => w.string(m.memberId).nullableString(null).int16(m.errorCode));
}

export function encodeListGroups(w: Writer, v: number, groups: { groupId: string; protocolType: string }[]): void {
  if (v >= 1) w.int32(0);
  w.int16(0);
  w.array(groups, (w, g) => w.string(g.groupId).string(g.protocolType));
}

export function decodeDescribeGroups(r: Reader, v: number): string[] {
  const groups = r.array((r) => r.string());
  if (v >= 3) r.bool();
  return groups;
}

export interface GroupDescription {
  errorCode: number;
  groupId: string;
  state: string;
  protocolType: string;
  protocol: string;
  members: { memberId: string; clientId: string; clientHost: string; metadata: Buffer; assignment: Buffer }[];
}

export function encodeDescribeGroups(w: Writer, v: number, groups: GroupDescription[]): void {
  if (v >= 1) w.int32(0);
  w.array(groups, (w, g) => {
    w.int16(g.errorCode).string(g.groupId).string(g.state).string(g.protocolType).string(g.protocol);
    w.array(g.members, (w, m) => {
      w.string(m.memberId);
      if (v >= 4) w.nullableString(null);
      w.string(m.clientId).string(m.clientHost).bytes(m.metadata).bytes(m.assignment);
    });
    if (v >= 3) w.int32(-2147483648);
  });
}
