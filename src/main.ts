import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { AddressInfo } from 'node:net';
import type { Logger as PinoLogger } from 'pino';
import { BackgroundWork } from './background-work.js';
import { buildCommandRegistry } from './app/commands/registry.js';
import { CallStateEvents } from './app/moderation/call-events.js';
import { BanEnforcer } from './app/moderation/enforce-bans.js';
import { reportingCompletedCases } from './app/moderation/completed-cases.js';
import { ModLogFeed } from './app/moderation/modlog-feed.js';
import { LockdownEnforcer } from './app/moderation/enforce-lockdown.js';
import { Moderation } from './app/moderation/moderation.js';
import { RemovalNotices } from './app/moderation/removal-notices.js';
import { CALL_STATE_PRUNE_EVERY_MS, pruneCallStates } from './app/moderation/steps/call-state-retention.js';
import { reconcilePendingCases } from './app/moderation/steps/reconcile.js';
import type { CallAdmission } from './app/ports/call-admission.js';
import type { Clock } from './app/ports/runtime.js';
import type { Store } from './app/ports/store.js';
import { connectTeams, createTeamsChannel, teamsChatNotifier, teamsParticipantNotifier } from './channels/teams/teams-channel.js';
import { moderationCaseRoute } from './channels/webhook/case-route.js';
import type { ChatNotice } from './app/ports/chat-notifier.js';
import type { ActionRouteDeps } from './channels/webhook/action-route.js';
import { moderationKickRoute } from './channels/webhook/kick-route.js';
import { moderationPersonRoutes } from './channels/webhook/person-routes.js';
import { moderationLockdownRoute } from './channels/webhook/lockdown-route.js';
import { buildOpenApiDocument, openApiRoute } from './channels/webhook/openapi.js';
import type { Config } from './config/config.js';
import { loadConfig, readEnvFile } from './config/load-config.js';
import { createHttpServer } from './http/server.js';
import { createLogger } from './logger.js';
import { bindSyntaxes, labelsOf, setUpProviders, webhookCallSyntaxes } from './providers/index.js';
import { openStoreAt } from './store/open-store.js';

export interface StartOptions {
  logger?: PinoLogger;
  clock?: Clock;
  /** Used for Graph and the calls OpenID metadata. */
  fetch?: typeof fetch;
  /** How often pending cases are reconciled (default every minute); for tests. */
  reconcileEveryMs?: number;
}

export interface RunningBouncer {
  /** Base URL the server listens on, e.g. http://127.0.0.1:3978. */
  url: string;
  store: Store;
  /**
   * Stops accepting requests, waits for the ones in flight up to SHUTDOWN_GRACE_MS, cuts off the
   * rest (their cases stay pending, for reconciliation) and closes the store. Safe to call twice.
   */
  close(): Promise<void>;
}

/**
 * The composition root: config → store → providers (mapped over src/providers/index.ts) →
 * moderation → channels → HTTP server. Nothing else wires parts together.
 */
export async function startBouncer(config: Config, options: StartOptions = {}): Promise<RunningBouncer> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const clock = options.clock ?? { now: () => new Date() };
  const stored = await openStoreAt(config.database);
  const events = new CallStateEvents();
  // Commands that outlast their chat turn or their webhook's 202: a shutdown waits for them as for requests in flight.
  const background = new BackgroundWork();

  // The bans, asked by a backend before it lets a caller in; the enforcer is built once the
  // providers it removes people through are (before the server listens, so before any call is asked about).
  const built: { enforcer?: BanEnforcer; lockdowns?: LockdownEnforcer } = {};
  const admission: CallAdmission = {
    admits: async (call, caller) =>
      (built.enforcer ? await built.enforcer.admits(call, caller) : true) && (built.lockdowns ? await built.lockdowns.admits(call) : true),
  };

  // The Teams connection first: the moderation app sends private notices through it, and the
  // mod-log channels their posts.
  const teamsConnection = connectTeams(config.bot, { logger, upstreamTimeoutMs: config.upstreamTimeoutMs, background });
  const render = { labels: labelsOf, sandbox: config.sandbox };
  // Every case that reaches its outcome, whoever completes it, goes to the mod-log channels
  // (/modlog here) in the background: the store reports it as it is completed.
  const modlog = new ModLogFeed({
    store: stored,
    notifier: teamsChatNotifier(teamsConnection, { render, upstreamTimeoutMs: config.upstreamTimeoutMs, logger }),
    logger,
    intervalMs: config.modlogIntervalMs,
  });
  const store = reportingCompletedCases(stored, (c) => modlog.completed(c));
  const providers = setUpProviders(config.providers, {
    store,
    events,
    clock,
    logger,
    publicBaseUrl: config.server.publicBaseUrl,
    fetch: options.fetch,
    admission,
  });
  for (const { setup } of providers) {
    setup.warmUp?.().catch((err: unknown) => logger.warn({ err }, 'could not warm a provider up at start'));
  }

  const publicBaseUrl = config.server.publicBaseUrl;

  const moderation = new Moderation({
    store,
    providers: providers.map(({ module, setup }) => ({
      kind: module.kind,
      joinsMeetings: module.joinsMeetings,
      provider: setup.provider,
      missing: setup.missing,
    })),
    phones: providers.find(({ setup }) => setup.phones)?.setup.phones,
    events,
    clock,
    logger,
    adminUserIds: config.adminUserIds,
    moderatorRoles: config.moderatorRoles,
    callbackUrl: config.server.publicBaseUrl ? `${config.server.publicBaseUrl}/api/calls` : undefined,
    joinTimeoutMs: config.joinTimeoutMs,
    commandDeadlineMs: config.commandDeadlineMs,
    publicBaseUrl,
    notifyRemoved: config.notifyRemoved,
    notices: teamsParticipantNotifier(teamsConnection, { publicBaseUrl, upstreamTimeoutMs: config.upstreamTimeoutMs, logger }),
  });
  const commands = buildCommandRegistry({ bindSyntaxes: bindSyntaxes() });

  // Removals cut off by a crash or a shutdown (of this instance or another on the same database):
  // at start and every minute, the cases pending for longer than any request can run.
  const reconcile = (openedBefore: Date) => {
    reconcilePendingCases(moderation.deps, openedBefore.toISOString()).catch((err: unknown) =>
      logger.warn({ err }, 'could not reconcile pending cases'),
    );
  };
  // Only cases older than any request can still be running: another instance on the same database
  // may be working on a younger one. Every upstream call and wait of a command fits in its deadline.
  const reconcileAfterMs = config.commandDeadlineMs + RECONCILE_MARGIN_MS;
  // On the same round, at most hourly: the states of ended or long-idle calls are forgotten
  // (call-state-retention.ts), so that call_states does not grow for as long as Bouncer runs.
  let prunedAt: number | undefined;
  let pruning: Promise<void> | undefined;
  const pruneStates = () => {
    const at = clock.now().getTime();
    if (pruning || (prunedAt !== undefined && at - prunedAt < CALL_STATE_PRUNE_EVERY_MS)) return;
    pruning = pruneCallStates(moderation.deps)
      .then(() => void (prunedAt = at))
      .catch((err: unknown) => logger.warn({ err }, 'could not prune call states'))
      .finally(() => void (pruning = undefined));
  };
  const upkeep = () => {
    reconcile(new Date(clock.now().getTime() - reconcileAfterMs));
    pruneStates();
  };
  upkeep();
  const reconciler = setInterval(upkeep, options.reconcileEveryMs ?? RECONCILE_EVERY_MS);
  reconciler.unref();

  const teams = createTeamsChannel({
    connection: teamsConnection,
    moderation,
    commands,
    render,
    logger,
    replyWaitMs: config.chatReplyWaitMs,
    upstreamTimeoutMs: config.upstreamTimeoutMs,
    background,
    joinOnMeetingStart: config.joinOnMeetingStart,
  });

  // Banned people who join (or wait in the lobby) are removed as the backends report them.
  const bans = new BanEnforcer({
    store,
    providers: moderation.deps.providers,
    clock,
    logger,
    notifyRemoved: moderation.deps.notifyRemoved,
    publicBaseUrl: moderation.deps.publicBaseUrl,
    notices: moderation.deps.notices,
    notifier: teams.notifier,
    noticeIntervalMs: config.banNoticeIntervalMs,
  });
  bans.start(events);
  built.enforcer = bans;
  // Locked-down calls kept shut where the backend has no lobby (Twilio), and raid mode's watch (RAID_MODE_JOINS).
  const lockdowns = new LockdownEnforcer({ moderation, notifier: teams.notifier, raidMode: config.raidMode });
  lockdowns.start(events);
  built.lockdowns = lockdowns;

  const removalNotices = new RemovalNotices({ bindings: store.bindings, notifier: teams.notifier, windowMs: config.webhookNoticeWindowMs, logger });
  const calls = webhookCallSyntaxes();
  const webhookDeps: ActionRouteDeps = {
    moderation,
    commands,
    idempotency: store.idempotency,
    calls,
    secrets: config.webhookSecrets,
    clock,
    logger,
    syncWaitMs: config.webhookSyncWaitMs,
    // Changes answered 202 finish in the background: a shutdown waits for them.
    background,
    labels: labelsOf,
  };
  /** Tells the chat bound to a call (or named by the request) about a system's change, without holding up the API's answer. */
  const tellChat = (notice: ChatNotice, where: { callId?: string; conversationId?: string }) => {
    void (async () => {
      const binding = where.conversationId
        ? await store.bindings.get(where.conversationId)
        : where.callId
          ? await store.bindings.findByCallId(where.callId)
          : undefined;
      if (!binding?.conversationId || !binding.replyAddress) return;
      await teams.notifier.notify({ conversationId: binding.conversationId, replyAddress: binding.replyAddress, tenantId: binding.tenantId }, notice);
    })().catch((err: unknown) => logger.warn({ err }, 'could not notify the bound chat'));
  };
  const kickRoute = moderationKickRoute({
    ...webhookDeps,
    // Tell the chat bound to the call, if any, without holding up the API's answer; a burst of
    // kicks in one call is told in a few messages that name each of them.
    onRemoved: (outcome, body) => removalNotices.removed({ outcome, system: body.actor ?? 'webhook', reason: body.reason }),
  });
  const personRoutes = moderationPersonRoutes({
    ...webhookDeps,
    onChanged: (outcome, body) =>
      tellChat(
        { kind: 'system_action', outcome, system: body.actor ?? 'webhook', reason: body.reason },
        { conversationId: body.call.kind === 'conversation' ? body.call.conversationId : undefined, callId: 'callId' in outcome ? outcome.callId : undefined },
      ),
  });

  const configuredProviders = Object.fromEntries(providers.map(({ module, setup }) => [module.healthKey, !!setup.provider]));
  const server = createHttpServer({
    routes: [
      ...teams.routes,
      ...providers.flatMap(({ setup }) => setup.routes),
      kickRoute,
      ...personRoutes,
      moderationLockdownRoute({ moderation, commands, idempotency: store.idempotency, calls, secrets: config.webhookSecrets, clock, logger, background }),
      moderationCaseRoute({ cases: store.cases, calls, secrets: config.webhookSecrets, clock, logger }),
      openApiRoute(buildOpenApiDocument(packageVersion(), calls)),
    ],
    ping: () => store.ping(),
    durable: () => store.durable(),
    logger,
    configured: {
      botAuthentication: !config.bot.localMode,
      ...configuredProviders,
      webhooks: config.webhookSecrets.length > 0,
      publicBaseUrl: !!config.server.publicBaseUrl,
      sandbox: config.sandbox,
    },
    version: packageVersion(),
    counters: () => ({ modlog: { ...modlog.counts } }),
  });

  /** Stops the background work and closes the store: after the server closed, or when it never listened. */
  const stopWork = async (): Promise<void> => {
    clearInterval(reconciler);
    lockdowns.stop();
    await bans.stop();
    await modlog.stop();
    // The webhook kicks not told yet are told now, while the store is open.
    await removalNotices.flush();
    await pruning;
    await store.close();
  };

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.server.port, config.server.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    // Not listening (the port taken, say): nothing of this instance may go on running.
    await background.idle();
    await stopWork().catch((cleanup: unknown) => logger.error({ err: cleanup }, 'could not stop cleanly after failing to listen'));
    throw err;
  }
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host === '0.0.0.0' || host === '[::]' ? 'localhost' : host}:${address.port}`;
  logger.info({ url, ...configuredProviders, localMode: config.bot.localMode }, 'Bouncer is listening');

  let closing: Promise<void> | undefined;
  const close = async (): Promise<void> => {
    clearInterval(reconciler);
    const drained = Promise.all([new Promise<void>((resolve) => server.close(() => resolve())), background.idle()]);
    // Keep-alive connections with no request in flight would otherwise hold the close open.
    server.server.closeIdleConnections();
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), config.shutdownGraceMs);
    });
    const how = await Promise.race([drained.then(() => 'drained' as const), graceOver]);
    clearTimeout(timer);
    if (how === 'timeout') {
      logger.warn({ graceMs: config.shutdownGraceMs, background: background.size }, 'requests still in flight after the shutdown grace; cutting them off');
      server.server.closeAllConnections();
    }
    await stopWork();
  };
  return {
    url,
    store,
    close() {
      closing ??= close();
      return closing;
    },
  };
}

/** Beyond the command deadline, before a pending case is taken for one whose request cannot still be running. */
const RECONCILE_MARGIN_MS = 30_000;
const RECONCILE_EVERY_MS = 60_000;

function packageVersion(): string {
  try {
    const file = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'package.json');
    return (JSON.parse(readFileSync(file, 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** `npm start`: read .env and the environment, validate, start, stop cleanly on signals. */
async function cli(): Promise<void> {
  const env = { ...readEnvFile(path.resolve('.env')), ...process.env };
  const result = loadConfig(env);
  if (!result.ok) {
    console.error('Bouncer cannot start; fix the configuration (see .env.example):');
    for (const problem of result.problems) console.error(`  - ${problem}`);
    process.exit(1);
  }
  const logger = createLogger(result.config.logLevel);
  for (const notice of result.notices) logger.warn(notice);
  const running = await startBouncer(result.config, { logger });
  const stop = (signal: string) => {
    logger.info({ signal, graceMs: result.config.shutdownGraceMs }, 'shutting down');
    // A backstop: whatever hangs in closing, the process exits shortly after the grace.
    setTimeout(() => {
      logger.error('shutdown did not finish in time; exiting');
      process.exit(1);
    }, result.config.shutdownGraceMs + 5_000).unref();
    running.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  cli().catch((err: unknown) => {
    console.error('Bouncer failed to start:', err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
