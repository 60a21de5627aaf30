import type { Outcome } from '../domain/outcome.js';
import { NO_CHAT, type ChatDirectory } from '../ports/chat-directory.js';
import { ban, listBans, unban } from './actions/ban.js';
import { bind } from './actions/bind.js';
import { kick } from './actions/kick.js';
import { casesAgainst, editReason, showCase } from './actions/cases.js';
import { modlog, setModLogChannel } from './actions/modlog.js';
import { lockdown } from './actions/lockdown.js';
import { moderators, nameModerator } from './actions/moderators.js';
import { mute } from './actions/mute.js';
import { prejoin, type PrejoinResult } from './actions/prejoin.js';
import { roster } from './actions/roster.js';
import { status } from './actions/status.js';
import { unbind } from './actions/unbind.js';
import { warn } from './actions/warn.js';
import type { ModerationDeps } from './deps.js';
import type { ModerationRequest, ReadResult, ReadView, RequestBase } from './requests.js';
import { RequestScope } from './steps/lookups.js';
import { findNotice } from './steps/notify-participant.js';
import type { NoticeContent } from '../domain/notice.js';

type ActionTable = { [A in ModerationRequest['action']]: (req: Extract<ModerationRequest, { action: A }>, scope: RequestScope) => Promise<Outcome> };

/** One use case per action; adding an action is one file in actions/ plus its line here. */
const ACTIONS: ActionTable = {
  kick,
  mute,
  unmute: mute,
  warn,
  bind,
  unbind,
  moderator_add: nameModerator,
  moderator_remove: nameModerator,
  ban,
  unban,
  edit_reason: editReason,
  modlog_on: setModLogChannel,
  modlog_off: setModLogChannel,
  lockdown,
  unlock: lockdown,
};

/**
 * The moderation app, whatever the transport: changes (`execute`, audited) and read-only views
 * (`read`). Commands, card buttons and webhooks reach it through the command runner, which checks
 * each command's permission first (src/app/commands/run-command.ts).
 */
export class Moderation {
  constructor(readonly deps: ModerationDeps) {}

  /** The lookups of one request, shared by the permission check and the action. */
  scope(request: RequestBase, directory: ChatDirectory): RequestScope {
    return new RequestScope(this.deps, request, directory);
  }

  /** Runs a change; `scope` must be this request's (see `scope`). */
  execute(request: ModerationRequest, scope: RequestScope = this.scope(request, NO_CHAT)): Promise<Outcome> {
    const action = ACTIONS[request.action] as (req: ModerationRequest, scope: RequestScope) => Promise<Outcome>;
    return action(request, scope);
  }

  /** The chat's meeting has started: joins its call ahead of the first kick (see actions/prejoin.ts). */
  prejoin(scope: RequestScope): Promise<PrejoinResult> {
    return prejoin(scope);
  }

  /**
   * The private notice of an audit case (a warning, or a removal's notice), for the backend or
   * page that shows it to its person; undefined unless `token` is the one the case keeps.
   */
  notice(caseId: number, token: string): Promise<NoticeContent | undefined> {
    return findNotice(this.deps.store, caseId, token);
  }

  /** Read-only views: the chat's status, its call's roster, its recent cases, its moderators, its bans; a case; a person's cases. */
  read(view: ReadView, scope: RequestScope): Promise<ReadResult> {
    switch (view.kind) {
      case 'status':
        return status(scope);
      case 'roster':
        return roster(scope);
      case 'modlog':
        return modlog(scope, view.limit);
      case 'moderators':
        return moderators(scope);
      case 'bans':
        return listBans(scope);
      case 'case':
        return showCase(scope, view.caseId);
      case 'cases_against':
        return casesAgainst(scope, view);
    }
  }
}

