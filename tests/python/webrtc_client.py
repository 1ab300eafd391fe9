# gst-trickle
# Copyright (C) 2026 gst-trickle developers
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# WHIP and WHEP clients made of GStreamer's webrtcbin (not the gateway's
# code): the tests' and the benchmark's second client beside Chromium.
# Non-trickle ICE: the offer is sent once gathering is complete.
import threading
import urllib.error
import urllib.request

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstSdp", "1.0")
gi.require_version("GstWebRTC", "1.0")
from gi.repository import Gst, GstSdp, GstWebRTC  # noqa: E402

WAIT_S = 60  # a bound for failures on a loaded machine, not a timing


def http(method, url, body=None, ctype=None, token=None):
    """(status, headers, body) of one request; never raises for a status"""
    req = urllib.request.Request(url, method=method, data=body)
    if ctype:
        req.add_header("Content-Type", ctype)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=WAIT_S) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


class Client:
    """a webrtcbin in a pipeline, negotiated against a WHIP/WHEP URL"""

    def __init__(self, pipeline):
        self.pipeline = Gst.parse_launch(pipeline)
        if not isinstance(self.pipeline, Gst.Pipeline):  # one element
            element, self.pipeline = self.pipeline, Gst.Pipeline.new()
            self.pipeline.add(element)
        self.webrtc = self.pipeline.get_by_name("webrtc")
        self.gathered = threading.Event()
        self.connected = threading.Event()
        self.failed = threading.Event()
        self.location = None
        self.negotiation_needed = threading.Event()
        self.webrtc.connect("on-negotiation-needed",
                            lambda w: self.negotiation_needed.set())
        self.webrtc.connect("notify::ice-gathering-state", self._gathering)
        self.webrtc.connect("notify::ice-connection-state", self._ice)

    def _gathering(self, webrtc, pspec):
        if (webrtc.props.ice_gathering_state ==
                GstWebRTC.WebRTCICEGatheringState.COMPLETE):
            self.gathered.set()

    def _ice(self, webrtc, pspec):
        state = webrtc.props.ice_connection_state
        if state in (GstWebRTC.WebRTCICEConnectionState.CONNECTED,
                     GstWebRTC.WebRTCICEConnectionState.COMPLETED):
            self.connected.set()
        elif state == GstWebRTC.WebRTCICEConnectionState.FAILED:
            self.failed.set()

    def _offer(self):
        # webrtcbin asks once it knows what its pads carry
        if not self.negotiation_needed.wait(WAIT_S):
            raise RuntimeError("webrtcbin never asked for a negotiation")
        promise = Gst.Promise.new()
        self.webrtc.emit("create-offer", None, promise)
        promise.wait()
        reply = promise.get_reply()  # kept: the offer lives in it
        offer = reply.get_value("offer")
        self.webrtc.emit("set-local-description", offer, None)
        if not self.gathered.wait(WAIT_S):
            raise RuntimeError("ICE gathering never completed")
        return self.webrtc.props.local_description.sdp.as_text()

    def start(self, url, token=None):
        """POSTs the offer: (status, headers, body); on 201 the answer is set"""
        self.pipeline.set_state(Gst.State.PLAYING)
        offer = self._offer()
        status, headers, body = http("POST", url, offer.encode(),
                                     "application/sdp", token)
        if status == 201:
            self.location = headers.get("Location")
            ok, sdp = GstSdp.SDPMessage.new_from_text(body.decode())
            answer = GstWebRTC.WebRTCSessionDescription.new(
                GstWebRTC.WebRTCSDPType.ANSWER, sdp)
            promise = Gst.Promise.new()
            self.webrtc.emit("set-remote-description", answer, promise)
            promise.wait()
        return status, headers, body

    def stop(self):
        self.pipeline.set_state(Gst.State.NULL)


class Publisher(Client):
    """H.264 (test pattern) and Opus (a tone), sent only; one slice per
    frame, as browsers send: SPS/PPS repeated before every slice of a
    keyframe (config-interval=-1 over sliced x264) would start a new
    access unit mid-frame (H.264 7.4.1.2.3)"""

    def __init__(self, video=True, audio=True, width=320, height=240):
        parts = ["webrtcbin name=webrtc bundle-policy=max-bundle"]
        if video:
            parts.append(
                "videotestsrc is-live=true pattern=ball ! video/x-raw,"
                "width=%d,height=%d,framerate=30/1 ! videoconvert ! "
                "x264enc tune=zerolatency sliced-threads=false "
                "speed-preset=ultrafast bframes=0 key-int-max=300 ! "
                "video/x-h264,profile=constrained-baseline "
                "! rtph264pay config-interval=-1 aggregate-mode=zero-latency "
                "! application/x-rtp,media=video,encoding-name=H264,"
                "clock-rate=90000,payload=96 ! webrtc." % (width, height))
        if audio:
            parts.append(
                "audiotestsrc is-live=true wave=sine freq=440 ! "
                "audio/x-raw,rate=48000,channels=2 ! opusenc ! rtpopuspay ! "
                "application/x-rtp,media=audio,encoding-name=OPUS,"
                "clock-rate=48000,payload=111 ! webrtc.")
        super().__init__(" ".join(parts))
        for t in self._transceivers():
            t.props.direction = GstWebRTC.WebRTCRTPTransceiverDirection.SENDONLY

    def _transceivers(self):
        out, i = [], 0
        while True:
            t = self.webrtc.emit("get-transceiver", i)
            if t is None:
                return out
            out.append(t)
            i += 1


class Viewer(Client):
    """receives H.264 and Opus, decodes them, counts frames and audio"""

    def __init__(self, video=True, audio=True):
        super().__init__("webrtcbin name=webrtc bundle-policy=max-bundle")
        self.frames = 0
        self.audio_buffers = 0
        self.audio_peak = 0.0
        self.video_caps = None
        self.first_frame = threading.Event()
        self.first_audio = threading.Event()
        self._lock = threading.Lock()
        recv = GstWebRTC.WebRTCRTPTransceiverDirection.RECVONLY
        if video:
            self.webrtc.emit("add-transceiver", recv, Gst.Caps.from_string(
                "application/x-rtp,media=video,encoding-name=H264,"
                "clock-rate=90000,payload=102,packetization-mode=(string)1,"
                "profile-level-id=(string)42e01f"))
        if audio:
            self.webrtc.emit("add-transceiver", recv, Gst.Caps.from_string(
                "application/x-rtp,media=audio,encoding-name=OPUS,"
                "clock-rate=48000,payload=111"))
        self.webrtc.connect("pad-added", self._pad_added)

    def _pad_added(self, webrtc, pad):
        if pad.get_direction() != Gst.PadDirection.SRC:
            return
        media = pad.get_current_caps().get_structure(0).get_string("media")
        if media == "video":
            desc = ("rtph264depay ! avdec_h264 ! videoconvert ! "
                    "fakesink name=vsink sync=false signal-handoffs=true")
        else:
            desc = ("rtpopusdepay ! opusdec ! audioconvert ! "
                    "audio/x-raw,format=F32LE ! fakesink name=asink "
                    "sync=false signal-handoffs=true")
        bin_ = Gst.parse_bin_from_description(desc, True)
        sink = bin_.get_by_name("vsink" if media == "video" else "asink")
        sink.connect("handoff", self._video if media == "video"
                     else self._audio)
        self.pipeline.add(bin_)
        bin_.sync_state_with_parent()
        pad.link(bin_.get_static_pad("sink"))

    def _video(self, sink, buf, pad):
        with self._lock:
            self.frames += 1
            if self.video_caps is None:
                self.video_caps = pad.get_current_caps().to_string()
        self.first_frame.set()

    def _audio(self, sink, buf, pad):
        import struct
        ok, info = buf.map(Gst.MapFlags.READ)
        if ok:
            n = info.size // 4
            peak = max((abs(x) for x in struct.unpack("<%df" % n,
                                                      info.data[:n * 4])),
                       default=0.0)
            buf.unmap(info)
            with self._lock:
                self.audio_buffers += 1
                self.audio_peak = max(self.audio_peak, peak)
            if peak > 0.05:
                self.first_audio.set()
