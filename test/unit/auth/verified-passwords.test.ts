import { describe, expect, it } from 'vitest';
import { hashPassword } from '../../../src/auth/passwords.js';
import { UserStore } from '../../../src/auth/users.js';

// UserStore.login accepts a password equal to the one that last verified against the user's
// current hash without a digest (a connect storm's devices share credentials); nothing else changes
describe('logins answered from passwords that verified lately', () => {
  it('a repeated login is accepted, a wrong password after it is still refused', () => {
    const users = new UserStore([]);
    users.add('device', 's3cret');
    expect(users.login('device', 's3cret', '10.0.0.1').ok).toBe(true);
    expect(users.login('device', 's3cret', '10.0.0.1').ok).toBe(true);
    for (const wrong of ['s3creT', 's3cre', 's3cret!', '', 'S3CRET']) expect(users.login('device', wrong, '10.0.0.1').ok).toBe(false);
    expect(users.login('device', 's3cret', '10.0.0.1').ok).toBe(true);
  });

  it('a changed password or a deleted user is not answered from the old one', () => {
    const users = new UserStore([]);
    users.add('device', 'old');
    expect(users.login('device', 'old', '10.0.0.1').ok).toBe(true);
    users.add('device', 'new');
    expect(users.login('device', 'old', '10.0.0.1').ok).toBe(false);
    expect(users.login('device', 'new', '10.0.0.1').ok).toBe(true);
    // the same password set again: a new salt, a new hash; still the right answer
    users.put({ name: 'device', passwordHash: hashPassword('new'), tags: [] });
    expect(users.login('device', 'new', '10.0.0.1').ok).toBe(true);
    users.put({ name: 'device', passwordHash: '', tags: [] }); // no password login
    expect(users.login('device', 'new', '10.0.0.1').ok).toBe(false);
    users.add('device', 'again');
    expect(users.login('device', 'again', '10.0.0.1').ok).toBe(true);
    users.delete('device');
    expect(users.login('device', 'again', '10.0.0.1').ok).toBe(false);
  });

  it('the loopback rule holds for a repeated login', () => {
    const users = new UserStore(['guest']);
    users.add('guest', 'guest');
    expect(users.login('guest', 'guest', '127.0.0.1').ok).toBe(true);
    const far = users.login('guest', 'guest', '10.0.0.1');
    expect(far.ok).toBe(false);
    expect(far.ok === false && far.loopbackOnly).toBe(true);
  });

  it('more users than are remembered: each still gets its own answer', () => {
    const users = new UserStore([]);
    for (let i = 0; i < 5000; i++) users.put({ name: `d${i}`, passwordHash: hashPassword(`p${i}`), tags: [] });
    for (let round = 0; round < 2; round++) for (let i = 0; i < 5000; i += 7) expect(users.login(`d${i}`, `p${i}`, '10.0.0.1').ok).toBe(true);
    for (let i = 0; i < 5000; i += 7) expect(users.login(`d${i}`, `p${i + 1}`, '10.0.0.1').ok).toBe(false);
  });
});
