//! The RTSP server: gst-rtsp-server on its own GLib main loop, fed the
//! annotated H.264 over loopback RTP by the output pipeline.

use std::net::UdpSocket;
use std::thread::JoinHandle;

use gstreamer::glib;
use gstreamer_rtsp_server as rtsp;
use gstreamer_rtsp_server::prelude::*;

use crate::{MediaError, describe};

/// A free UDP port on loopback, for the RTSP server's feed.
pub fn free_udp_port() -> Result<u16, MediaError> {
    UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .map_err(|err| MediaError::Output(format!("no free loopback port for the RTSP feed: {err}")))
}

/// Serves the loopback RTP feed over RTSP from its own GLib main loop.
pub(crate) fn serve_rtsp(port: u16, path: &str, feed: u16) -> Result<(glib::MainLoop, JoinHandle<()>), MediaError> {
    let context = glib::MainContext::new();
    let main_loop = glib::MainLoop::new(Some(&context), false);
    let server = rtsp::RTSPServer::new();
    server.set_service(&port.to_string());
    let factory = rtsp::RTSPMediaFactory::new();
    factory.set_launch(&describe::rtsp_serve(feed));
    factory.set_shared(true);
    server
        .mount_points()
        .ok_or_else(|| MediaError::Output("RTSP server has no mount points".into()))?
        .add_factory(path, factory);
    server
        .attach(Some(&context))
        .map_err(|err| MediaError::Output(format!("cannot serve RTSP on port {port}: {err}")))?;
    let running = main_loop.clone();
    let thread = std::thread::Builder::new()
        .name("rtsp".into())
        .spawn(move || {
            let _guard = context.acquire();
            running.run();
        })
        .map_err(|err| MediaError::Output(err.to_string()))?;
    Ok((main_loop, thread))
}
