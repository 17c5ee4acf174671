// policyc in the browser: load compiled policies, check and explain passwords, all in this
// page. Nothing here sends a password anywhere, stores it, or logs it.
//
//   import { load, check } from './policyc.js';
//   await load('policies/office365.policyc', { title: 'Microsoft 365' });
//   const result = check(password, { sAMAccountName: 'jdoe' });
//   result.compliant;                        // true when every loaded policy accepts it
//   result.policies[0].violations;           // [{ rule, message, severity }], as `policyc check`
//
// The verdicts and explanations are the JSON `policyc check --format json` and `policyc explain
// --format json` write, from the same artifacts the domain controllers enforce.

import init, { Policy as Compiled, version as moduleVersion } from './policyc_wasm.js';

/** An error from policyc: a policy that does not load, bad input, or a validator that stopped. */
export class PolicycError extends Error {
  constructor(message, options) {
    super(message, options);
    this.name = 'PolicycError';
  }
}

let started = null;
let stopped = null;
const loaded = [];

/**
 * Starts the WebAssembly module (`policyc_wasm_bg.wasm` next to this file, or `moduleUrl`).
 * `load` calls it; call it yourself to start the download early.
 */
export function start(moduleUrl) {
  started ??= init({
    module_or_path: moduleUrl ?? new URL('policyc_wasm_bg.wasm', import.meta.url),
  }).catch((e) => {
    started = null;
    throw new PolicycError(`the policyc module did not start: ${e.message}`, { cause: e });
  });
  return started;
}

/** Runs a call into the module; a trap stops the module for good, and every later call says so. */
function call(f) {
  if (stopped) {
    throw new PolicycError(`the validator stopped (${stopped.message}); reload the page`);
  }
  try {
    return f();
  } catch (e) {
    if (e instanceof WebAssembly.RuntimeError) {
      stopped = e;
      throw new PolicycError(`the validator stopped (${e.message}); reload the page`, { cause: e });
    }
    throw new PolicycError(e.message ?? String(e), { cause: e });
  }
}

/** One loaded policy. */
export class Policy {
  #compiled;

  constructor(compiled, title) {
    this.#compiled = compiled;
    /** `{ policy, description, digest, attributes, tenant, stores, rules: [{ rule, severity, message }] }` */
    this.info = JSON.parse(call(() => compiled.info()));
    /** How the page names it ("Microsoft 365"); the policy's name unless told. */
    this.title = title ?? this.info.policy;
  }

  /** The policy's name, as its rule ids are prefixed: `office365`. */
  get name() {
    return this.info.policy;
  }

  /** `{ compliant, violations: [{ rule, message, severity }], unavailable? }` */
  check(password, user = {}) {
    return JSON.parse(call(() => this.#compiled.check(String(password), JSON.stringify(user))));
  }

  /** `{ policy, compliant, rules: [{ rule, severity, outcome, message, explanation }] }` */
  explain(password, user = {}) {
    return JSON.parse(call(() => this.#compiled.explain(String(password), JSON.stringify(user))));
  }
}

/**
 * Loads a compiled policy (`policyc compile` wrote it) from `artifactUrl`; `check` and
 * `explain` then use it with the others loaded. Throws a PolicycError when it cannot.
 */
export async function load(artifactUrl, { title } = {}) {
  await start();
  let response;
  try {
    response = await fetch(artifactUrl);
  } catch (e) {
    throw new PolicycError(`cannot fetch the policy ${artifactUrl}: ${e.message}`, { cause: e });
  }
  if (!response.ok) {
    throw new PolicycError(`cannot fetch the policy ${artifactUrl}: HTTP ${response.status}`);
  }
  const bytes = new Uint8Array(await response.arrayBuffer());
  const policy = call(() => new Policy(new Compiled(bytes), title));
  loaded.push(policy);
  return policy;
}

/** The loaded policies, in the order loaded. */
export function policies() {
  return [...loaded];
}

function each(what, password, user) {
  if (loaded.length === 0) {
    throw new PolicycError('no policy is loaded: call load(artifactUrl) first');
  }
  const results = loaded.map((p) => ({ policy: p.name, title: p.title, ...p[what](password, user) }));
  return { compliant: results.every((r) => r.compliant), policies: results };
}

/** Checks against every loaded policy: `{ compliant, policies: [{ policy, title, compliant, violations }] }`. */
export function check(password, user = {}) {
  return each('check', password, user);
}

/** Explains against every loaded policy: `{ compliant, policies: [{ policy, title, compliant, rules }] }`. */
export function explain(password, user = {}) {
  return each('explain', password, user);
}

/** The module's version and the artifact formats it reads. */
export async function version() {
  await start();
  return moduleVersion();
}
