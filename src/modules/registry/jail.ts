import type { ModuleContext } from '../../app/module.js';
import { padKey } from '../../app/state.js';
import type { Misbehaviour } from '../../codec/block.js';
import { LedgerError } from '../../util/errors.js';
import { applyChanges, checkValidatorStep, validatorStep, VALIDATOR_CHANGE } from './governance.js';
import { jails, validators, type Jail, type ValidatorEntry } from './state.js';

/**
 * Jailing: a validator whose equivocation a block commits loses its power, by the same step rule
 * as a governance change (power 0 two heights after the block, and only while the validators in
 * force keep at least 2/3 of their power). When the rule does not allow it yet (several validators
 * jailed at once, or the last one) the jail waits and is retried at the end of every block, so the
 * chain stays live and the set shrinks one safe step at a time. Operators reinstate a validator
 * with a governance set-validator, which ends its jail.
 */
export function jailEquivocators(ctx: ModuleContext, misbehaviour: readonly Misbehaviour[]): void {
  for (const m of misbehaviour) {
    const existing = jails.get(ctx.store, m.validator);
    if (existing) {
      jails.put(ctx.store, { ...existing, offences: existing.offences + 1 }, m.validator);
      continue;
    }
    if (!validatorStep(ctx).scheduled.has(m.validator)) continue; // already leaving the set
    const jail: Jail = { address: m.validator, offence: { height: m.height, round: m.round, vote: m.vote, committedAt: ctx.height }, offences: 1, status: 'pending' };
    ctx.emit('registry.jail', { validator: m.validator, height: String(m.height) });
    trySchedule(ctx, jail);
  }
}

/** End of block: pending jails get another chance under the step rule. */
export function retryPendingJails(ctx: ModuleContext): void {
  for (const jail of jails.list(ctx.store)) if (jail.status === 'pending') trySchedule(ctx, jail);
}

function trySchedule(ctx: ModuleContext, jail: Jail): void {
  const { base, scheduled } = validatorStep(ctx);
  const entry = scheduledEntry(ctx, jail.address);
  const { waiting: _waiting, ...settled } = jail;
  if (!entry || !scheduled.has(jail.address)) {
    // Governance removed it meanwhile: there is no power left to take away.
    jails.put(ctx.store, { ...settled, status: 'jailed' }, jail.address);
    return;
  }
  try {
    checkValidatorStep(base, applyChanges(scheduled, [{ address: jail.address, power: '0' }]));
  } catch (err) {
    if (!(err instanceof LedgerError)) throw err;
    jails.put(ctx.store, { ...jail, waiting: err.code }, jail.address);
    return;
  }
  const effectiveHeight = ctx.height + 2;
  ctx.store.set(`${VALIDATOR_CHANGE}${padKey(effectiveHeight)}/${jail.address}`, { ...entry, power: '0' } satisfies ValidatorEntry);
  jails.put(ctx.store, { ...settled, status: 'jailed', effectiveHeight }, jail.address);
}

/** The validator's entry as the set will know it (a scheduled change wins over the table). */
function scheduledEntry(ctx: ModuleContext, address: string): ValidatorEntry | undefined {
  const changes = ctx.store.scan<ValidatorEntry>(VALIDATOR_CHANGE).filter(([, v]) => v.address === address);
  return changes[changes.length - 1]?.[1] ?? validators.get(ctx.store, address);
}
