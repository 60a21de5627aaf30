import { describe, expect, it } from 'vitest';
import { parsePostgresUrl, postgresDriver } from '../../src/store/postgres/driver.js';

describe('PostgreSQL DATABASE_URL', () => {
  it('takes postgres:// and postgresql:// URLs only', () => {
    expect(postgresDriver.matches('postgres://db/bouncer')).toBe(true);
    expect(postgresDriver.matches('postgresql://db/bouncer')).toBe(true);
    expect(postgresDriver.matches('PostgreSQL://db/bouncer')).toBe(true);
    expect(postgresDriver.matches('sqlite:postgres.db')).toBe(false);
    expect(postgresDriver.matches('postgres.db')).toBe(false);
  });

  it('has defaults for every option of its own', () => {
    expect(parsePostgresUrl('postgres://bouncer:pw@db.internal:6432/moderation')).toEqual({
      kind: 'postgres',
      url: 'postgres://bouncer:pw@db.internal:6432/moderation',
      where: 'db.internal:6432/moderation',
      schema: 'public',
      poolMax: 10,
      statementTimeoutMs: 5000,
      connectTimeoutMs: 5000,
    });
  });

  it("reads schema, max, statement_timeout (ms) and connect_timeout (s), and leaves the rest to node-postgres", () => {
    const location = parsePostgresUrl(
      'postgresql://u:p@db/bouncer?sslmode=verify-full&schema=Bouncer_1&max=25&statement_timeout=2500&connect_timeout=3&application_name=bouncer-eu',
    );

    expect(location).toEqual({
      kind: 'postgres',
      url: 'postgresql://u:p@db/bouncer?sslmode=verify-full&application_name=bouncer-eu',
      where: 'db:5432/bouncer',
      schema: 'Bouncer_1',
      poolMax: 25,
      statementTimeoutMs: 2500,
      connectTimeoutMs: 3000,
    });
  });

  it.each([
    ['schema=public;drop', 'schema must be'],
    ['schema=1abc', 'schema must be'],
    [`schema=${'s'.repeat(64)}`, 'schema must be'],
    ['max=0', 'max must be an integer from 1 to 100'],
    ['max=101', 'max must be an integer from 1 to 100'],
    ['max=ten', 'max must be an integer from 1 to 100'],
    ['statement_timeout=99', 'statement_timeout must be an integer from 100 to 300000'],
    ['statement_timeout=1.5', 'statement_timeout must be an integer from 100 to 300000'],
    ['connect_timeout=0', 'connect_timeout must be an integer from 1 to 300'],
  ])('refuses %s', (query, message) => {
    expect(parsePostgresUrl(`postgres://u:s3cret@db/bouncer?${query}`)).toEqual({ problem: expect.stringContaining(message) });
  });

  it('lists every bad option at once', () => {
    const result = parsePostgresUrl('postgres://db/bouncer?max=0&connect_timeout=0');
    expect(result).toEqual({ problem: expect.stringMatching(/max must.*; connect_timeout must/) });
  });

  it('never quotes the URL (it may hold a password) in a problem', () => {
    for (const url of ['postgres://u:s3cret@db/bouncer?max=0', 'postgres://u:s3cret@[db/bouncer']) {
      const result = parsePostgresUrl(url);
      expect(result).toHaveProperty('problem');
      expect(JSON.stringify(result)).not.toContain('s3cret');
    }
  });

  it('names the server without user or password', () => {
    expect(parsePostgresUrl('postgres://admin:s3cret@[::1]:5433/db%20x')).toMatchObject({ where: '[::1]:5433/db x' });
    expect(parsePostgresUrl('postgres://db')).toMatchObject({ where: 'db:5432/(default database)' });
  });
});
