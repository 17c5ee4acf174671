// The self-service page: every rule of every policy, met or not, on every keystroke, and one
// verdict. The password stays in this page: after loading, the page makes no request at all
// (a Content-Security-Policy of `default-src 'none'` is added once it is ready), and it stores
// nothing.

import { load, PolicycError } from './policyc.js';

const $ = (id) => document.getElementById(id);

/** Attribute inputs: LDAP name → element id. */
const FIELDS = {
  sAMAccountName: 'account',
  userPrincipalName: 'upn',
  displayName: 'display-name',
  givenName: 'given-name',
  sn: 'surname',
  mail: 'mail',
};

let strings = {};
let policies = [];
/** Attributes only the address gives (memberOf, the tenant): LDAP name → values. */
const fromAddress = {};

async function fetchJson(url) {
  const response = await fetch(url);
  if (!response.ok) {
    throw new PolicycError(`cannot fetch ${url}: HTTP ${response.status}`);
  }
  return response.json();
}

function say(key, values = {}) {
  // Before strings.json has loaded, the error's words come from the page (written from it).
  const text = strings[key] ?? (key === 'error' ? $('verdict').dataset.error : key);
  return text.replace(/\{(\w+)\}/g, (_, k) => values[k] ?? '');
}

function listed(titles) {
  if (titles.length < 2) return titles.join('');
  return `${titles.slice(0, -1).join(', ')}${say('and')}${titles[titles.length - 1]}`;
}

function setVerdict(state, text) {
  const verdict = $('verdict');
  verdict.dataset.verdict = state;
  verdict.textContent = text;
}

/** The user the policies read: the fields shown, and what only the address gives. */
function user() {
  const u = { ...fromAddress };
  for (const [attribute, id] of Object.entries(FIELDS)) {
    const input = $(id);
    if (!input.hidden && input.value !== '') u[attribute] = input.value;
  }
  return u;
}

/** Reads the address: `?sAMAccountName=jdoe&displayName=…&memberOf=…&tenant=…` (any case). */
function readAddress(site) {
  const names = Object.keys(FIELDS).concat(['memberOf', 'tenant']);
  for (const [key, value] of new URLSearchParams(location.search)) {
    const name = key === 'account' ? 'sAMAccountName' : names.find((n) => n.toLowerCase() === key.toLowerCase());
    if (!name) continue;
    if (FIELDS[name]) $(FIELDS[name]).value = value;
    else (fromAddress[name] ??= []).push(value);
  }
  if (!fromAddress.tenant && site.tenant) fromAddress.tenant = [site.tenant];
}

function render() {
  const list = $('policies');
  list.replaceChildren();
  for (const p of policies) {
    const section = document.createElement('section');
    section.className = 'policy';
    section.dataset.policy = p.name;
    const heading = document.createElement('h2');
    heading.textContent = p.title;
    const rules = document.createElement('ul');
    for (const r of p.info.rules) {
      const item = document.createElement('li');
      item.dataset.rule = `${p.name}.${r.rule}`;
      item.dataset.met = 'false';
      const mark = document.createElement('span');
      mark.className = 'mark';
      const message = document.createElement('span');
      message.className = 'message';
      message.textContent = r.message;
      const hint = document.createElement('span');
      hint.className = 'hint';
      item.append(mark, message, hint);
      rules.append(item);
    }
    section.append(heading, rules);
    list.append(section);
  }
}

/** Checks the password as it stands and shows every rule and the verdict. */
function update() {
  const password = $('password').value;
  const u = user();
  try {
    const accepted = [];
    const refused = [];
    /** Policies refused only by rules the browser cannot check (breached-password stores). */
    const unchecked = [];
    for (const p of policies) {
      const verdict = p.check(password, u);
      const explanation = p.explain(password, u);
      const failing = new Set(verdict.violations.map((v) => v.rule));
      const unavailable = new Set((verdict.unavailable ?? []).map((x) => x.rule));
      const why = new Map(explanation.rules.map((r) => [r.rule, r.explanation]));
      for (const item of document.querySelectorAll(`[data-policy="${p.name}"] li`)) {
        const rule = item.dataset.rule.slice(p.name.length + 1);
        const met = !failing.has(rule);
        item.dataset.met = String(met);
        item.dataset.unavailable = String(unavailable.has(rule));
        item.querySelector('.mark').textContent =
          say(unavailable.has(rule) ? 'unchecked_mark' : met ? 'met' : 'not_met');
        item.querySelector('.hint').textContent = unavailable.has(rule)
          ? say('unavailable')
          : met || password === '' ? '' : why.get(rule) ?? '';
      }
      const refusing = verdict.violations.filter(
        (v) => v.severity === 'enforce' && !unavailable.has(v.rule),
      );
      (verdict.compliant ? accepted : refusing.length ? refused : unchecked).push(p.title);
    }
    if (password === '') {
      setVerdict('refused', say('empty'));
    } else if (refused.length === 0 && unchecked.length > 0) {
      setVerdict('unchecked', say('unchecked', { unchecked: listed(unchecked) }));
    } else if (refused.length === 0) {
      setVerdict('accepted', say('accepted', { accepted: listed(accepted) }));
    } else if (accepted.length === 0) {
      setVerdict('refused', say('refused', { refused: listed(refused) }));
    } else {
      setVerdict('refused', say('refused_by_some', { accepted: listed(accepted), refused: listed(refused) }));
    }
  } catch (e) {
    setVerdict('error', say('error', { error: e.message }));
  }
}

/** No request after this: fetches, images, frames, everything is refused from now on. */
function closeNetwork() {
  const csp = document.createElement('meta');
  csp.httpEquiv = 'Content-Security-Policy';
  csp.content = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'";
  document.head.append(csp);
}

function showFields(site) {
  const wanted = new Set(policies.flatMap((p) => p.info.attributes));
  for (const [attribute, id] of Object.entries(FIELDS)) {
    const show = wanted.has(attribute);
    $(id).hidden = !show;
    $(id).labels.forEach((l) => (l.hidden = !show));
  }
  $('user').hidden = !Object.values(FIELDS).some((id) => !$(id).hidden);
  readAddress(site);
}

function reveal() {
  const input = $('password');
  const shown = input.type === 'password';
  input.type = shown ? 'text' : 'password';
  $('reveal').setAttribute('aria-pressed', String(shown));
  $('reveal').textContent = say(shown ? 'hide' : 'reveal');
}

async function main() {
  try {
    const [site, s] = await Promise.all([fetchJson('site.json'), fetchJson('strings.json')]);
    strings = s;
    document.documentElement.lang = strings.lang ?? document.documentElement.lang;
    for (const el of document.querySelectorAll('[data-text]')) el.textContent = say(el.dataset.text);
    policies = await Promise.all(site.policies.map((p) => load(p.artifact, { title: p.title })));
    render();
    showFields(site);
    closeNetwork();
    for (const input of document.querySelectorAll('input')) input.addEventListener('input', update);
    $('reveal').addEventListener('click', reveal);
    $('form').addEventListener('submit', (e) => e.preventDefault());
    $('password').disabled = false;
    update();
    document.body.dataset.ready = 'true';
    performance.mark('policyc-ready');
  } catch (e) {
    setVerdict('error', say('error', { error: e.message }));
    document.body.dataset.ready = 'error';
  }
}

main();
