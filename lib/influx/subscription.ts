/**
 * One InfluxDB 1.x subscription (data-formats.md §9.3): add-or-update (create; on "already
 * exists" drop and create again, which clobbers a stale one left by a crash), check that it
 * is still there with our destination, and drop it. Statement errors come back with HTTP
 * 200, so every result is checked.
 */
import { createSubscription, defaultRetentionPolicy, dropSubscription, showRetentionPolicies, SHOW_SUBSCRIPTIONS, subscriptionRows } from '../amp/source-query';
import { InfluxClient, InfluxError, statementError } from './client';

export interface SubscriptionSpec {
  name: string;
  database: string;
  /** '' = the database's default retention policy (looked up). */
  retentionPolicy: string;
}

export class SubscriptionManager {
  private rp: string | null;

  constructor(private readonly client: InfluxClient, private readonly spec: SubscriptionSpec) {
    this.rp = spec.retentionPolicy || null;
  }

  /** The retention policy the subscription is on (the default one when none was configured). */
  async retentionPolicy(signal?: AbortSignal): Promise<string> {
    if (this.rp) return this.rp;
    const results = await this.client.query(showRetentionPolicies(this.spec.database), { signal });
    const err = statementError(results);
    if (err) throw new InfluxError(`influxdb: cannot list the retention policies of ${JSON.stringify(this.spec.database)}: ${err}`, /not found/i.test(err) ? 'not-found' : 'bad-request', /not found/i.test(err) ? '404' : '400');
    const rp = defaultRetentionPolicy(results);
    if (!rp) throw new InfluxError(`influxdb: database ${JSON.stringify(this.spec.database)} has no default retention policy: set one on the node`, 'not-found', 'no-rp');
    this.rp = rp;
    return rp;
  }

  /** Create, or replace one of the same name; resolves once InfluxDB accepted it. */
  async addOrUpdate(destination: string, signal?: AbortSignal): Promise<void> {
    const rp = await this.retentionPolicy(signal);
    const { name, database } = this.spec;
    const create = createSubscription(name, database, rp, destination);
    let err = statementError(await this.client.query(create, { method: 'POST', signal }));
    if (err && /already exists/i.test(err)) {
      const dropErr = statementError(await this.client.query(dropSubscription(name, database, rp), { method: 'POST', signal }));
      if (dropErr && !/not found/i.test(dropErr)) throw this.fail('drop the stale subscription', dropErr);
      err = statementError(await this.client.query(create, { method: 'POST', signal }));
    }
    if (err) throw this.fail('create the subscription', err);
  }

  /** True when the subscription exists on our database and policy with exactly this destination. */
  async exists(destination: string, signal?: AbortSignal): Promise<boolean> {
    const rp = await this.retentionPolicy(signal);
    const results = await this.client.query(SHOW_SUBSCRIPTIONS, { signal });
    const err = statementError(results);
    if (err) throw this.fail('list subscriptions', err);
    return subscriptionRows(results).some((r) => r.database === this.spec.database && r.retentionPolicy === rp && r.name === this.spec.name
      && r.destinations.length === 1 && r.destinations[0] === destination);
  }

  /** Drop it; a subscription that is not there is fine. */
  async drop(signal?: AbortSignal): Promise<void> {
    const rp = await this.retentionPolicy(signal);
    const err = statementError(await this.client.query(dropSubscription(this.spec.name, this.spec.database, rp), { method: 'POST', signal }));
    if (err && !/not found/i.test(err)) throw this.fail('drop the subscription', err);
  }

  private fail(what: string, err: string): InfluxError {
    const kind = /not found/i.test(err) ? 'not-found' : /authori[sz]|permission|privilege/i.test(err) ? 'auth' : 'bad-request';
    return new InfluxError(`influxdb: cannot ${what} ${JSON.stringify(this.spec.name)} on ${JSON.stringify(this.spec.database)}: ${err}`, kind, kind === 'not-found' ? '404' : kind === 'auth' ? '403' : '400');
  }
}
