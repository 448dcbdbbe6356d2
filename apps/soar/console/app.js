// Vigil SOAR console: plain JavaScript, no framework. Everything shown comes from alerts, which an
// attacker can influence, so text is only ever set with textContent (never innerHTML).
'use strict';
(function () {
  const KEY = 'vigil-soar-token';
  const $ = (id) => document.getElementById(id);
  let timer = null;
  let busy = false;

  const token = () => sessionStorage.getItem(KEY);
  const say = (text) => {
    $('status').textContent = text;
  };

  async function api(path, init) {
    const res = await fetch(path, {
      ...init,
      headers: { Authorization: 'Bearer ' + token(), 'Content-Type': 'application/json', Accept: 'application/json' },
      cache: 'no-store',
      credentials: 'omit',
      referrerPolicy: 'no-referrer',
    });
    if (res.status === 401) {
      logout('Your token was refused. Log in again.');
      throw new Error('unauthorised');
    }
    const body = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(body.message || 'HTTP ' + res.status);
    return body;
  }

  function cell(tr, text, cls) {
    const td = document.createElement('td');
    td.textContent = text === undefined || text === null ? '' : String(text);
    if (cls) td.className = cls;
    tr.appendChild(td);
    return td;
  }

  function when(iso) {
    if (!iso) return '';
    const d = typeof iso === 'number' ? new Date(iso) : new Date(iso);
    return d.toLocaleString();
  }

  function fill(id, rows, render) {
    const tbody = $(id).querySelector('tbody');
    tbody.replaceChildren();
    for (const r of rows) {
      const tr = document.createElement('tr');
      render(tr, r);
      tbody.appendChild(tr);
    }
  }

  function groupText(g) {
    return Object.entries(g || {})
      .map(([k, v]) => k + '=' + v)
      .join(', ');
  }

  function approvalRow(tr, run) {
    const step = run.steps[run.cursor];
    tr.dataset.runId = run.run_id;
    cell(tr, run.playbook_id);
    cell(tr, run.alert.rule_name);
    cell(tr, step.action);
    cell(tr, step.target || step.message || '');
    cell(tr, step.reversible ? 'analyst' : 'admin');
    cell(tr, when(run.approval && run.approval.expires_at));
    const td = cell(tr, '');
    const box = document.createElement('div');
    box.className = 'decision';
    const label = step.action + ' ' + (step.target || '');
    const approve = document.createElement('button');
    approve.type = 'button';
    approve.className = 'approve';
    approve.textContent = 'Approve';
    approve.setAttribute('aria-label', 'Approve ' + label);
    approve.addEventListener('click', () => decideRun(run.run_id, step.index, 'approve', {}));
    const reject = document.createElement('button');
    reject.type = 'button';
    reject.className = 'reject';
    reject.textContent = 'Reject';
    reject.setAttribute('aria-label', 'Reject ' + label);
    reject.addEventListener('click', () => showRejectForm(td, run, step, label));
    box.append(approve, reject);
    td.appendChild(box);
  }

  function showRejectForm(td, run, step, label) {
    if (td.querySelector('form')) return;
    stopPolling();
    const form = document.createElement('form');
    form.className = 'reject-form';
    const id = 'reason-' + run.run_id;
    const lab = document.createElement('label');
    lab.htmlFor = id;
    lab.textContent = 'Reason for rejecting ' + label;
    const input = document.createElement('input');
    input.id = id;
    input.required = true;
    input.maxLength = 1000;
    const submit = document.createElement('button');
    submit.type = 'submit';
    submit.textContent = 'Confirm reject';
    const cancel = document.createElement('button');
    cancel.type = 'button';
    cancel.textContent = 'Cancel';
    cancel.addEventListener('click', () => {
      form.remove();
      startPolling();
    });
    form.append(lab, input, submit, cancel);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      decideRun(run.run_id, step.index, 'reject', { reason: input.value });
    });
    td.appendChild(form);
    input.focus();
  }

  async function decideRun(runId, stepIndex, verb, extra) {
    try {
      await api('/api/v1/approvals/' + encodeURIComponent(runId) + '/' + verb, {
        method: 'POST',
        body: JSON.stringify({ step_index: stepIndex, ...extra }),
      });
      say(verb === 'approve' ? 'Approved. The step runs now.' : 'Rejected. The run is stopped.');
    } catch (err) {
      say('Could not ' + verb + ': ' + err.message);
    }
    startPolling();
  }

  async function refresh() {
    if (busy || !token()) return;
    busy = true;
    try {
      const [ap, ac, un, al, ru] = await Promise.all([
        api('/api/v1/approvals'),
        api('/api/v1/actions?limit=50'),
        api('/api/v1/undos?limit=50'),
        api('/api/v1/alerts?limit=50'),
        api('/api/v1/runs?limit=50'),
      ]);
      $('approvals-empty').hidden = ap.approvals.length > 0;
      fill('approvals', ap.approvals, approvalRow);
      fill('actions', ac.actions, (tr, a) => {
        cell(tr, when(a.at));
        cell(tr, a.action + (a.dry_run ? ' (dry run)' : ''));
        cell(tr, a.target);
        cell(tr, a.connector);
        cell(tr, a.status, 'status-' + a.status);
        cell(tr, a.approved_by);
        cell(tr, a.detail);
      });
      fill('undos', un.scheduled, (tr, u) => {
        cell(tr, when(u.due_at));
        cell(tr, u.action);
        cell(tr, u.target);
        cell(tr, u.connector);
        cell(tr, u.playbook_id);
      });
      fill('alerts', al.alerts, (tr, a) => {
        cell(tr, when(a.received_at));
        cell(tr, a.severity);
        cell(tr, a.rule_name + ' (' + a.rule_id + ')');
        cell(tr, groupText(a.group));
        cell(tr, (a.playbooks || []).join(', '));
      });
      fill('runs', ru.runs, (tr, r) => {
        cell(tr, when(r.updated_at));
        cell(tr, r.playbook_id + (r.dry_run ? ' (dry run)' : ''));
        cell(tr, r.alert.rule_name);
        cell(tr, r.status, 'status-' + r.status);
        cell(tr, r.steps.map((s) => s.action + ':' + s.status).join(', '));
      });
    } catch (err) {
      if (err.message !== 'unauthorised') say('Refresh failed: ' + err.message);
    } finally {
      busy = false;
    }
  }

  function startPolling() {
    stopPolling();
    void refresh();
    timer = setInterval(refresh, 3000);
  }
  function stopPolling() {
    if (timer) clearInterval(timer);
    timer = null;
  }

  async function showApp() {
    const me = await api('/api/v1/whoami');
    $('who').textContent = 'Signed in as ' + me.name + ' (' + me.role + ')';
    $('who').hidden = false;
    $('logout').hidden = false;
    $('login-section').hidden = true;
    $('app').hidden = false;
    startPolling();
  }

  function logout(message) {
    sessionStorage.removeItem(KEY);
    stopPolling();
    $('app').hidden = true;
    $('who').hidden = true;
    $('logout').hidden = true;
    $('login-section').hidden = false;
    say(message || 'Logged out.');
    $('token').focus();
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('login-form').addEventListener('submit', async (e) => {
      e.preventDefault();
      const value = $('token').value.trim();
      $('token').value = '';
      sessionStorage.setItem(KEY, value);
      try {
        await showApp();
        say('');
      } catch (err) {
        if (err.message !== 'unauthorised') logout('Could not log in: ' + err.message);
      }
    });
    $('logout').addEventListener('click', () => logout());
    if (token()) showApp().catch(() => undefined);
  });
})();
