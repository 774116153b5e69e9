// The demo console: creates a webinar (primary + replicas) and opens presenter/audience views in new tabs.
import { WebinarApi, audienceCapabilities } from './api.js';

const $ = (id) => document.getElementById(id);
const fragment = new URLSearchParams(location.hash.slice(1));
$('apiKey').value = fragment.get('apiKey') ?? localStorage.getItem('webinar.apiKey') ?? '';
$('apiKey').addEventListener('change', () => localStorage.setItem('webinar.apiKey', $('apiKey').value.trim()));

const status = (text, error = false) => { $('status').textContent = text; $('status').classList.toggle('error', error); };
const api = () => new WebinarApi($('apiKey').value.trim());
let counter = 0;

$('create').addEventListener('click', async () => {
  const button = $('create');
  button.disabled = true;
  try {
    status('Creating the primary…');
    const name = $('name').value.trim() || 'webinar';
    const primary = await api().createMeeting($('primaryRegion').value.trim(), null, name);
    const replicas = [];
    for (const region of $('replicaRegions').value.split(/\s+/).filter(Boolean)) {
      status(`Creating the replica in ${region}…`);
      replicas.push(await api().createMeeting(region, primary.MeetingId, `${name} (${region})`));
    }
    render(primary, replicas);
    status(`Webinar ${primary.MeetingId} ready.`);
  } catch (e) {
    status(e.message, true);
  } finally {
    button.disabled = false;
  }
});

function render(primary, replicas) {
  const box = $('meetings');
  box.replaceChildren(row(primary, 'Primary', 'Open presenter view', true), ...replicas.map((r) => row(r, 'Replica', 'Open audience view', false, primary)));
  $('webinar').hidden = false;
}

function row(meeting, label, action, presenter, primary) {
  const div = document.createElement('div');
  div.className = 'meeting';
  div.innerHTML = `<b>${label}</b> <code>${meeting.MediaRegion}</code> <small>${meeting.MeetingId}</small> `;
  const button = document.createElement('button');
  button.textContent = action;
  button.addEventListener('click', async () => {
    try {
      const user = `${presenter ? 'presenter' : 'viewer'}-${++counter}`;
      // Presenters moderate: they may start and stop the recording.
      const attendee = await api().createAttendee(meeting.MeetingId, user, presenter ? undefined : audienceCapabilities, presenter ? 'Moderator' : undefined);
      const view = new URLSearchParams({
        token: attendee.JoinToken,
        signalingUrl: meeting.MediaPlacement.SignalingUrl,
        user,
        role: presenter ? 'presenter' : 'audience',
        ...(presenter ? { moderator: '1' } : {}),
        meetingId: meeting.MeetingId,
        attendeeId: attendee.AttendeeId,
        ...(primary ? { primaryMeetingId: primary.MeetingId } : {}),
        apiKey: $('apiKey').value.trim(),
      });
      window.open(`view.html#${view}`, '_blank');
    } catch (e) {
      status(e.message, true);
    }
  });
  div.append(button);
  return div;
}
