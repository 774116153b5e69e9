// A presenter or audience view: joins with the token in the URL fragment and shows tiles and presence.
import { WebinarClient } from './webinar.js';
import { WebinarApi } from './api.js';

const $ = (id) => document.getElementById(id);
const p = new URLSearchParams(location.hash.slice(1));
const role = p.get('role') ?? 'audience';
// Pre-negotiated slots: a promoted audience member starts speaking, and new speakers appear, without a renegotiation.
const client = new WebinarClient({ preNegotiate: true });
window.webinar = client; // for debugging and end-to-end tests
let local = null;

$('title').textContent = `${p.get('user') ?? 'attendee'} — ${role}`;
const state = (text, error = false) => { $('state').textContent = text; $('state').classList.toggle('error', error); };

function tile(id, label) {
  let t = document.getElementById(`tile-${id}`);
  if (!t) {
    t = document.createElement('figure');
    t.id = `tile-${id}`;
    t.className = 'tile';
    t.innerHTML = '<video autoplay playsinline></video><figcaption></figcaption>';
    $('tiles').append(t);
  }
  t.querySelector('figcaption').textContent = label;
  return t;
}

function renderPresence() {
  $('presence').replaceChildren(...[...client.attendees.values()].map((a) => {
    const li = document.createElement('li');
    li.textContent = a.externalUserId;
    li.dataset.attendeeId = a.attendeeId;
    return li;
  }));
}

client.addEventListener('joined', (e) => { state(`joined ${e.detail.role} meeting`); renderPresence(); });
client.addEventListener('attendee-joined', renderPresence);
client.addEventListener('attendee-left', (e) => { renderPresence(); document.getElementById(`tile-${e.detail.attendeeId}`)?.remove(); });
client.addEventListener('track', (e) => {
  const t = tile(e.detail.attendee.attendeeId, e.detail.attendee.externalUserId);
  const video = t.querySelector('video');
  if (video.srcObject !== e.detail.stream) video.srcObject = e.detail.stream;
});
client.addEventListener('stream-removed', (e) => {
  const t = document.getElementById(`tile-${e.detail.attendeeId}`);
  const video = t?.querySelector('video');
  if (video && (!video.srcObject || video.srcObject.getTracks().length === 0)) t.remove();
});
// Audio fallback: the node paused this stream's video for our bandwidth; say so on the publisher's tile.
const pausedNotice = (streamId, paused) => {
  const owner = [...document.querySelectorAll('.tile')].find((t) => t.dataset.streams?.split(' ').includes(streamId));
  const caption = owner?.querySelector('figcaption');
  if (caption) caption.dataset.notice = paused ? 'video paused: low bandwidth (audio continues)' : '';
  owner?.classList.toggle('video-paused', paused);
};
client.addEventListener('stream-added', (e) => {
  if (e.detail.kind !== 'video') return;
  const t = tile(e.detail.attendeeId, e.detail.externalUserId);
  t.dataset.streams = [...new Set([...(t.dataset.streams ?? '').split(' ').filter(Boolean), e.detail.streamId])].join(' ');
});
client.addEventListener('video-paused', (e) => pausedNotice(e.detail.streamId, true));
client.addEventListener('video-resumed', (e) => pausedNotice(e.detail.streamId, false));
const recording = (on) => {
  $('recording').hidden = !on;
  $('record').textContent = on ? 'Stop recording' : 'Start recording';
};
client.addEventListener('archive-started', () => recording(true));
client.addEventListener('archive-stopped', () => recording(false));
$('record').addEventListener('click', async () => {
  try {
    if (client.recording) await client.stopArchive(); else await client.startArchive();
  } catch (e) { state(`recording: ${e.code ?? ''} ${e.message}`, true); }
});
client.addEventListener('meeting-ended', (e) => state(`meeting ended (${e.detail.reason})`, true));
client.addEventListener('disconnected', (e) => state(`disconnected (${e.detail.reason})`, true));
client.addEventListener('error', (e) => state(`error: ${e.detail.code} — ${e.detail.message}`, true));

async function startCamera() {
  local = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 1280, height: 720 } });
  const t = tile('local', 'me');
  const video = t.querySelector('video');
  video.muted = true;
  video.srcObject = local;
  await client.publish(local);
}

$('publish').addEventListener('click', () => startCamera().catch((e) => state(e.message, true)));
$('leave').addEventListener('click', () => { client.leave(); state('left'); });
$('promote').addEventListener('click', async () => {
  try {
    const api = new WebinarApi(p.get('apiKey'));
    const speaker = await api.createAttendee(p.get('primaryMeetingId'), `${p.get('user')}-speaker`);
    const promoted = await client.promote(speaker.JoinToken);
    state(`promoted as ${promoted.externalUserId}`);
    $('promote').hidden = true;
    $('demote').hidden = false;
    await startCamera();
  } catch (e) { state(`promote failed: ${e.code ?? ''} ${e.message}`, true); }
});
// The node demotes on its own too: the primary attendee was deleted, or the primary's node refused the promotion just
// after `promoted` (reason 'primary-full' when the primary has its connection limit).
client.addEventListener('demoted', (e) => {
  if (e.detail.id !== undefined) return;
  local?.getTracks().forEach((t) => t.stop());
  document.getElementById('tile-local')?.remove();
  state(`demoted by the node: ${e.detail.reason}`, e.detail.reason !== 'requested');
  $('promote').hidden = false;
  $('demote').hidden = true;
});
$('demote').addEventListener('click', async () => {
  try {
    await client.demote();
    local?.getTracks().forEach((t) => t.stop());
    document.getElementById('tile-local')?.remove();
    state('demoted');
    $('promote').hidden = false;
    $('demote').hidden = true;
  } catch (e) { state(`demote failed: ${e.code ?? ''} ${e.message}`, true); }
});

try {
  await client.join(p.get('signalingUrl'), p.get('token'));
  if (p.get('moderator') === '1') { $('record').hidden = false; }
  if (role === 'presenter') { $('publish').hidden = false; }
  else if (p.get('primaryMeetingId') && p.get('apiKey')) { $('promote').hidden = false; }
} catch (e) {
  state(`refused: ${e.code} — ${e.message}`, true);
}
