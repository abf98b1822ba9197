/**
 * One consumer group under the classic protocol (KIP-62 timeouts; Kafka's GroupCoordinator
 * states): Empty → PreparingRebalance (every member must rejoin; those that do not within
 * the rebalance timeout are dropped) → CompletingRebalance (the leader computes the
 * assignment and sends it with SyncGroup) → Stable. A join, a leave or a member's session
 * timing out starts a rebalance; heartbeats tell members to rejoin with REBALANCE_IN_PROGRESS.
 */
import { randomUUID } from 'node:crypto';
import { ErrorCode } from '../codec/errors.js';
import type { JoinGroupRequest, JoinGroupResponse } from '../codec/messages/groups.js';

export type GroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable';

export interface Member {
  id: string;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocols: { name: string; metadata: Buffer }[];
  assignment: Buffer;
  join: ((res: JoinGroupResponse) => void) | null;
  sync: ((code: number, assignment: Buffer) => void) | null;
  timer: NodeJS.Timeout | null;
}

const EMPTY = Buffer.alloc(0);

export class Group {
  readonly id: string;
  state: GroupState = 'Empty';
  generation = 0;
  protocolType = '';
  protocol = '';
  leader = '';
  readonly members = new Map<string, Member>();
  #rebalanceTimer: NodeJS.Timeout | null = null;
  readonly #initialDelayMs: number;
  readonly #onChange: () => void;

  constructor(id: string, initialDelayMs: number, onChange: () => void) {
    this.id = id;
    this.#initialDelayMs = initialDelayMs;
    this.#onChange = onChange;
  }

  join(req: JoinGroupRequest, clientId: string, clientHost: string, reply: (res: JoinGroupResponse) => void): void {
    const fail = (code: number) => reply({ errorCode: code, generationId: -1, protocolName: '', leader: '', memberId: req.memberId, members: [] });
    if (req.sessionTimeoutMs < 1000 || req.sessionTimeoutMs > 30 * 60_000) return fail(ErrorCode.INVALID_SESSION_TIMEOUT);
    if (this.members.size > 0 && (req.protocolType !== this.protocolType || !req.protocols.some((p) => this.#allSupport(p.name, req.memberId)))) {
      return fail(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    }
    let member: Member | undefined;
    if (req.memberId === '') {
      member = {
        id: `${clientId || 'member'}-${randomUUID()}`,
        clientId,
        clientHost,
        sessionTimeoutMs: req.sessionTimeoutMs,
        rebalanceTimeoutMs: req.rebalanceTimeoutMs,
        protocols: req.protocols,
        assignment: EMPTY,
        join: null,
        sync: null,
        timer: null,
      };
      this.members.set(member.id, member);
    } else {
      member = this.members.get(req.memberId);
      if (member === undefined) return fail(ErrorCode.UNKNOWN_MEMBER_ID);
      member.protocols = req.protocols;
      member.sessionTimeoutMs = req.sessionTimeoutMs;
      member.rebalanceTimeoutMs = req.rebalanceTimeoutMs;
    }
    this.protocolType = req.protocolType;
    this.#stopSessionTimer(member);
    member.join?.({ errorCode: ErrorCode.UNKNOWN_MEMBER_ID, generationId: -1, protocolName: '', leader: '', memberId: member.id, members: [] });
    member.join = reply;
    if (this.state !== 'PreparingRebalance') this.#prepareRebalance(this.state === 'Empty');
    else this.#maybeCompleteJoin();
    this.#onChange();
  }

  sync(generation: number, memberId: string, assignments: { memberId: string; assignment: Buffer }[], reply: (code: number, assignment: Buffer) => void): void {
    const member = this.members.get(memberId);
    if (member === undefined) return reply(ErrorCode.UNKNOWN_MEMBER_ID, EMPTY);
    if (generation !== this.generation) return reply(ErrorCode.ILLEGAL_GENERATION, EMPTY);
    if (this.state === 'PreparingRebalance') return reply(ErrorCode.REBALANCE_IN_PROGRESS, EMPTY);
    this.#startSessionTimer(member);
    if (this.state === 'Stable') return reply(0, member.assignment);
    member.sync = reply;
    if (memberId !== this.leader) return;
    for (const m of this.members.values()) m.assignment = EMPTY;
    for (const a of assignments) {
      const m = this.members.get(a.memberId);
      if (m !== undefined) m.assignment = a.assignment;
    }
    this.state = 'Stable';
    for (const m of this.members.values()) {
      const s = m.sync;
      m.sync = null;
      s?.(0, m.assignment);
    }
    this.#onChange();
  }

  heartbeat(generation: number, memberId: string): number {
    const member = this.members.get(memberId);
    if (member === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (member.join === null) this.#startSessionTimer(member);
    if (generation !== this.generation) return ErrorCode.ILLEGAL_GENERATION;
    if (this.state === 'PreparingRebalance') return ErrorCode.REBALANCE_IN_PROGRESS;
    return ErrorCode.NONE;
  }

  /** A member leaves (LeaveGroup, or its session timed out): the others rebalance. */
  leave(memberId: string): number {
    const member = this.members.get(memberId);
    if (member === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
    this.#stopSessionTimer(member);
    this.members.delete(memberId);
    member.join?.({ errorCode: ErrorCode.UNKNOWN_MEMBER_ID, generationId: -1, protocolName: '', leader: '', memberId, members: [] });
    member.sync?.(ErrorCode.UNKNOWN_MEMBER_ID, EMPTY);
    if (this.members.size === 0) {
      this.#clearRebalanceTimer();
      this.state = 'Empty';
      this.generation++;
      this.leader = '';
      this.protocol = '';
    } else if (this.state === 'PreparingRebalance') this.#maybeCompleteJoin();
    else this.#prepareRebalance(false);
    this.#onChange();
    return ErrorCode.NONE;
  }

  /** Whether a commit from this member at this generation is accepted (Kafka's validateOffsetCommit). */
  commitError(generation: number, memberId: string): number {
    if (generation < 0 && memberId === '') return this.members.size === 0 ? ErrorCode.NONE : ErrorCode.UNKNOWN_MEMBER_ID;
    if (!this.members.has(memberId)) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (generation !== this.generation) return ErrorCode.ILLEGAL_GENERATION;
    if (this.state === 'CompletingRebalance') return ErrorCode.REBALANCE_IN_PROGRESS;
    return ErrorCode.NONE;
  }

  stop(): void {
    this.#clearRebalanceTimer();
    for (const m of this.members.values()) this.#stopSessionTimer(m);
  }

  #allSupport(protocol: string, except: string): boolean {
    for (const m of this.members.values()) if (m.id !== except && !m.protocols.some((p) => p.name === protocol)) return false;
    return true;
  }

  #prepareRebalance(initial: boolean): void {
    this.state = 'PreparingRebalance';
    // members waiting in SyncGroup must rejoin
    for (const m of this.members.values()) {
      const s = m.sync;
      m.sync = null;
      s?.(ErrorCode.REBALANCE_IN_PROGRESS, EMPTY);
    }
    this.#clearRebalanceTimer();
    let timeout = initial ? this.#initialDelayMs : 0;
    if (!initial) for (const m of this.members.values()) timeout = Math.max(timeout, m.rebalanceTimeoutMs);
    this.#rebalanceTimer = setTimeout(() => {
      this.#rebalanceTimer = null;
      // those that did not rejoin in time are out
      for (const m of [...this.members.values()]) {
        if (m.join === null) {
          this.#stopSessionTimer(m);
          this.members.delete(m.id);
        }
      }
      this.#completeJoin();
    }, timeout);
    if (!initial) this.#maybeCompleteJoin();
  }

  #maybeCompleteJoin(): void {
    if (this.state !== 'PreparingRebalance') return;
    for (const m of this.members.values()) if (m.join === null) return;
    if (this.generation === 0 && this.#rebalanceTimer !== null && this.leader === '') return; // the first rebalance waits out its delay
    this.#completeJoin();
  }

  #completeJoin(): void {
    this.#clearRebalanceTimer();
    this.generation++;
    if (this.members.size === 0) {
      this.state = 'Empty';
      this.#onChange();
      return;
    }
    const members = [...this.members.values()];
    if (!this.members.has(this.leader)) this.leader = members[0]!.id;
    const leader = this.members.get(this.leader)!;
    this.protocol = leader.protocols.find((p) => this.#allSupport(p.name, ''))?.name ?? leader.protocols[0]?.name ?? '';
    this.state = 'CompletingRebalance';
    const list = members.map((m) => ({ memberId: m.id, groupInstanceId: null, metadata: m.protocols.find((p) => p.name === this.protocol)?.metadata ?? EMPTY }));
    for (const m of members) {
      const reply = m.join;
      m.join = null;
      this.#startSessionTimer(m);
      reply?.({
        errorCode: 0,
        generationId: this.generation,
        protocolName: this.protocol,
        leader: this.leader,
        memberId: m.id,
        members: m.id === this.leader ? list : [],
      });
    }
    this.#onChange();
  }

  #startSessionTimer(m: Member): void {
    this.#stopSessionTimer(m);
    m.timer = setTimeout(() => {
      m.timer = null;
      if (this.members.get(m.id) === m) this.leave(m.id);
    }, m.sessionTimeoutMs);
  }

  #stopSessionTimer(m: Member): void {
    if (m.timer !== null) clearTimeout(m.timer);
    m.timer = null;
  }

  #clearRebalanceTimer(): void {
    if (this.#rebalanceTimer !== null) clearTimeout(this.#rebalanceTimer);
    this.#rebalanceTimer = null;
  }
}
