#!/usr/bin/python3
"""A GStreamer webrtcbin peer with stock settings, driven over stdin/stdout by the end-to-end tests.

    webrtcbin_peer.py publish   videotestsrc -> vp8enc and audiotestsrc -> opusenc, sendonly
    webrtcbin_peer.py receive   one recvonly audio and one recvonly video transceiver, decoded and counted

The peer always offers (as the node wants). One JSON object per line:
  out: {"type":"offer","sdp":...}   {"type":"state","ice":...,"connection":...}
       {"type":"stats","videoFrames":n,"audioBuffers":n}   {"type":"error","message":...}
  in:  {"type":"answer","sdp":...}  {"type":"offer"} (renegotiate: offer again)  {"type":"quit"}
webrtcbin runs with its defaults apart from bundle-policy=max-bundle (what a browser client of the node uses).
"""
import json
import sys
import threading

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstSdp", "1.0")
gi.require_version("GstWebRTC", "1.0")
from gi.repository import GLib, Gst, GstSdp, GstWebRTC  # noqa: E402

Gst.init(None)
MODE = sys.argv[1] if len(sys.argv) > 1 else "publish"
out_lock = threading.Lock()
counts = {"video": 0, "audio": 0}


def emit(obj):
    with out_lock:
        try:
            sys.stdout.write(json.dumps(obj) + "\n")
            sys.stdout.flush()
        except BrokenPipeError:
            pass


if MODE == "publish":
    pipeline = Gst.parse_launch(
        "webrtcbin name=webrtc bundle-policy=max-bundle "
        "videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=30/1 ! videoconvert "
        "! vp8enc deadline=1 cpu-used=8 keyframe-max-dist=60 target-bitrate=300000 ! rtpvp8pay pt=96 "
        "! application/x-rtp,media=video,encoding-name=VP8,payload=96,clock-rate=90000 ! webrtc. "
        "audiotestsrc is-live=true wave=sine freq=440 ! audioconvert ! audioresample ! opusenc ! rtpopuspay pt=111 "
        "! application/x-rtp,media=audio,encoding-name=OPUS,payload=111,clock-rate=48000 ! webrtc. ")
    webrtc = pipeline.get_by_name("webrtc")
elif MODE == "receive":
    pipeline = Gst.Pipeline.new("receiver")
    webrtc = Gst.ElementFactory.make("webrtcbin", "webrtc")
    webrtc.set_property("bundle-policy", GstWebRTC.WebRTCBundlePolicy.MAX_BUNDLE)
    pipeline.add(webrtc)
    for caps in ("application/x-rtp,media=audio,encoding-name=OPUS,payload=111,clock-rate=48000",
                 "application/x-rtp,media=video,encoding-name=VP8,payload=96,clock-rate=90000"):
        webrtc.emit("add-transceiver", GstWebRTC.WebRTCRTPTransceiverDirection.RECVONLY, Gst.Caps.from_string(caps))
else:
    sys.exit("mode must be publish or receive")


def on_decoded_pad(_decodebin, pad):
    name = pad.get_current_caps().get_structure(0).get_name()
    kind = "video" if name.startswith("video") else "audio"
    sink = Gst.ElementFactory.make("fakesink")
    sink.set_property("sync", False)
    sink.set_property("signal-handoffs", True)
    sink.connect("handoff", lambda *_: counts.__setitem__(kind, counts[kind] + 1))
    pipeline.add(sink)
    sink.sync_state_with_parent()
    pad.link(sink.get_static_pad("sink"))


def on_incoming_pad(_webrtc, pad):
    if pad.direction != Gst.PadDirection.SRC:
        return
    decodebin = Gst.ElementFactory.make("decodebin")
    decodebin.connect("pad-added", on_decoded_pad)
    pipeline.add(decodebin)
    decodebin.sync_state_with_parent()
    pad.link(decodebin.get_static_pad("sink"))


def offer():
    def on_offer(promise, _):
        reply = promise.get_reply()
        if reply is None or reply.get_value("offer") is None:
            emit({"type": "error", "message": "create-offer failed"})
            return
        description = reply.get_value("offer")
        webrtc.emit("set-local-description", description, Gst.Promise.new())
        emit({"type": "offer", "sdp": description.sdp.as_text()})

    webrtc.emit("create-offer", None, Gst.Promise.new_with_change_func(on_offer, None))
    return False


def answer(sdp_text):
    result, message = GstSdp.SDPMessage.new_from_text(sdp_text)
    if result != GstSdp.SDPResult.OK:
        emit({"type": "error", "message": "answer does not parse"})
        return False
    description = GstWebRTC.WebRTCSessionDescription.new(GstWebRTC.WebRTCSDPType.ANSWER, message)

    def on_set(promise, _):
        promise.wait()
        reply = promise.get_reply()
        if reply is not None and reply.has_field("error"):
            emit({"type": "error", "message": "set-remote-description: " + str(reply.get_value("error"))})
        else:
            emit({"type": "answered"})
            GLib.idle_add(lambda: pipeline.set_state(Gst.State.PLAYING) and False)

    webrtc.emit("set-remote-description", description, Gst.Promise.new_with_change_func(on_set, None))
    return False


def on_state(*_):
    emit({"type": "state", "ice": webrtc.get_property("ice-connection-state").value_nick,
          "connection": webrtc.get_property("connection-state").value_nick})


def report():
    emit({"type": "stats", "videoFrames": counts["video"], "audioBuffers": counts["audio"]})
    return True


def read_stdin(loop):
    for line in iter(sys.stdin.readline, ""):
        line = line.strip()
        if not line:
            continue
        command = json.loads(line)
        if command["type"] == "answer":
            GLib.idle_add(answer, command["sdp"])
        elif command["type"] == "offer":
            GLib.idle_add(offer)
        elif command["type"] == "quit":
            break
    GLib.idle_add(loop.quit)


def on_message(_bus, message, loop):
    if message.type == Gst.MessageType.ERROR:
        error, debug = message.parse_error()
        emit({"type": "error", "message": f"{error.message} ({debug})"})
        loop.quit()


loop = GLib.MainLoop()
if MODE == "receive":
    webrtc.connect("on-negotiation-needed", lambda *_: offer())  # at once, as the GStreamer examples do
webrtc.connect("pad-added", on_incoming_pad)
webrtc.connect("notify::ice-connection-state", on_state)
webrtc.connect("notify::connection-state", on_state)
bus = pipeline.get_bus()
bus.add_signal_watch()
bus.connect("message", on_message, loop)
# The publisher offers before its encoders made a frame (the pipeline is paused: its live sources produce nothing
# yet), so its offer names no SSRC, as a webrtcbin application that offers at once does; it plays once answered.
pipeline.set_state(Gst.State.PAUSED if MODE == "publish" else Gst.State.PLAYING)
if MODE == "publish":
    GLib.idle_add(offer)
GLib.timeout_add_seconds(1, report)
threading.Thread(target=read_stdin, args=(loop,), daemon=True).start()
loop.run()
pipeline.set_state(Gst.State.NULL)
