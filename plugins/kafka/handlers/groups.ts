/** FindCoordinator, JoinGroup, SyncGroup, Heartbeat, LeaveGroup, ListGroups, DescribeGroups. */
import {
  decodeDescribeGroups,
  decodeFindCoordinator,
  decodeHeartbeat,
  decodeJoinGroup,
  decodeLeaveGroup,
  decodeSyncGroup,
  encodeDescribeGroups,
  encodeErrorOnly,
  encodeFindCoordinator,
  encodeJoinGroup,
  encodeLeaveGroup,
  encodeListGroups,
  encodeSyncGroup,
} from '../codec/messages/groups.js';
import { ErrorCode } from '../codec/errors.js';
import { NODE_ID } from '../broker.js';
import type { KafkaConnection } from '../connection.js';
import type { RequestHeader } from '../codec/header.js';
import type { Reader } from '../codec/reader.js';

export function handleFindCoordinator(c: KafkaConnection, h: RequestHeader, r: Reader, slot: number): void {
  const req = decodeFindCoordinator(r, h.apiVersion);
  const { host, port } = c.broker.advertised(c);
  // key type 1 is a transaction coordinator: transactions are not implemented, and no
  // transactional id is allowed (Kafka's answer when the principal may not use that id: final,
  // where COORDINATOR_NOT_AVAILABLE would have clients retry for a coordinator that never comes)
  const errorCode = req.keyType === 0 ? 0 : ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
  c.answer(slot, h, (w) => encodeFindCoordinator(w, h.apiVersion, { errorCode, nodeId: errorCode === 0 ? NODE_ID : -1, host: errorCode === 0 ? host : '', port: errorCode === 0 ? port : -1 }));
}

export function handleJoinGroup(c: KafkaConnection, h: RequestHeader, r: Reader, slot: number): void {
  const req = decodeJoinGroup(r, h.apiVersion);
  if (req.groupId === '') {
    return c.answer(slot, h, (w) =>
      encodeJoinGroup(w, h.apiVersion, { errorCode: ErrorCode.INVALID_GROUP_ID, generationId: -1, protocolName: '', leader: '', memberId: req.memberId, members: [] }),
    );
  }
  const group = c.broker.groups.group(req.groupId, true)!;
  group.join(req, c.clientId, c.peerHost, (res) => c.answer(slot, h, (w) => encodeJoinGroup(w, h.apiVersion, res)));
}

export function handleSyncGroup(c: KafkaConnection, h: RequestHeader, r: Reader, slot: number): void {
  const req = decodeSyncGroup(r, h.apiVersion);
  const group = c.broker.groups.group(req.groupId, false);
  const reply = (errorCode: number, assignment: Buffer) => c.answer(slot, h, (w) => encodeSyncGroup(w, h.apiVersion, { errorCode, assignment }));
  if (group === undefined) return reply(ErrorCode.UNKNOWN_MEMBER_ID, Buffer.alloc(0));
  group.sync(req.generationId, req.memberId, req.assignments, reply);
}

export function handleHeartbeat(c: KafkaConnection, h: RequestHeader, r: Reader, slot: number): void {
  const req = decodeHeartbeat(r, h.apiVersion);
  const group = c.broker.groups.group(req.groupId, false);
  const code = group === undefined ? ErrorCode.UNKNOWN_MEMBER_ID : group.heartbeat(req.generationId, req.memberId);
  c.answer(slot, h, (w) => encodeErrorOnly(w, h.apiVersion, code));
}

export function handleLeaveGroup(c: KafkaConnection, h: RequestHeader, r: Reader, slot: number): void {
  const req = decodeLeaveGroup(r, h.apiVersion);
  const group = c.broker.groups.group(req.groupId, false);
  const members = req.memberIds.map((memberId) => ({ memberId, errorCode: group === undefined ? ErrorCode.UNKNOWN_MEMBER_ID : group.leave(memberId) }));
  const errorCode = h.apiVersion >= 3 ? 0 : members[0]!.errorCode;
  c.answer(slot, h, (w) => encodeLeaveGroup(w, h.apiVersion, { errorCode, members }));
}

export function handleListGroups(c: KafkaConnection, h: RequestHeader, _r: Reader, slot: number): void {
  const groups = [...c.broker.groups.groups.values()].map((g) => ({ groupId: g.id, protocolType: g.protocolType }));
  c.answer(slot, h, (w) => encodeListGroups(w, h.apiVersion, groups));
}

export function handleDescribeGroups(c: KafkaConnection, h: RequestHeader, r: Reader, slot: number): void {
  const ids = decodeDescribeGroups(r, h.apiVersion);
  const groups = ids.map((id) => {
    const g = c.broker.groups.group(id, false);
    if (g === undefined) return { errorCode: 0, groupId: id, state: 'Dead', protocolType: '', protocol: '', members: [] };
    return {
      errorCode: 0,
      groupId: id,
      state: g.state,
      protocolType: g.protocolType,
      protocol: g.protocol,
      members: [...g.members.values()].map((m) => ({
        memberId: m.id,
        clientId: m.clientId,
        clientHost: m.clientHost,
        metadata: m.protocols.find((p) => p.name === g.protocol)?.metadata ?? Buffer.alloc(0),
        assignment: m.assignment,
      })),
    };
  });
  c.answer(slot, h, (w) => encodeDescribeGroups(w, h.apiVersion, groups));
}
