// policyc's live check on LTB Self Service Password's change form (templates/change.tpl, whose
// fields are #login and #newpassword): under the form, each policy's verdict and every rule
// the new password does not meet yet, with what to change, on every keystroke. The form cannot
// be sent with a password a policy refuses (the server still checks it: this is a guide, not
// the gate). See docs/browser.md.
//
// 1. Write the page's files into SSP's web root:
//      policyc page policies/ad-default.policy='Active Directory' \
//        policies/office365.policy='Microsoft 365' -o /usr/share/self-service-password/htdocs/policyc
//    and copy this file there.
// 2. In templates/change.tpl, after the </form>:
//      <div id="policyc-rules" aria-live="polite"></div>
//      <script type="module" src="policyc/ltb-ssp.js"></script>

import { load, check, explain } from './policyc.js';

const login = document.getElementById('login');
const password = document.getElementById('newpassword');
const panel = document.getElementById('policyc-rules');

function line(text, className) {
  const item = document.createElement('li');
  item.className = className;
  item.textContent = text;
  return item;
}

function show() {
  const user = login && login.value ? { sAMAccountName: login.value } : {};
  try {
    const verdict = check(password.value, user);
    const why = explain(password.value, user);
    const list = document.createElement('ul');
    const refused = [];
    verdict.policies.forEach((p, i) => {
      // Rules on breached-password stores are checked by the server, not here.
      const unavailable = new Set((p.unavailable ?? []).map((u) => u.rule));
      const failing = p.violations.filter((v) => v.severity === 'enforce' && !unavailable.has(v.rule));
      if (failing.length === 0) {
        list.append(line(`✓ ${p.title} will accept this password.`, 'policyc-met'));
        return;
      }
      refused.push(p.title);
      const rules = new Map(why.policies[i].rules.map((r) => [r.rule, r.explanation]));
      for (const v of failing) {
        const item = line(`✗ ${p.title}: ${v.message}`, 'policyc-not-met');
        item.dataset.rule = `${p.policy}.${v.rule}`;
        if (password.value !== '') item.append(document.createElement('br'), rules.get(v.rule) ?? '');
        list.append(item);
      }
    });
    panel.replaceChildren(list);
    panel.dataset.compliant = String(refused.length === 0);
    password.setCustomValidity(refused.length ? `Refused by ${refused.join(' and ')}.` : '');
  } catch (e) {
    // The page cannot check: say so, and leave the decision to the server.
    panel.textContent = `The password rules could not be checked here (${e.message}); your new password is still checked when you send it.`;
    panel.dataset.compliant = 'unknown';
    password.setCustomValidity('');
  }
}

try {
  const site = await (await fetch(new URL('site.json', import.meta.url))).json();
  for (const p of site.policies) {
    await load(new URL(p.artifact, import.meta.url), { title: p.title });
  }
  password.addEventListener('input', show);
  login?.addEventListener('input', show);
  show();
  panel.dataset.ready = 'true';
} catch (e) {
  panel.textContent = `The password rules could not be loaded here (${e.message}); your new password is still checked when you send it.`;
  panel.dataset.ready = 'error';
}
