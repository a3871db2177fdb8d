/**
 * Rights one module grants other modules' code through its keeper (payments' FundsOwner, energy's
 * EnergyOwner): a token each module mints once, at the top level of its own code, and keeps private.
 * Only tokens minted here are accepted, and a name is minted once, so no other code can act for a
 * module; what a token owns is named "<module>/<ref>".
 */

export interface ModuleOwner {
  readonly module: string;
}

/** A reference within an owner: 1–4 segments of A–Z a–z 0–9 . _ : - separated by "/". */
export const MODULE_REF = /^[A-Za-z0-9._:-]{1,64}(\/[A-Za-z0-9._:-]{1,64}){0,3}$/;

export class OwnerTokens {
  private readonly claimed = new Set<string>();
  private readonly genuine = new WeakSet<ModuleOwner>();

  /**
   * `granter`: the module whose keeper accepts the tokens (it cannot own its own); `noun`: the token
   * in messages ("funds owner"); `minted`: what a genuine token is, for the error about a forged one.
   */
  constructor(private readonly names: { granter: string; noun: string; minted: string }) {}

  /** Mints the token of `module`; a second claim of the same name throws. */
  claim(module: string): ModuleOwner {
    const { granter, noun } = this.names;
    if (!/^[a-z][a-z0-9-]{0,31}$/.test(module) || module === granter) throw new Error(`invalid ${noun} name ${JSON.stringify(module)}`);
    if (this.claimed.has(module)) throw new Error(`the ${noun} ${module} was already claimed`);
    this.claimed.add(module);
    const owner: ModuleOwner = Object.freeze({ module });
    this.genuine.add(owner);
    return owner;
  }

  /** "<module>/<ref>" for a genuine token and a well-formed ref (anything else is the caller's bug). */
  ownedId(owner: ModuleOwner, ref: string): string {
    if (!this.genuine.has(owner)) throw new Error(`not ${this.names.minted}`);
    if (!MODULE_REF.test(ref)) throw new Error(`invalid reference ${JSON.stringify(ref)} for ${owner.module}`);
    return `${owner.module}/${ref}`;
  }
}
