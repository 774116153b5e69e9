// webinar.js — browser client for the Webinar SFU signalling protocol (docs/signaling.md).
// One WebSocket, one RTCPeerConnection (max-bundle, rtcp-mux). The client always offers; the node answers.
//
//   const client = new WebinarClient();
//   client.addEventListener('track', e => show(e.detail.stream, e.detail.attendee));
//   await client.join(signalingUrl, joinToken);   // the joined frame's iceServers (TURN) go to the RTCPeerConnection
//   new WebinarClient({ iceTransportPolicy: 'relay' }) only ever uses TURN relays (RTCConfiguration.iceTransportPolicy).
//   new WebinarClient({ preNegotiate: true }) pre-negotiates (docs/signaling.md, "Pre-negotiated slots"): it keeps spare
//     receive slots the node starts new speakers on without a renegotiation, and in a replica it offers send slots at
//     join, so after promote() publish() only attaches the tracks (replaceTrack) and demote() only detaches them.
//   await client.publish(await navigator.mediaDevices.getUserMedia({ audio: true, video: true }), { simulcast: true });
//     (a promoted client's pre-negotiated send slot carries one encoding)
//
// Events (CustomEvent, payload in event.detail):
//   joined {meetingId, attendeeId, externalUserId, primaryMeetingId, role, canPublish, attendees, streams, iceServers}
//   attendee-joined / attendee-left {attendeeId, externalUserId}
//   stream-added / stream-removed {streamId, attendeeId, externalUserId, kind}
//   track {stream: MediaStream, attendee: {attendeeId, externalUserId}, track, kind, streamId}
//   promoted {meetingId, attendeeId, externalUserId, canPublish} / demoted {reason} — a demoted may follow promoted at
//     once: the primary's node (another region) refused it (reason 'primary-full', 'already-connected', ...); tracks
//     attached to send slots are detached, and a re-offering publish() is refused by the node ('not-allowed')
//   meeting-ended {reason} / disconnected {reason, code} / error {code, message, id}
//   video-paused {streamId, reason:"bandwidth"} — this viewer's network cannot carry the stream's video now: audio
//     continues, show a notice on the tile; video-resumed {streamId} — it flows again. client.pausedVideo is the set.
//   connectionstatechange {state}
//   archive-started {archiveId} / archive-stopped {archiveId, reason} — a recording of the meeting runs / ended
//     (also right after joining while one runs); show an indicator. client.recording is the running archive id.
//
// Moderators (a join token created with Role: "Moderator") may call startArchive() / stopArchive(); anyone else is
// refused with error code 'not-allowed'.

// Simulcast encodings of a published video track, lowest first (the node reads the a=simulcast order as layer 0, 1, 2).
const SIMULCAST_ENCODINGS = [
  { rid: 'q', scaleResolutionDownBy: 4, maxBitrate: 150_000 },
  { rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 500_000 },
  { rid: 'f', scaleResolutionDownBy: 1, maxBitrate: 1_500_000 },
];

export class WebinarClient extends EventTarget {
  #ws = null;
  #pc = null;
  #joined = null;
  #pending = new Map();       // frame id -> {resolve, reject}
  #nextId = 1;
  #wanted = { audio: 1, video: 1 };
  #offering = null;          // the negotiation in flight (a promise), or null
  #offerAgain = false;
  #slots = new Map();         // mid -> slot
  #streams = new Map();       // streamId -> stream info
  #attendeeStreams = new Map(); // attendeeId -> MediaStream
  #senders = [];
  #closed = false;
  #iceTransportPolicy;
  #preNegotiate;
  #sendSlots = [];            // pre-negotiated send transceivers (replica, preNegotiate)
  #attached = [];             // send slots carrying a local track now
  #promoted = false;

  constructor({ iceTransportPolicy = 'all', preNegotiate = false } = {}) {
    super();
    this.#iceTransportPolicy = iceTransportPolicy;
    this.#preNegotiate = preNegotiate;
  }

  /** Members of the meeting (primary attendees), keyed by attendeeId. */
  attendees = new Map();

  get joinedInfo() { return this.#joined; }
  get peerConnection() { return this.#pc; }

  /** The id of the archive recording the meeting now, or null. */
  get recording() { return this.#recording; }

  /** Moderators: starts recording the meeting. Resolves with archive-started; rejects with the error frame's code. */
  startArchive() { return this.#archiveCommand('start-archive', 'archive-started'); }

  /** Moderators: stops the meeting's recording. Resolves with archive-stopped. */
  stopArchive() { return this.#archiveCommand('stop-archive', 'archive-stopped'); }

  /** Connects, joins with the token and starts the peer connection. Resolves with the joined frame. */
  join(signalingUrl, token) {
    if (this.#ws) throw new Error('already joined');
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(signalingUrl);
      this.#ws = ws;
      let settled = false;
      ws.onopen = () => this.#send(this.#preNegotiate ? { type: 'join', token, preNegotiate: true } : { type: 'join', token });
      ws.onmessage = (e) => {
        let frame;
        try { frame = JSON.parse(e.data); } catch { return; }
        if (!settled && frame.type === 'joined') { settled = true; this.#onJoined(frame); resolve(frame); return; }
        if (!settled && frame.type === 'error') {
          settled = true;
          const err = Object.assign(new Error(frame.message), { code: frame.code });
          this.#emit('error', frame);
          reject(err);
          return;
        }
        this.#onFrame(frame);
      };
      ws.onclose = (e) => {
        if (!settled) { settled = true; reject(Object.assign(new Error('connection closed'), { code: 'closed', closeCode: e.code })); }
        this.#onClose(e);
      };
      ws.onerror = () => { /* onclose follows */ };
    });
  }

  /**
   * Sends the tracks of a local MediaStream. A promoted pre-negotiating client attaches them to its send slots
   * (replaceTrack, no offer; one encoding each); otherwise sendonly transceivers are added and the client
   * renegotiates. With { simulcast: true } video goes out in simulcast (three VP8 encodings by RID, lowest first: a
   * quarter, half and full resolution) so the node can give every viewer the layer its network carries; without it,
   * one encoding. Simulcast is opt-in for now: when Chromium renegotiates a session whose earlier answer lacked the
   * RID extension it refuses its own offer (docs/signaling.md, "Simulcast").
   */
  async publish(stream, { simulcast = false } = {}) {
    this.#requireJoined();
    let added = false;
    for (const track of stream.getTracks()) {
      const slot = this.#promoted && this.#sendSlots.find((t) => t.receiver.track.kind === track.kind && !this.#attached.includes(t));
      if (slot) {
        await slot.sender.replaceTrack(track);
        // A demoted right after promoted (the primary's node refused: primary-full, ...) may have come meanwhile.
        if (!this.#promoted) { await slot.sender.replaceTrack(null); continue; }
        this.#attached.push(slot);
        continue;
      }
      const init = { direction: 'sendonly', streams: [stream] };
      if (simulcast && track.kind === 'video') init.sendEncodings = SIMULCAST_ENCODINGS.map(e => ({ ...e }));
      const t = this.#pc.addTransceiver(track, init);
      this.#senders.push(t);
      added = true;
    }
    if (added) return this.#negotiate();
  }

  /** Stops sending: tracks on send slots are detached (no offer); other send transceivers become inactive. */
  async unpublish() {
    this.#requireJoined();
    for (const t of this.#attached) await t.sender.replaceTrack(null);
    this.#attached = [];
    if (!this.#senders.length) return;
    for (const t of this.#senders) {
      await t.sender.replaceTrack(null);
      t.direction = 'inactive';
    }
    this.#senders = [];
    return this.#negotiate();
  }

  /** Stream ids whose video the node paused for this viewer's bandwidth (audio continues). */
  pausedVideo = new Set();

  /**
   * Caps the simulcast layer this viewer receives of one stream (0 = lowest), e.g. for a thumbnail. Resolves with the
   * node's preferred-layers frame; rejects with code 'unknown-stream' for a stream this viewer does not receive.
   */
  setPreferredLayers(streamId, spatialLayer, temporalLayer) {
    const frame = { type: 'set-preferred-layers', streamId, spatialLayer };
    if (temporalLayer !== undefined) frame.temporalLayer = temporalLayer;
    return this.#request(frame, 'preferred-layers');
  }

  /** Replica attendees only: speak in the primary with a primary attendee's join token. */
  promote(token) { return this.#request({ type: 'promote', token }, 'promoted'); }

  /** Undo promote: stop publishing and return to the audience. */
  async demote() {
    const frame = await this.#request({ type: 'demote' }, 'demoted');
    if (this.#senders.length || this.#attached.length) await this.unpublish();
    return frame;
  }

  /** Leaves the meeting and closes everything. */
  leave() {
    if (this.#ws && this.#ws.readyState === WebSocket.OPEN) this.#send({ type: 'leave' });
    this.#teardown();
  }

  // ---- internals -------------------------------------------------------------------------------

  #onJoined(frame) {
    this.#joined = frame;
    for (const a of frame.attendees) this.attendees.set(a.attendeeId, a);
    for (const s of frame.streams) this.#streams.set(s.streamId, s);
    // A pre-negotiating client keeps spareSlots idle receivers of each kind beyond the streams it receives.
    const spare = frame.preNegotiated ? frame.spareSlots : 0;
    this.#wanted = frame.preNegotiated
      ? { audio: count(frame.streams, 'audio') + spare, video: count(frame.streams, 'video') + spare }
      : { audio: Math.max(1, count(frame.streams, 'audio')), video: Math.max(1, count(frame.streams, 'video')) };
    const pc = new RTCPeerConnection({
      bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require',
      iceServers: frame.iceServers ?? [], iceTransportPolicy: this.#iceTransportPolicy,
    });
    this.#pc = pc;
    pc.onconnectionstatechange = () => this.#emit('connectionstatechange', { state: pc.connectionState });
    if (frame.preNegotiated && frame.role === 'replica') {
      // Send slots: negotiated now, silent until a promotion lets publish() attach tracks to them.
      this.#sendSlots = ['audio', 'video'].map((kind) => pc.addTransceiver(kind, { direction: 'sendonly' }));
    }
    this.#emit('joined', frame);
    for (const a of frame.attendees) this.#emit('attendee-joined', a);
    for (const s of frame.streams) this.#emit('stream-added', s);
    this.#negotiate().catch((e) => this.#emit('error', { code: 'negotiation-failed', message: String(e) }));
  }

  #onFrame(frame) {
    switch (frame.type) {
      case 'answer': return this.#settle(frame);
      case 'slots':
        // A stream started on (or left) a pre-negotiated receive slot: no offer, just the new map.
        return this.#applySlots(frame.slots);
      case 'promoted':
      case 'demoted':
        this.#promoted = frame.type === 'promoted';
        if (frame.type === 'demoted' && frame.id === undefined && (this.#senders.length || this.#attached.length)) this.unpublish().catch(() => {});
        this.#emit(frame.type, frame);
        return this.#settle(frame);
      case 'error':
        this.#emit('error', frame);
        return this.#settle(frame);
      case 'renegotiate':
        this.#wanted = { audio: frame.audio, video: frame.video };
        return void this.#negotiate().catch((e) => this.#emit('error', { code: 'negotiation-failed', message: String(e) }));
      case 'attendee-joined':
        this.attendees.set(frame.attendeeId, frame);
        return this.#emit(frame.type, frame);
      case 'attendee-left':
        this.attendees.delete(frame.attendeeId);
        return this.#emit(frame.type, frame);
      case 'stream-added':
        this.#streams.set(frame.streamId, frame);
        return this.#emit(frame.type, frame);
      case 'stream-removed':
        this.#streams.delete(frame.streamId);
        this.#dropTrack(frame.streamId);
        return this.#emit(frame.type, frame);
      case 'preferred-layers': return this.#settle(frame);
      case 'video-paused':
        this.pausedVideo.add(frame.streamId);
        return this.#emit(frame.type, frame);
      case 'video-resumed':
        this.pausedVideo.delete(frame.streamId);
        return this.#emit(frame.type, frame);
      case 'archive-started':
        this.#recording = frame.archiveId;
        return this.#emit(frame.type, frame);
      case 'archive-stopped':
        this.#recording = null;
        return this.#emit(frame.type, frame);
      case 'meeting-ended':
      case 'disconnected':
        this.#endReason = frame;
        return;
      default:
        return;
    }
  }

  #endReason = null;
  #recording = null;

  #archiveCommand(type, doneType) {
    this.#requireJoined();
    const id = String(this.#nextId++);
    return new Promise((resolve, reject) => {
      const done = (e) => { this.#pending.delete(id); resolve(e.detail); };
      this.addEventListener(doneType, done, { once: true });
      this.#pending.set(id, { resolve: () => {}, reject: (err) => { this.removeEventListener(doneType, done); reject(err); } });
      this.#send({ type, id });
    });
  }

  #onClose(e) {
    if (this.#closed) return;
    const end = this.#endReason;
    if (end && end.type === 'meeting-ended') this.#emit('meeting-ended', { reason: end.reason, code: e.code });
    else this.#emit('disconnected', { reason: end ? end.reason : (e.reason || 'closed'), code: e.code });
    for (const { reject } of this.#pending.values()) reject(new Error('connection closed'));
    this.#pending.clear();
    this.#teardown();
  }

  #teardown() {
    this.#closed = true;
    if (this.#pc) { this.#pc.close(); }
    if (this.#ws && this.#ws.readyState <= WebSocket.OPEN) this.#ws.close(1000);
  }

  // One negotiation at a time. A caller arriving while one is in flight gets that negotiation's promise, and the
  // loop offers once more so the caller's change (a new track, more receivers) is in an offer the node answered
  // before the promise settles; a refusal (e.g. not-allowed) rejects it.
  #negotiate() {
    if (!this.#pc || this.#closed) return Promise.resolve();
    if (this.#offering) { this.#offerAgain = true; return this.#offering; }
    this.#offering = (async () => {
      try {
        do {
          this.#offerAgain = false;
          this.#ensureReceivers();
          const offer = await this.#pc.createOffer();
          await this.#pc.setLocalDescription(offer);
          const answer = await this.#request({ type: 'offer', sdp: this.#pc.localDescription.sdp }, 'answer');
          await this.#pc.setRemoteDescription({ type: 'answer', sdp: answer.sdp });
          this.#applySlots(answer.slots);
        } while (this.#offerAgain && !this.#closed);
      } catch (e) {
        // A refused offer leaves the connection as it was before it.
        if (this.#pc && this.#pc.signalingState === 'have-local-offer') {
          try { await this.#pc.setLocalDescription({ type: 'rollback' }); } catch { /* closed meanwhile */ }
        }
        throw e;
      } finally {
        this.#offering = null;
      }
    })();
    return this.#offering;
  }

  #ensureReceivers() {
    for (const kind of ['audio', 'video']) {
      const have = this.#pc.getTransceivers().filter((t) => t.direction === 'recvonly' && t.receiver.track.kind === kind).length;
      for (let i = have; i < this.#wanted[kind]; i++) this.#pc.addTransceiver(kind, { direction: 'recvonly' });
    }
  }

  #applySlots(slots) {
    const previous = this.#slots;
    this.#slots = new Map(slots.map((s) => [s.mid, s]));
    for (const [mid, old] of previous) {
      const now = this.#slots.get(mid);
      if (!now || now.streamId !== old.streamId) this.#dropTrack(old.streamId);
    }
    for (const slot of slots) {
      const t = this.#pc.getTransceivers().find((x) => x.mid === slot.mid);
      if (!t) continue;
      const track = t.receiver.track;
      let stream = this.#attendeeStreams.get(slot.attendeeId);
      if (!stream) { stream = new MediaStream(); this.#attendeeStreams.set(slot.attendeeId, stream); }
      if (stream.getTracks().includes(track)) continue;
      for (const other of stream.getTracks().filter((x) => x.kind === track.kind)) stream.removeTrack(other);
      stream.addTrack(track);
      this.#emit('track', {
        stream, track, kind: slot.kind, streamId: slot.streamId,
        attendee: { attendeeId: slot.attendeeId, externalUserId: slot.externalUserId },
      });
    }
  }

  #dropTrack(streamId) {
    for (const [mid, slot] of this.#slots) {
      if (slot.streamId !== streamId) continue;
      const t = this.#pc && this.#pc.getTransceivers().find((x) => x.mid === mid);
      const stream = this.#attendeeStreams.get(slot.attendeeId);
      if (t && stream) stream.removeTrack(t.receiver.track);
      this.#slots.delete(mid);
    }
  }

  #request(frame, replyType) {
    this.#requireJoined();
    const id = String(this.#nextId++);
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, replyType });
      this.#send({ ...frame, id });
    });
  }

  #settle(frame) {
    if (frame.id === undefined) return;
    const p = this.#pending.get(String(frame.id));
    if (!p) return;
    this.#pending.delete(String(frame.id));
    if (frame.type === 'error') p.reject(Object.assign(new Error(frame.message), { code: frame.code }));
    else p.resolve(frame);
  }

  #send(frame) { this.#ws.send(JSON.stringify(frame)); }

  #requireJoined() { if (!this.#joined || this.#closed) throw new Error('not joined'); }

  #emit(type, detail) { this.dispatchEvent(new CustomEvent(type, { detail })); }
}

function count(streams, kind) { return streams.filter((s) => s.kind === kind).length; }
