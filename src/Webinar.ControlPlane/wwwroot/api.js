// Minimal client for the control plane's HTTP API (docs/api.md), used by the demo pages.
export class WebinarApi {
  constructor(apiKey, base = '') { this.apiKey = apiKey; this.base = base; }

  async #call(method, path, body) {
    const res = await fetch(this.base + path, {
      method,
      headers: { Authorization: `Bearer ${this.apiKey}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    const json = text ? JSON.parse(text) : null;
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${json?.Code ?? ''} ${json?.Message ?? text}`);
    return json;
  }

  createMeeting(mediaRegion, primaryMeetingId, externalMeetingId) {
    return this.#call('POST', '/meetings', {
      ClientRequestToken: crypto.randomUUID(), MediaRegion: mediaRegion,
      ExternalMeetingId: externalMeetingId, ...(primaryMeetingId ? { PrimaryMeetingId: primaryMeetingId } : {}),
    }).then((r) => r.Meeting);
  }

  createAttendee(meetingId, externalUserId, capabilities, role) {
    return this.#call('POST', `/meetings/${meetingId}/attendees`, {
      ExternalUserId: externalUserId, ...(capabilities ? { Capabilities: capabilities } : {}), ...(role ? { Role: role } : {}),
    })
      .then((r) => r.Attendee);
  }

  deleteAttendee(meetingId, attendeeId) { return this.#call('DELETE', `/meetings/${meetingId}/attendees/${attendeeId}`); }

  deleteMeeting(meetingId) { return this.#call('DELETE', `/meetings/${meetingId}`); }

  operationsOverview() { return this.#call('GET', '/operations/overview'); }
}

export const audienceCapabilities = { Audio: 'Receive', Video: 'Receive', Content: 'Receive' };
