// The operator page: GET /operations/overview every two seconds (docs/operations.md).
import { WebinarApi } from './api.js';

const $ = (id) => document.getElementById(id);
const fragment = new URLSearchParams(location.hash.slice(1));
$('apiKey').value = fragment.get('apiKey') ?? localStorage.getItem('webinar.apiKey') ?? '';
$('apiKey').addEventListener('change', () => localStorage.setItem('webinar.apiKey', $('apiKey').value.trim()));

function row(cells) {
  const tr = document.createElement('tr');
  for (const value of cells) {
    const td = document.createElement('td');
    td.textContent = value ?? '';
    tr.append(td);
  }
  return tr;
}

function render(overview) {
  $('nodes').tBodies[0].replaceChildren(...overview.Nodes.map((n) => {
    const tr = row([n.NodeId, n.Region, n.Healthy ? 'healthy' : 'silent', n.Connections, n.Load, `${n.SecondsSinceHeartbeat.toFixed(1)} s ago`]);
    tr.dataset.node = n.NodeId;
    tr.className = n.Healthy ? '' : 'unhealthy';
    return tr;
  }));
  $('meetings').tBodies[0].replaceChildren(...overview.Meetings.map((m) => {
    const tr = row([m.ExternalMeetingId ?? m.MeetingId, m.PrimaryMeetingId ? 'replica' : 'primary', m.MediaRegion, m.NodeId,
      m.Connections, m.Attendees, m.ArchiveStatus ?? '']);
    tr.dataset.meeting = m.MeetingId;
    return tr;
  }));
  const b = overview.Backlog;
  $('backlog').textContent = `outbox: ${b.OutboxUnsent} unsent, ${b.OutboxFailed} failed · webhooks: ${b.WebhooksPending} pending, ${b.WebhooksFailed} failed`;
}

async function refresh() {
  const key = $('apiKey').value.trim();
  if (!key) { $('status').textContent = 'Enter the API key.'; return; }
  try {
    render(await new WebinarApi(key).operationsOverview());
    $('status').textContent = `updated ${new Date().toLocaleTimeString()}`;
  } catch (e) {
    $('status').textContent = e.message;
  }
}

refresh();
setInterval(refresh, 2000);
